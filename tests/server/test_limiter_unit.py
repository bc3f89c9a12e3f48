"""The sliding-log limiter and the Retry-After value, with a fake clock (no sleeping).

At most ``rpm`` requests of a key in any window, so no burst at a window boundary;
a refused request learns exactly when the oldest admitted one leaves the window, and
``Retry-After`` is that rounded up to whole seconds, at least 1.
"""

from __future__ import annotations

import pytest

from qbtsuite.server.ratelimit import SlidingLogLimiter, retry_after_header


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _limiter(window: float = 60.0) -> tuple[SlidingLogLimiter, FakeClock]:
    clock = FakeClock()
    return SlidingLogLimiter(window, clock=clock), clock


def _admitted(limiter: SlidingLogLimiter, key: str, rpm: int, count: int) -> int:
    return sum(limiter.check(key, rpm, "127.0.0.1").admitted for _ in range(count))


@pytest.mark.parametrize("rpm", [1, 2, 30, 600])
def test_exactly_rpm_requests_are_admitted_in_one_instant(rpm: int) -> None:
    limiter, _ = _limiter()
    assert _admitted(limiter, "k", rpm, rpm + 5) == rpm


def test_steady_requests_get_rpm_per_window_and_never_more_in_any_window() -> None:
    limiter, clock = _limiter(window=60.0)
    times = []
    for _ in range(240):  # one request every 0.5 s for two windows
        if limiter.check("k", 30, "c").admitted:
            times.append(clock.now)
        clock.now += 0.5
    assert len(times) == 60, f"Received: {len(times)} admitted / Expected: 60"
    busiest = max(sum(1 for t in times if s <= t < s + 60.0) for s in times)
    assert busiest == 30, f"Received: {busiest} in one window / Expected: 30"


def test_there_is_no_burst_at_a_window_boundary() -> None:
    limiter, clock = _limiter(window=60.0)
    clock.now = 1059.0  # late in a fixed minute [1000, 1060)
    assert _admitted(limiter, "k", 30, 30) == 30
    clock.now = 1061.0  # early in the next fixed minute
    # A fixed window would admit 30 more here; the sliding log admits none.
    assert _admitted(limiter, "k", 30, 30) == 0


def test_a_slot_frees_exactly_when_the_oldest_request_leaves_the_window() -> None:
    limiter, clock = _limiter(window=10.0)
    assert limiter.check("k", 2, "c").admitted  # at 1000
    clock.now = 1004.0
    assert limiter.check("k", 2, "c").admitted  # at 1004
    clock.now = 1009.5
    assert not limiter.check("k", 2, "c").admitted
    clock.now = 1010.0  # the request of 1000 leaves the window now
    assert limiter.check("k", 2, "c").admitted
    assert not limiter.check("k", 2, "c").admitted


def test_retry_after_is_the_exact_time_until_a_slot_frees() -> None:
    limiter, clock = _limiter(window=60.0)
    limiter.check("k", 2, "c")  # at 1000
    clock.now = 1010.0
    limiter.check("k", 2, "c")
    clock.now = 1025.0
    decision = limiter.check("k", 2, "c")
    assert not decision.admitted
    assert decision.retry_after == pytest.approx(35.0, abs=1e-9)  # 1000 + 60 - 1025
    clock.now += decision.retry_after
    assert limiter.check("k", 2, "c").admitted


def test_refused_requests_do_not_extend_the_wait() -> None:
    limiter, clock = _limiter(window=60.0)
    limiter.check("k", 1, "c")
    for step in range(10):
        clock.now = 1001.0 + step
        decision = limiter.check("k", 1, "c")
        assert not decision.admitted
        assert decision.retry_after == pytest.approx(60.0 - 1.0 - step, abs=1e-9)
    clock.now = 1060.0
    assert limiter.check("k", 1, "c").admitted


def test_admitted_requests_carry_no_wait() -> None:
    limiter, _ = _limiter()
    decision = limiter.check("k", 5, "c")
    assert decision.admitted and decision.retry_after == 0.0


def test_keys_are_limited_independently() -> None:
    limiter, _ = _limiter()
    assert _admitted(limiter, "a", 3, 5) == 3
    assert _admitted(limiter, "b", 3, 5) == 3
    assert _admitted(limiter, "a", 3, 1) == 0


def test_the_client_address_does_not_split_a_keys_limit() -> None:
    limiter, _ = _limiter()
    admitted = sum(limiter.check("k", 3, f"10.0.0.{i}").admitted for i in range(6))
    assert admitted == 3


@pytest.mark.parametrize(
    ("seconds", "header"),
    [
        (0.0, "1"),
        (0.001, "1"),
        (0.5, "1"),
        (1.0, "1"),
        (1.0001, "2"),
        (2.5, "3"),
        (59.2, "60"),
        (60.0, "60"),
    ],
)
def test_retry_after_header_rounds_up_to_whole_seconds_and_is_at_least_one(
    seconds: float, header: str
) -> None:
    assert retry_after_header(seconds) == header
