"""How the reports of a load run stopped by SIGTERM or SIGINT say so.

``load.json`` then holds ``interrupted``: the signal, when (``at_s`` after the test's
t0, ``at`` in epoch seconds) and the planned length (``planned_s``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["interruption_text"]


def interruption_text(report: dict[str, Any]) -> str | None:
    """What an interrupted run's reports say about it (None: it was not)."""
    stopped = report.get("interrupted")
    if not stopped:
        return None
    at = "" if stopped.get("at_s") is None else f" at {stopped['at_s']:.1f} s"
    return (
        f"by {stopped['signal']}{at} of {stopped['planned_s']:g} s: the figures are "
        "of the requests sent until then; SLOs and checks are not judged."
    )
