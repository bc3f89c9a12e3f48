"""Run folders: one name format for ``qbtsuite run`` and ``qbtsuite load``.

``--output DIR`` is the exact run folder for both commands; without it a fresh
folder ``<UTC YYYYmmddTHHMMSSZ>-<label>`` is made under ``--reports-dir`` (default
``reports/``), with ``-2``, ``-3``… when two runs start in the same second. The
label is the profile for a conformance run (``20261203T101500Z-smoke``) and
``load-<profile>`` for a load run (``20261203T101500Z-load-smoke``).
"""

from __future__ import annotations

import time
from pathlib import Path

from qbtsuite.errors import ConfigError

__all__ = ["STAMP_FORMAT", "fresh_run_dir", "run_folder_name"]

STAMP_FORMAT = "%Y%m%dT%H%M%SZ"  # UTC, sorts by time, no ':' (Windows-safe)


def run_folder_name(label: str, epoch: float | None = None) -> str:
    """``<UTC stamp>-<label>`` for the instant ``epoch`` (default: now)."""
    return f"{time.strftime(STAMP_FORMAT, time.gmtime(epoch))}-{label}"


def fresh_run_dir(reports_dir: Path, label: str) -> Path:
    """Create and return a new folder ``reports_dir/<UTC stamp>-<label>[-N]``."""
    base = run_folder_name(label)
    candidate, n = reports_dir / base, 1
    while True:
        try:
            candidate.mkdir(parents=True)
            return candidate.resolve()
        except FileExistsError:
            n += 1
            candidate = reports_dir / f"{base}-{n}"
        except OSError as exc:
            raise ConfigError(
                f"cannot create the run folder in {reports_dir}: {exc.strerror}"
            ) from None
