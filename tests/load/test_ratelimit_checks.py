"""The limiter scenario and its checks against a simulated target (no network).

The simulated target decides with the reference server's own limiter parts — the
clean sliding log, or a limiter fault applied to them — on a virtual clock, so the
whole scenario runs in milliseconds, at many clock phases and network jitters.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from qbtsuite.loadtest.ratelimit.judge import judge
from qbtsuite.loadtest.ratelimit.scenario import run_scenario
from qbtsuite.loadtest.ratelimit.settings import RateLimitSettings
from qbtsuite.loadtest.ratelimit.verdict import CheckVerdict
from qbtsuite.loadtest.ratelimit.windows import (
    envelope_problems,
    fewest_per_window,
    integer_retry_after,
    most_within,
)
from qbtsuite.loadtest.samples import Sample
from qbtsuite.server.ratelimit import SlidingLogLimiter, retry_after_header
from tests.load.ratelimit_sim import BREAKS, ENVELOPE, SimDriver

LIMITS = {"low_limit": 30, "low_limit_2": 30, "second": 100_000}


def _scenario(
    fault: str | None, window: float, seed: int, jitter: float = 0.004
) -> dict[str, Any]:
    settings = RateLimitSettings(
        window=window, keys=("low_limit",), witnesses=("low_limit_2", "second")
    )
    start = 1_000_000 + random.Random(seed).uniform(0, 100)  # any clock phase
    driver = SimDriver(window, LIMITS, fault, start=start, jitter=jitter, seed=seed)
    run_scenario(driver, settings)
    return judge(driver.samples, settings, start)


def _verdicts(section: dict[str, Any]) -> dict[str, str]:
    checks = section["keys"]["low_limit"]["checks"]
    return {name: check["verdict"] for name, check in checks.items()}


@pytest.mark.parametrize("window", [2.0, 6.0])
@pytest.mark.parametrize("seed", range(3))
def test_a_correct_sliding_window_limiter_passes_every_check(
    window: float, seed: int
) -> None:
    verdicts = _verdicts(_scenario(None, window, seed))
    assert set(verdicts.values()) == {CheckVerdict.PASS, CheckVerdict.INFO}, verdicts


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("fault", sorted(BREAKS))
def test_each_limiter_fault_fails_its_own_check_and_no_other(
    fault: str, seed: int
) -> None:
    verdicts = _verdicts(_scenario(fault, 2.0, seed))
    failed = [
        name for name, verdict in verdicts.items() if verdict == CheckVerdict.FAIL
    ]
    assert failed == list(BREAKS[fault]), verdicts


def test_a_format_fault_leaves_the_retry_after_wait_not_judged_and_says_why() -> None:
    section = _scenario("rate.no_retry_after", 2.0, 0)
    parts = section["keys"]["low_limit"]["checks"]["recovery"]["parts"]
    by_name = {p["name"]: p for p in parts}
    assert by_name["before"]["verdict"] == CheckVerdict.NOT_JUDGED
    assert "rejections check" in by_name["before"]["detail"]
    assert by_name["sustained"]["verdict"] == CheckVerdict.PASS


def test_the_measured_rate_of_a_correct_limiter_is_the_declared_one_exactly() -> None:
    figures = _scenario(None, 2.0, 1)["keys"]["low_limit"]["checks"]["limit"]["figures"]
    assert figures["admitted"] == 2 * 30 and figures["most_within_one_window"] == 30


# --- the Retry-After arithmetic the "before" probe relies on ------------------------


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _refused_with_wait(wait: float) -> tuple[SlidingLogLimiter, _Clock, int]:
    """A limiter whose next slot frees ``wait`` s after a refusal; its Retry-After."""
    clock = _Clock()
    limiter = SlidingLogLimiter(10.0, clock)
    assert limiter.check("k", 1, "ip").admitted
    clock.now += 10.0 - wait
    decision = limiter.check("k", 1, "ip")
    assert not decision.admitted
    return limiter, clock, int(retry_after_header(decision.retry_after))


@pytest.mark.parametrize("wait", [1.01, 2.2, 2.99, 3.0, 7.5])
def test_a_request_before_retry_after_minus_one_is_refused_by_a_correct_limiter(
    wait: float,
) -> None:
    limiter, clock, announced = _refused_with_wait(wait)
    start = clock.now
    clock.now = start + announced - 1 - 0.001
    assert not limiter.check("k", 1, "ip").admitted
    clock.now = start + announced
    assert limiter.check("k", 1, "ip").admitted


def test_half_a_second_before_retry_after_a_correct_limiter_may_admit() -> None:
    # Why the probe uses R − 1, not R − 0.5: the wait is rounded up to whole seconds.
    limiter, clock, announced = _refused_with_wait(2.1)
    assert announced == 3
    clock.now += announced - 0.5
    assert limiter.check("k", 1, "ip").admitted


# --- counting helpers ------------------------------------------------------------------


def _sample(t: float, status: int = 200, rtt: float = 0.01) -> Sample:
    return {"kind": "sample", "t": t, "end": t + rtt, "status": status}


def test_most_within_counts_only_groups_certainly_inside_one_window() -> None:
    times = [(x["t"], x["end"]) for x in map(_sample, [0.0, 0.5, 0.99, 1.5])]
    assert most_within(times, 1.0)[0] == 2  # 0.0 → 0.99 + rtt is not within 1 s
    assert most_within(times, 1.02)[0] == 3


def test_fewest_per_window_finds_the_sparsest_window_in_a_span() -> None:
    samples = [_sample(t) for t in (0.1, 0.2, 1.1, 1.2, 1.9, 2.5)]
    samples.append(_sample(0.3, status=429))
    assert fewest_per_window(samples, 0.0, 3.0, 1.0) == 1  # (1.2, 2.2] holds 1.9
    assert fewest_per_window(samples, 0.0, 0.5, 1.0) is None


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [("2", 2), (" 17 ", 17), ("0", 0), ("1.5", None), ("Wed, 21 Oct 2026 07:28:00 GMT", None), (None, None), ("-1", None)],
)  # fmt: skip
def test_retry_after_is_read_as_delta_seconds_only(
    raw: str | None, seconds: int | None
) -> None:
    assert integer_retry_after(raw) == seconds


def test_a_429_without_envelope_code_or_retry_after_has_each_problem_named() -> None:
    good: Sample = {"status": 429, "retry_after": "3", "envelope": dict(ENVELOPE)}
    assert envelope_problems(good) == []
    bad: Sample = {
        "status": 429,
        "envelope": {**ENVELOPE, "code": "too_many"},
        "retry_after": "0",
    }
    assert envelope_problems(bad) == [
        "error.code 'too_many', not 'rate_limit_exceeded'",
        "Retry-After '0' is below 1 s",
    ]
    assert envelope_problems({"status": 429, "envelope": {"json": False}}) == [
        "body is not JSON",
        "no Retry-After header",
    ]
    assert envelope_problems({}) == ["body is not JSON", "no Retry-After header"]


def _recovery_before(probe_sent: float, probe_done: float, status: int) -> str:
    """The verdict of recovery.before for a 429 at 10.0 s with Retry-After 3."""
    settings = RateLimitSettings(window=6.0, keys=("k",))
    fill: list[Sample] = [
        {"key": "k", "subject": "k", "phase": "recovery.fill", "status": 200,
         "t": 9.0 + i / 100, "end": 9.005 + i / 100}
        for i in range(30)
    ]  # fmt: skip
    refused: Sample = {
        "key": "k", "subject": "k", "phase": "recovery.fill", "status": 429,
        "t": 10.0, "end": 10.01, "retry_after": "3", "envelope": dict(ENVELOPE),
    }  # fmt: skip
    probe: Sample = {
        "key": "k", "subject": "k", "phase": "recovery.before", "status": status,
        "t": probe_sent, "end": probe_done,
    }  # fmt: skip
    section = judge([*fill, refused, probe], settings, 0.0)
    parts = section["keys"]["k"]["checks"]["recovery"]["parts"]
    return str(next(p["verdict"] for p in parts if p["name"] == "before"))


def test_a_request_admitted_before_retry_after_minus_one_fails_recovery() -> None:
    assert _recovery_before(11.8, 11.81, 429) == CheckVerdict.PASS
    assert _recovery_before(11.8, 11.81, 200) == CheckVerdict.FAIL


def test_a_probe_that_left_late_is_not_held_against_the_limiter() -> None:
    # Answered 2.05 s after the 429's request: it may have arrived after R − 1 = 2 s.
    assert _recovery_before(11.95, 12.05, 200) == CheckVerdict.NOT_JUDGED


def test_a_key_that_was_a_witness_starts_fresh_when_its_turn_comes() -> None:
    settings = RateLimitSettings(window=2.0, keys=("low_limit", "low_limit_2"))
    driver = SimDriver(2.0, LIMITS, "rate.limit_doubled", seed=3)
    run_scenario(driver, settings)
    section = judge(driver.samples, settings, 1_000_000.37)
    for key in ("low_limit", "low_limit_2"):
        checks = section["keys"][key]["checks"]
        # Twice the limit from a fresh start, whether or not the key was a witness.
        assert checks["recovery"]["figures"]["fresh_start_admitted"] == 60, key
        failed = [n for n, c in checks.items() if c["verdict"] == CheckVerdict.FAIL]
        assert failed == ["limit"], (key, failed)


def _witnessed(loaded_ms: float) -> dict[str, Any]:
    """Isolation figures of a saturated key "k" whose witness "w" answers in 2 ms
    alone and in ``loaded_ms`` while "k" is driven."""
    settings = RateLimitSettings(window=2.0, keys=("k",), witnesses=("w",))
    samples: list[Sample] = []
    for i in range(10):
        for phase, t, e2e in (
            ("isolation.baseline", 10 + i / 10, 0.002),
            ("isolation.loaded", 20 + i / 10, loaded_ms / 1000),
        ):
            samples.append(
                {"key": "w", "subject": "k", "phase": phase, "status": 200,
                 "t": t, "end": t + e2e, "e2e": e2e}
            )  # fmt: skip
    samples.append(
        {"key": "k", "subject": "k", "phase": "isolation.load", "status": 429,
         "t": 19.9, "end": 19.901, "e2e": 0.001, "retry_after": "1",
         "envelope": dict(ENVELOPE)}
    )  # fmt: skip
    checks: dict[str, Any] = judge(samples, settings, 0.0)["keys"]["k"]["checks"]
    return checks


def test_a_witness_slowed_down_by_a_saturated_key_fails_isolation() -> None:
    assert (
        _witnessed(5.0)["isolation"]["verdict"] == CheckVerdict.PASS
    )  # ≤ 2 × 2 ms + 10 ms
    slow = _witnessed(20.0)["isolation"]
    assert slow["verdict"] == CheckVerdict.FAIL
    assert slow["figures"]["w"]["threshold_ms"] == pytest.approx(14.0)


def test_a_key_over_its_limit_refused_with_another_status_fails_rejections() -> None:
    checks = _witnessed(2.0)
    assert checks["rejections"]["verdict"] == CheckVerdict.PASS
    settings = RateLimitSettings(window=2.0, keys=("k",), witnesses=("w",))
    refused: Sample = {
        "key": "k", "subject": "k", "phase": "drive", "status": 503,
        "t": 5.0, "end": 5.01, "e2e": 0.01, "due": 5.0,
    }  # fmt: skip
    section = judge([refused], settings, 0.0)
    rejections = section["keys"]["k"]["checks"]["rejections"]
    assert rejections["verdict"] == CheckVerdict.FAIL
    assert rejections["parts"][-1]["detail"] == "refused with another status: 1× 503"
