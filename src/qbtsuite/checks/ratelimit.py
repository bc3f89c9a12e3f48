"""Rate limits (spec/getting-started.txt "Rate limits"): 429 with Retry-After in seconds.

"Limits are per API key, evaluated per minute … A 429 response includes a
Retry-After header in seconds". RFC 9110 §10.2.3 allows an HTTP-date too, but the
docs say seconds and the OpenAI spec declares an integer ≥ 1, so delta-seconds is
what is checked (RATE-002). Values above the 60 s window are mishandled by some SDK
versions (protocol-facts §2.2), hence :func:`retry_after_at_most` (RATE-005).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from qbtsuite.checks._format import ResponseLike, describe_response, failure, header
from qbtsuite.checks._registry import check
from qbtsuite.checks.envelope import error_code_is, error_type_matches_status
from qbtsuite.loadtest.ratelimit.windows import most_within

__all__ = [
    "admitted_after_waiting",
    "admitted_at_most_per_window",
    "admitted_only_after_retry_after",
    "admitted_up_to_limit",
    "rate_limited_with_429",
    "retry_after_at_most",
    "retry_after_is_integer_seconds",
    "retry_after_seconds",
    "retry_after_value",
    "retry_after_within_window",
    "sent_surely_before_retry_after",
    "still_limited_before_retry_after",
]

_DELTA_SECONDS = re.compile(r"^[0-9]+$")
_NUMBER = re.compile(r"^[0-9]+(?:\.[0-9]+)?$")


@check
def rate_limited_with_429(response: ResponseLike) -> None:
    """429 with code rate_limit_exceeded and type rate_limit_error (RATE-001)."""
    error_code_is(response, 429, "rate_limit_exceeded")
    error_type_matches_status(response)


@check
def retry_after_is_integer_seconds(response: ResponseLike) -> None:
    """Retry-After is present and an integer number of seconds ≥ 1 (RATE-002)."""
    value = header(response, "retry-after")
    if value is None or not _DELTA_SECONDS.match(value.strip()):
        kind = "absent" if value is None else repr(value)
        raise failure(
            "Retry-After is not whole seconds",
            f"{response.status_code} with Retry-After {kind}",
            "Retry-After: <integer seconds ≥ 1>",
        )
    if int(value) < 1:
        raise failure(
            "Retry-After is zero",
            f"{response.status_code} with Retry-After {value!r}",
            "Retry-After: <integer seconds ≥ 1>",
        )


def retry_after_seconds(response: ResponseLike) -> int:
    """The Retry-After value in seconds, after :func:`retry_after_is_integer_seconds`."""
    retry_after_is_integer_seconds(response)
    value = header(response, "retry-after")
    assert value is not None
    return int(value)


def retry_after_value(response: ResponseLike) -> float | None:
    """Retry-After as a number of seconds, fractions allowed; None if absent or a date.

    For judging *how long* the wait is when its format is wrong (RATE-002 judges
    the format).
    """
    value = header(response, "retry-after")
    if value is None or not _NUMBER.match(value.strip()):
        return None
    return float(value)


@check
def retry_after_at_most(response: ResponseLike, seconds: int = 60) -> None:
    """Retry-After (in seconds, fractions allowed) does not exceed the window (RATE-005)."""
    wait = retry_after_value(response)
    if wait is None:
        raise failure(
            "Retry-After is not a number of seconds",
            f"{response.status_code} with Retry-After "
            f"{header(response, 'retry-after')!r}",
            f"Retry-After: <seconds ≤ {seconds}>",
        )
    if wait > seconds:
        raise failure(
            "Retry-After longer than the window",
            f"Retry-After: {wait:g}",
            f"at most {seconds} seconds (limits are evaluated per minute)",
        )


@check
def admitted_after_waiting(response: ResponseLike, waited: float) -> None:
    """After waiting Retry-After, the same key is served again (RATE-003)."""
    if response.status_code == 429:
        raise failure(
            "Still limited after Retry-After",
            f"{describe_response(response)} after waiting {waited:.1f} s",
            "the request admitted (not 429)",
        )


@check
def retry_after_within_window(
    response: ResponseLike, longest: float, readmitted_after: float | None = None
) -> None:
    """Retry-After asks for no longer than a per-minute limit can need (RATE-003).

    Limits are "evaluated per minute": a key is admitted again at most one window
    after its 429, so waiting a longer Retry-After is not how it gets back in; it is
    judged without being waited. ``readmitted_after`` is how soon the key was
    admitted again, if it was seen.
    """
    wait = retry_after_value(response)
    if wait is None or wait <= longest:
        return
    seen = (
        f"the key was admitted again {readmitted_after:.1f} s after the 429"
        if readmitted_after is not None
        else "the key was still refused one window after the 429"
    )
    raise failure(
        "Retry-After beyond the per-minute window",
        f"Retry-After: {wait:g} (not waited); {seen}",
        f"at most {longest:g} s (one window with rounding): limits are evaluated "
        "per minute",
    )


@check
def admitted_only_after_retry_after(
    response: ResponseLike, elapsed: float, retry_after: float
) -> None:
    """A key is not admitted again long before its Retry-After elapses (RATE-004).

    ``elapsed`` bounds, from above, the time from the 429 to this admission; the
    one second of Retry-After's rounding is allowed.
    """
    if 200 <= response.status_code <= 299 and elapsed < retry_after - 1:
        raise failure(
            "Limit lifted long before Retry-After",
            f"admitted at most {elapsed:.1f} s after the 429: "
            f"{describe_response(response)}",
            f"429 until Retry-After ({retry_after:g} s) has elapsed",
        )


def sent_surely_before_retry_after(elapsed: float, retry_after: float) -> bool:
    """Whether a retry sent ``elapsed`` s after the 429's request is evidence for RATE-004.

    Retry-After is whole seconds, so the true wait may be up to 1 s shorter than
    announced (the reference server rounds up); only a retry sent more than that
    second before it elapses is sure to arrive while the key is still limited. A
    retry sent later (a loaded machine delays it) proves nothing either way.
    """
    return elapsed < retry_after - 1


@check
def still_limited_before_retry_after(response: ResponseLike) -> None:
    """An immediate retry after a 429 is refused again (RATE-004)."""
    if response.status_code != 429:
        raise failure(
            "Limit lifted before Retry-After",
            describe_response(response),
            "429 again for a retry sent before Retry-After elapsed",
        )


@check
def admitted_up_to_limit(statuses: Sequence[int], limit: int) -> None:
    """Exactly ``limit`` requests are admitted before the first 429 (RATE-006).

    ``statuses`` are the answers, in order, to a burst sent within one window.
    """
    first = next((i for i, s in enumerate(statuses) if s == 429), None)
    admitted = len(statuses) if first is None else first
    if first is None or admitted != limit:
        seen = "no 429 at all" if first is None else f"first 429 at request {first + 1}"
        raise failure(
            "Limit not enforced as declared",
            f"{admitted} admitted, {seen} (of {len(statuses)} sent)",
            f"{limit} admitted, then 429",
        )


@check
def admitted_at_most_per_window(
    admitted: Sequence[tuple[float, float]], limit: int, window: float
) -> None:
    """No ``limit + 1`` admitted requests fall within one window's length (RATE-006).

    ``admitted`` holds ``(sent, answered)`` client times of each admitted request, in
    order. The server decided each between those two times, so ``limit + 1`` of them
    whose span from the first one's sending to the last one's answer is shorter than
    ``window`` were certainly admitted within less than one window: a limiter that
    refills all at once at a boundary (a fixed window) is caught, a sliding one never.
    """
    times = sorted(admitted)
    count, begin, finish = most_within(times, window)
    if count > limit:
        origin = times[0][0]
        raise failure(
            "More requests admitted than the limit within one window",
            f"{count} admitted between {begin - origin:.2f} s and "
            f"{finish - origin:.2f} s (client clock, from the first request)",
            f"at most {limit} admitted in any {window:g} s span",
        )
