"""The ``--dry-run`` listing: planned requests and spend per area, and in total."""

from __future__ import annotations

from qbtsuite.results.plan import Plan, Spend

__all__ = ["render_plan"]

_LIST_TESTS_UP_TO = 40


def _row(name: str, tests: int, spend: Spend) -> str:
    return (
        f"{name:<44.44}{tests:>7}{spend.requests:>10.0f}"
        f"{spend.tokens:>10.0f}{spend.images:>8.0f}{spend.audio_seconds:>10.1f}"
    )


def render_plan(plan: Plan) -> str:
    """A table of what the selected tests would send (nothing has been sent)."""
    head = f"{'area / test':<44}{'tests':>7}{'requests':>10}{'tokens':>10}{'images':>8}{'audio s':>10}"
    chosen = f"profile {plan.profile or '?'} · {plan.selection.describe()}"
    lines = [chosen, "", head, "─" * len(head)]
    tests = plan.tests
    for area, tally in plan.areas.items():
        lines.append(_row(area, tally.tests, tally.spend))
        if len(tests) <= _LIST_TESTS_UP_TO:
            for test in (t for t in tests if t.area == area):
                name = "  " + test.nodeid.split("::", 1)[-1]
                lines.append(_row(name, 1, test.spend))
    lines += ["─" * len(head), _row("total", plan.totals.tests, plan.totals.spend)]
    undeclared = plan.undeclared
    if undeclared:
        lines.append(
            f"{undeclared} test(s) declare no spend; each is counted as 1 request"
        )
    return "\n".join(lines)
