"""How the fault matrix judges one run: caught, missed, or an error of the suite.

Synthetic runs, no server: the judgement itself is what is under test.
"""

from __future__ import annotations

from qbtsuite.results.model import RequirementCheck, TestRecord, ThrottleAnswer
from qbtsuite.results.outcomes import Outcome
from qbtsuite.selftest.matrix import (
    INCOMPLETE,
    FaultPlan,
    Row,
    RunResult,
    judged_on_throttle,
)

THROTTLED = FaultPlan(
    "rate.throttle_everything", "rate-limits", (), (), None, (), INCOMPLETE
)
BREAKS = FaultPlan("auth.x", "auth", ("AUTH-001",), (), None, ("auth",))


def _run(exit_code: int, outcomes: dict[str, str], judged: int = 0) -> RunResult:
    typed = {rid: Outcome(o) for rid, o in outcomes.items()}
    result = RunResult(THROTTLED.name, (), exit_code, 1.0, typed)
    result.judged_on_throttle = [f"t.py::test_{i}" for i in range(judged)]
    return result


def test_an_incomplete_run_with_no_verdict_on_throttled_answers_catches_the_fault() -> (
    None
):
    run = _run(4, {"AUTH-001": "pass", "MODEL-001": "error"})
    assert Row(THROTTLED, run).status == "caught"


def test_a_fault_expected_incomplete_is_missed_by_a_conformant_or_failing_run() -> None:
    assert Row(THROTTLED, _run(0, {"MODEL-001": "pass"})).status == "missed"
    assert Row(THROTTLED, _run(1, {"MODEL-001": "fail"})).status == "missed"
    assert Row(THROTTLED, _run(4, {"MODEL-001": "warn"})).status == "missed"


def test_a_verdict_resting_on_a_throttled_answer_misses_the_fault() -> None:
    run = _run(4, {"MODEL-001": "error"}, judged=1)
    assert Row(THROTTLED, run).status == "missed"


def test_errors_are_still_an_error_for_a_fault_expected_to_fail_requirements() -> None:
    run = RunResult(BREAKS.name, ("auth",), 4, 1.0, {"AUTH-001": Outcome.ERROR})
    assert Row(BREAKS, run).status == "error"


def _test(outcome: str, resolved: bool) -> TestRecord:
    answer = ThrottleAnswer(
        "main", "GET", "/v1/models", 429, None, 1.0, 0.0, resolved, ""
    )
    checks = {"MODEL-001": RequirementCheck(Outcome(outcome))}
    return TestRecord(
        "t", "models", "models", "local", Outcome(outcome), "", checks, "", 0.0,
        throttle=(answer,),
    )  # fmt: skip


def test_verdicts_on_throttles_not_waited_out_are_found_in_the_results() -> None:
    tests = {
        "a.py::test_judged": _test("pass", resolved=False),
        "a.py::test_error": _test("error", resolved=False),
        "a.py::test_waited": _test("fail", resolved=True),
    }
    assert judged_on_throttle(tests) == ["a.py::test_judged"]
