"""The ``--dry-run`` listing: planned requests and spend per area, and in total."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["render_plan"]

_LIST_TESTS_UP_TO = 40


def _row(name: str, values: Mapping[str, Any]) -> str:
    return (
        f"{name:<44.44}{int(values.get('tests', 1)):>7}{values['requests']:>10.0f}"
        f"{values['tokens']:>10.0f}{values['images']:>8.0f}{values['audio_seconds']:>10.1f}"
    )


def render_plan(plan: Mapping[str, Any]) -> str:
    """A table of what the selected tests would send (nothing has been sent)."""
    head = f"{'area / test':<44}{'tests':>7}{'requests':>10}{'tokens':>10}{'images':>8}{'audio s':>10}"
    lines = [head, "─" * len(head)]
    tests = plan.get("tests", [])
    for area, values in plan.get("areas", {}).items():
        lines.append(_row(area, values))
        if len(tests) <= _LIST_TESTS_UP_TO:
            for test in (t for t in tests if t["area"] == area):
                name = "  " + str(test["nodeid"]).split("::", 1)[-1]
                lines.append(_row(name, test))
    lines += ["─" * len(head), _row("total", plan["totals"])]
    undeclared = int(plan.get("undeclared", 0))
    if undeclared:
        lines.append(
            f"{undeclared} test(s) declare no spend; each is counted as 1 request"
        )
    return "\n".join(lines)
