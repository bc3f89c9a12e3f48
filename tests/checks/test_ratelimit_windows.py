"""Rate-limit checks on timelines: admissions per window, Retry-After magnitudes."""

from __future__ import annotations

import httpx

from qbtsuite.checks import (
    admitted_at_most_per_window,
    retry_after_at_most,
    retry_after_value,
)

from .support import error_response, fails, passes


def limited(retry_after: str) -> httpx.Response:
    return error_response(
        429,
        "rate_limit_exceeded",
        "rate_limit_error",
        headers={"Retry-After": retry_after},
    )


def spaced(start: float, count: int, gap: float) -> list[tuple[float, float]]:
    """``count`` admitted requests every ``gap`` seconds, each answered in 5 ms."""
    return [(start + i * gap, start + i * gap + 0.005) for i in range(count)]


def test_a_sliding_window_refill_stays_within_the_limit() -> None:
    # 3 admitted over 0.3 s, then each slot reused once it is a window old
    passes(admitted_at_most_per_window, spaced(0, 3, 0.1) + spaced(10.0, 3, 0.1), 3, 10)


def test_a_fixed_window_boundary_burst_is_caught() -> None:
    # 3 admitted late in one window, 3 more right after its boundary
    admitted = spaced(7.0, 3, 0.1) + spaced(10.0, 3, 0.05)
    failure = fails(admitted_at_most_per_window, admitted, 3, 10)
    assert failure.received.startswith("6 admitted between 0.00 s")
    assert "at most 3 admitted in any 10 s span" == failure.expected


def test_the_answer_time_bounds_the_span_so_a_slow_answer_is_not_blamed() -> None:
    # the 4th was sent 10.2 s after the 1st: never within one 10 s window
    passes(
        admitted_at_most_per_window, [(0, 0.1), (1, 1.1), (2, 2.1), (10.2, 10.3)], 3, 10
    )
    # answered 9.9 s after the 1st was sent: certainly within one window
    fails(
        admitted_at_most_per_window, [(0, 0.1), (1, 1.1), (2, 2.1), (9.8, 9.9)], 3, 10
    )


def test_retry_after_value_reads_fractions_but_not_dates() -> None:
    assert retry_after_value(limited("7")) == 7.0
    assert retry_after_value(limited("6.951")) == 6.951
    assert retry_after_value(limited("Sun, 22 Nov 2026 18:28:40 GMT")) is None


def test_retry_after_at_most_judges_a_fractional_value_by_its_length() -> None:
    passes(retry_after_at_most, limited("12.348"), 60)
    failure = fails(retry_after_at_most, limited("90.5"), 60)
    assert "90.5" in failure.received
    failure = fails(retry_after_at_most, limited("Sun, 22 Nov 2026 18:28:40 GMT"))
    assert "not a number" in failure.title
