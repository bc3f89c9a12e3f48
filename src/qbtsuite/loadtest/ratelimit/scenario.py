"""The limiter scenario: what is sent to each key under test, and when.

It runs inside a Locust process (``load/qbtlocust/ratelimit.py`` provides the
:class:`~qbtsuite.loadtest.ratelimit.driver.Driver`), but imports nothing of Locust or gevent, so it also runs against a
simulated limiter in the unit tests. Every request becomes a sample tagged with its
``phase`` and the ``subject`` (the key under test); the checks judge those samples
afterwards (:mod:`qbtsuite.loadtest.ratelimit.judge`). Per key, one after the other
(so that a per-IP limiter cannot mix two keys' counts except where isolation is
tested):

1. **recovery**: from a fresh start (a key that was a witness before waits one
   window), requests one after another until the first 429
   (its Retry-After is ``R``); one request ``R − 1 − early_margin`` after that
   429's request was sent (when ``R ≥ 2``), and one ``R + late_margin`` after its
   answer arrived. Why ``R − 1``: Retry-After is the exact wait ``w`` rounded *up*
   to whole seconds, so ``R − 1 < w ≤ R``. The limiter decided after the request
   was sent (at ``t``), so nothing frees before ``t + w > t + R − 1``: a request that
   reaches it before ``t + R − 1`` must be refused, and ``early_margin`` covers the
   transit. ``R − 0.5`` would not do: with ``w`` just above ``R − 1`` a correct
   limiter admits it. With ``R = 1`` no instant is certainly refused (``w`` may be a
   millisecond), so only the "after" half is checked. The decision also happened
   before the answer arrived (at ``e``), so the slot is free by ``e + R``.
2. **drive**: open loop at ``overdrive ×`` the key's rate (the declared one, or
   what the fresh start admitted if more), for ``windows + ¾`` windows, from a
   key that holds at most the "after" request (see ``steady_span`` in settings).
3. **boundary**: saturate, then poll until admitted again: a fixed-window limiter
   re-admits exactly at its boundary, so the next boundary is one window later.
   A burst just before it and one just after: a fixed window admits twice its
   rate within less than a second, a sliding window never more than its rate.
4. **isolation**: the witness keys alone (their baseline, in the boundary probe's
   wait, while the key under test sends nothing), then again while the key under
   test is saturated and driven above its limit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from qbtsuite.loadtest.ratelimit.driver import (
    BOUNDARY_AFTER,
    BOUNDARY_BEFORE,
    BOUNDARY_LOCATE,
    BOUNDARY_SATURATE,
    DRIVE,
    ISOLATION_BASELINE,
    ISOLATION_LOAD,
    ISOLATION_LOADED,
    RECOVERY_AFTER,
    RECOVERY_BEFORE,
    RECOVERY_FILL,
    Arrivals,
    BudgetExhausted,
    Driver,
)
from qbtsuite.loadtest.ratelimit.settings import RateLimitSettings
from qbtsuite.loadtest.ratelimit.windows import (
    admitted,
    integer_retry_after,
    sent_between,
)
from qbtsuite.loadtest.samples import Sample

__all__ = ["drive_capacity", "drive_grid", "run_scenario"]

_LEAD = 0.05  # seconds between deciding on a timeline and its first arrival
_SETTLE_BEFORE_BURST = 0.2  # the baseline's answers are in before the first burst


def run_scenario(driver: Driver, s: RateLimitSettings) -> None:
    """The whole scenario, key after key (see the module doc). Bounded in time and
    count; stops early when the driver's request cap is reached."""
    used: dict[str, float] = {}  # witness role → when its last request was answered
    try:
        for subject in s.keys:
            if subject in used:  # a witness before: let its window empty first
                driver.sleep_until(used[subject] + s.window + s.late_margin)
            fresh = _recovery(driver, s, subject)
            capacity = _drive(driver, s, subject, max(fresh, s.declared_limit))
            baseline = _boundary(driver, s, subject, capacity)
            _isolation(driver, s, subject, capacity, baseline)
            used |= dict.fromkeys(s.witnesses_for(subject), driver.now())
    except BudgetExhausted:
        return


def _fill(driver: Driver, s: RateLimitSettings, subject: str) -> list[Sample]:
    """Requests one after another until the first 429 (at most 3 × limit + 10)."""
    out: list[Sample] = []
    for _ in range(3 * s.declared_limit + 10):
        out.append(driver.send(subject, RECOVERY_FILL, subject))
        if out[-1].get("status") == 429:
            break
    return out


def _limited(fill: list[Sample]) -> tuple[Sample | None, int | None]:
    """The fill's closing 429 and its Retry-After in whole seconds (if any)."""
    last = fill[-1] if fill else None
    if last is None or last.get("status") != 429:
        return None, None
    return last, integer_retry_after(last.get("retry_after"))


def _recovery(driver: Driver, s: RateLimitSettings, subject: str) -> int:
    """Step 1; returns how many the fresh start admitted before its first 429.

    Ends once the fill's admitted requests have left the window, so that the drive
    starts from a key that holds at most the "after" request.
    """
    fill = _fill(driver, s, subject)
    limited, wait = _limited(fill)
    fresh = sum(1 for x in fill if admitted(x))
    if (
        limited is not None
        and wait is not None
        and wait < 2
        and fresh < s.declared_limit
    ):
        # Refused early with a short wait: the key was used just before (not a
        # fresh start). Let its window empty and start once more.
        driver.sleep_until(limited["end"] + s.window + s.late_margin)
        fill = _fill(driver, s, subject)
        limited, wait = _limited(fill)
        fresh = sum(1 for x in fill if admitted(x))
    if limited is not None and wait is not None and wait <= s.max_wait:
        if wait >= 2:
            driver.sleep_until(limited["t"] + wait - 1 - s.early_margin)
            driver.send(subject, RECOVERY_BEFORE, subject)
        driver.sleep_until(limited["end"] + wait + s.late_margin)
        driver.send(subject, RECOVERY_AFTER, subject)
    # Otherwise not waited for: the checks say why.
    ends = [x["end"] for x in fill if admitted(x)]
    if ends:
        driver.sleep_until(max(ends) + s.window)
    return fresh


def drive_grid(samples: Sequence[Sample]) -> tuple[float, float] | None:
    """``(first due time, arrivals per second)`` of a drive's samples."""
    dues = sorted(due for x in samples if (due := x.get("due")) is not None)
    if len(dues) < 2 or dues[-1] <= dues[0]:
        return None
    return dues[0], (len(dues) - 1) / (dues[-1] - dues[0])


def drive_capacity(samples: Sequence[Sample], s: RateLimitSettings) -> int:
    """What the limiter admits per window in the drive's steady state, at least the
    declared limit (used to size the boundary bursts and the isolation load)."""
    grid = drive_grid(samples)
    if grid is None:
        return s.declared_limit
    start, end = s.steady_span(grid[0])
    per_window = sent_between(samples, start, end) / s.windows
    return max(s.declared_limit, math.ceil(per_window))


def _drive(driver: Driver, s: RateLimitSettings, subject: str, rate_of: int) -> int:
    """Step 2; returns the steady-state capacity per window."""
    rate = s.overdrive * rate_of / s.window
    start = driver.now() + _LEAD
    stream = Arrivals(subject, DRIVE, start, rate, start + s.drive_seconds)
    samples = driver.arrivals([stream], subject)
    return drive_capacity(samples, s)


def _witnesses(
    s: RateLimitSettings, subject: str, phase: str, start: float, end: float
) -> list[Arrivals]:
    """The witness keys' arrivals (half the declared rate each, taking turns)."""
    witnesses = s.witnesses_for(subject)
    stagger = 1.0 / (s.witness_rate * max(1, len(witnesses)))
    return [
        Arrivals(w, phase, start + i * stagger, s.witness_rate, end)
        for i, w in enumerate(witnesses)
    ]


def _baseline(driver: Driver, s: RateLimitSettings, subject: str, until: float) -> bool:
    """Witnesses alone (the subject sends nothing) until ``until`` at the latest.

    Returns whether it ran; it needs at least a second.
    """
    start = driver.now() + _LEAD
    end = min(start + s.isolation_phase, until)
    if not s.witnesses_for(subject) or end - start < 1.0:
        return False
    driver.arrivals(_witnesses(s, subject, ISOLATION_BASELINE, start, end), subject)
    return True


def _boundary(
    driver: Driver, s: RateLimitSettings, subject: str, capacity: int
) -> bool:
    """Step 3: locate where the limiter re-admits, burst around one window later.

    The wait before the first burst is the isolation baseline's time (the subject
    is quiet then); returns whether the baseline ran.
    """
    refused: Sample | None = None
    for _ in range(2 * capacity + 10):
        x = driver.send(subject, BOUNDARY_SATURATE, subject)
        if not admitted(x):
            refused = x
            break
    if refused is None:
        return False
    begin = driver.now()
    readmitted: Sample | None = None
    # A window frees a slot within one window; a little more, then give up.
    for k in range(1, math.ceil((s.window + 1) / s.poll_interval) + 1):
        driver.sleep_until(begin + k * s.poll_interval)
        x = driver.send(subject, BOUNDARY_LOCATE, subject)
        if admitted(x):
            readmitted = x
            break
        refused = x
    if readmitted is None:
        return False
    # A fixed window's boundary lies after the last refused request was sent and
    # before the first re-admitted one was answered; the next one a window later.
    first = refused["t"] + s.window - s.boundary_before
    baseline = _baseline(driver, s, subject, first - 2 * _SETTLE_BEFORE_BURST)
    size = capacity + 2
    driver.sleep_until(first - _SETTLE_BEFORE_BURST)
    driver.warm(size)  # a burst of new TLS connections would outlast its margin
    driver.sleep_until(first)
    driver.burst(subject, BOUNDARY_BEFORE, subject, size)
    driver.sleep_until(readmitted["end"] + s.window + s.boundary_after)
    driver.burst(subject, BOUNDARY_AFTER, subject, size)
    return baseline


def _isolation(
    driver: Driver, s: RateLimitSettings, subject: str, capacity: int, baseline: bool
) -> None:
    """Step 4: the witnesses while the subject is saturated and driven above its
    limit (after their baseline, if the boundary probe had no room for it)."""
    if not s.witnesses_for(subject):
        return
    if not baseline:
        _baseline(driver, s, subject, driver.now() + s.isolation_phase + _LEAD)
    for _ in range(2 * capacity + 10):  # saturate first: witnesses count from here
        if driver.send(subject, ISOLATION_LOAD, subject).get("status") == 429:
            break
    start = driver.now() + _LEAD
    end = start + s.isolation_phase
    rate = s.overdrive * capacity / s.window
    load = Arrivals(subject, ISOLATION_LOAD, start, rate, end)
    witnesses = _witnesses(s, subject, ISOLATION_LOADED, start + _LEAD, end)
    driver.arrivals([load, *witnesses], subject)
