"""The fault matrix (README.md, 'The fault matrix'): the suite's verdicts are right.

The clean reference server passes every requirement; with each fault switched on,
the suite fails every requirement the fault declares and nothing outside its
declared collateral, or, for a fault that leaves nothing to judge, ends incomplete. ``qbtsuite selftest`` prints the same matrix as a table.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qbtsuite.selftest.matrix import (
    INCOMPLETE,
    FaultPlan,
    Row,
    plan_faults,
    run_suite,
)

PLANS = plan_faults()

# Each case is a whole suite run against a server of its own.
pytestmark = pytest.mark.slow


def test_the_clean_reference_server_fails_no_requirement(tmp_path: Path) -> None:
    run = run_suite(None, (), tmp_path / "clean")
    assert not run.problem, run.problem
    assert run.exit_code == 0, f"exit {run.exit_code}"
    assert not run.failing, f"failing on the clean server: {sorted(run.failing)}"
    assert not run.errors, f"errors on the clean server: {sorted(run.errors)}"


@pytest.mark.parametrize("plan", PLANS, ids=[p.name for p in PLANS])
def test_fault_fails_exactly_its_declared_requirements(
    plan: FaultPlan, tmp_path: Path
) -> None:
    row = Row(plan, run_suite(plan.name, plan.areas, tmp_path / "run"))
    assert not row.run.problem, row.run.problem
    if plan.expects == INCOMPLETE:
        assert row.status == "caught", (
            f"Received: exit {row.run.exit_code}, failing {sorted(row.run.failing)}, "
            f"verdicts on throttled answers {row.run.judged_on_throttle}; "
            "Expected: exit 4, nothing failing, no verdict on a throttled answer"
        )
        return
    assert not row.run.errors, f"suite errors: {sorted(row.run.errors)}"
    if plan.invisible_because is None:
        assert not row.missed, (
            f"missed: {row.missed} (failing: {sorted(row.run.failing)})"
        )
        assert row.run.exit_code == 1, f"exit {row.run.exit_code}, expected 1"
    assert not row.unexplained, f"unexplained collateral failures: {row.unexplained}"
