"""The terminal says what the run waited and, when it could not wait enough, what to
set: the main key's declared limit or a longer wait bound (or credit, for a 402)."""

from __future__ import annotations

from qbtsuite.reporting.throttle import pace_estimate, throttle_lines
from qbtsuite.results.model import (
    RunFacts,
    RunResults,
    TargetSummary,
    TestRecord,
    ThrottleAnswer,
)
from qbtsuite.results.outcomes import Outcome, Verdict
from qbtsuite.results.throttle import throttle_totals


def _results(*records: TestRecord, main_key_rpm: int | None = None) -> RunResults:
    target = TargetSummary("https://gw.test/v1", main_key_rpm=main_key_rpm)
    facts = RunFacts(
        "0", "full", "", "", 0.0, target, throttle=throttle_totals(records, target)
    )
    return RunResults(facts, False, {}, {}, Verdict.INCOMPLETE, {}, (), {})


def _test(nodeid: str, *events: ThrottleAnswer, paced: float = 0.0) -> TestRecord:
    return TestRecord(
        nodeid, "models", "models", "local", Outcome.PASS, "", {}, "", 0.0,
        throttle=events, paced=paced,
    )  # fmt: skip


def _event(
    role: str, status: int, resolved: bool, waited: float = 0.0
) -> ThrottleAnswer:
    return ThrottleAnswer(
        role, "GET", "/v1/models", status, None, None, waited, resolved, ""
    )


def test_a_run_that_was_never_throttled_says_nothing() -> None:
    assert throttle_lines(_results(_test("a"))) == []
    assert throttle_lines(_results()) == []


def test_waits_and_pacing_are_totalled_for_the_run() -> None:
    results = _results(
        _test("a", _event("main", 429, True, 21.0), paced=40.0),
        _test("b", _event("second", 429, True, 9.0), paced=50.0),
        main_key_rpm=3,
    )
    assert throttle_lines(results) == [
        "throttle waited 30 s out for 2 throttle answer(s), each request sent again",
        "pace     90 s spacing the main key's requests (QBTSUITE_MAIN_KEY_RPM=3)",
    ]


def test_an_undeclared_main_key_limit_is_named_as_the_setting_to_give() -> None:
    line = throttle_lines(_results(_test("a", _event("main", 429, False))))[-1]
    assert line == (
        "throttled the main key answered 429 past what the run may wait: 1 test(s) "
        "could not be judged (error); declare its limit with "
        "QBTSUITE_MAIN_KEY_RPM=<requests per minute> (--main-key-rpm) or raise "
        "--max-throttle-wait (now 120 s)"
    )


def test_a_declared_limit_still_reached_is_to_be_lowered() -> None:
    results = _results(_test("a", _event("main", 429, False)), main_key_rpm=30)
    assert "lower QBTSUITE_MAIN_KEY_RPM (now 30)" in throttle_lines(results)[-1]


def test_another_key_throttled_asks_for_a_longer_wait_only() -> None:
    line = throttle_lines(_results(_test("a", _event("second", 429, False))))[-1]
    assert line.startswith("throttled the second key answered 429")
    assert line.endswith("raise --max-throttle-wait (now 120 s)")


def test_a_402_asks_for_credit_not_for_waiting() -> None:
    line = throttle_lines(_results(_test("a", _event("main", 402, False))))[-1]
    assert line == (
        "throttled the main key answered 402 (no credit left): 1 test(s) could not "
        "be judged (error); top up its credit"
    )


def test_the_pacing_estimate_counts_the_minutes_the_plan_takes() -> None:
    assert pace_estimate(3, 183) == (
        "the main key's requests are spaced to 3 per minute "
        "(QBTSUITE_MAIN_KEY_RPM): up to 60 min for the 183 planned requests"
    )
    assert "up to 2.6 h" in pace_estimate(3, 467)
