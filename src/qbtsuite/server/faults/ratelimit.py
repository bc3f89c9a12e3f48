"""Limiter faults: the bugs real limiters ship with.

load/README.md, 'The ratelimit profile', names them and the check that catches each.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from email.utils import formatdate

from qbtsuite.server.faults import Fault, fault
from qbtsuite.server.parts import Parts
from qbtsuite.server.ratelimit import Decision, Limiter, SlidingLogLimiter

__all__: list[str] = []


class _LimiterFault(Fault):
    """Replaces the clean limiter with ``limiter(window)``."""

    def limiter(self, window: float) -> SlidingLogLimiter:
        raise NotImplementedError

    def apply(self, parts: Parts) -> None:
        parts.limiter = self.limiter(parts.settings.rate_window)


class _RetryAfterFault(Fault):
    """Replaces how Retry-After is written from the exact wait in seconds."""

    def header(self, seconds: float) -> dict[str, str]:
        raise NotImplementedError

    def apply(self, parts: Parts) -> None:
        parts.retry_after = self.header


@fault(
    "rate.no_retry_after",
    area="rate-limits",
    breaks=("RATE-002",),
    description="429 answers carry no Retry-After header",
)
class NoRetryAfter(_RetryAfterFault):
    def header(self, seconds: float) -> dict[str, str]:
        return {}


@fault(
    "rate.retry_after_http_date",
    area="rate-limits",
    breaks=("RATE-002",),
    description="Retry-After is an HTTP-date instead of seconds",
)
class RetryAfterHttpDate(_RetryAfterFault):
    def header(self, seconds: float) -> dict[str, str]:
        return {"Retry-After": formatdate(time.time() + seconds, usegmt=True)}


@fault(
    "rate.retry_after_float",
    area="rate-limits",
    breaks=("RATE-002",),
    description="Retry-After is a fractional number of seconds ('12.348')",
)
class RetryAfterFloat(_RetryAfterFault):
    def header(self, seconds: float) -> dict[str, str]:
        return {"Retry-After": f"{seconds + 0.001:.3f}"}


@fault(
    "rate.retry_after_too_short",
    area="rate-limits",
    breaks=("RATE-003",),
    description="Retry-After announces a third of the real wait: retries are refused again",
)
class RetryAfterTooShort(_RetryAfterFault):
    def header(self, seconds: float) -> dict[str, str]:
        return {"Retry-After": str(max(1, math.floor(seconds / 3)))}


@fault(
    "rate.retry_after_too_long",
    area="rate-limits",
    breaks=("RATE-004",),
    description="Retry-After announces three times the real wait",
)
class RetryAfterTooLong(_RetryAfterFault):
    def header(self, seconds: float) -> dict[str, str]:
        return {"Retry-After": str(3 * max(1, math.ceil(seconds)))}


@fault(
    "rate.retry_after_in_milliseconds",
    area="rate-limits",
    # Thousands of seconds: beyond the per-minute window (RATE-005), a wait the limit
    # never needs (RATE-003), and the key is free long before it (RATE-004).
    breaks=("RATE-003", "RATE-004", "RATE-005"),
    description="Retry-After is written in milliseconds ('7000' for a 7-second wait)",
)
class RetryAfterInMilliseconds(_RetryAfterFault):
    def header(self, seconds: float) -> dict[str, str]:
        return {"Retry-After": str(max(1, math.ceil(seconds)) * 1000)}


class _NeverClears(SlidingLogLimiter):
    def __init__(self, window: float) -> None:
        super().__init__(window)
        self._blocked: set[str] = set()

    def check(self, key: str, rpm: int, client: str) -> Decision:
        if key in self._blocked:
            return Decision(False, self.window)
        decision = super().check(key, rpm, client)
        if not decision.admitted:
            self._blocked.add(key)
        return decision


@fault(
    "rate.never_clears",
    area="rate-limits",
    breaks=("RATE-003",),
    description="Once a key is throttled it stays throttled: the window never clears",
)
class NeverClears(_LimiterFault):
    def limiter(self, window: float) -> SlidingLogLimiter:
        return _NeverClears(window)


class _PerClient(SlidingLogLimiter):
    """Counts per client address, with the limit of the first key seen from it."""

    def __init__(self, window: float) -> None:
        super().__init__(window)
        self._first_rpm: dict[str, int] = {}

    def bucket(self, key: str, client: str) -> str:
        return client

    def check(self, key: str, rpm: int, client: str) -> Decision:
        return super().check(key, self._first_rpm.setdefault(client, rpm), client)


@fault(
    "rate.per_ip",
    area="rate-limits",
    # The first key seen from an address sets the address's limit: behind one IP a
    # low-limit key rides on a high-limit key's allowance, and keys throttle each
    # other. Black-box, the low-limit key is not limited at its declared rate.
    breaks=("RATE-001", "RATE-006"),
    description="Requests are counted per client IP, not per key: keys throttle each other",
)
class PerIp(_LimiterFault):
    def limiter(self, window: float) -> SlidingLogLimiter:
        return _PerClient(window)


class _Doubled(SlidingLogLimiter):
    def limit(self, rpm: int) -> int:
        return 2 * rpm


@fault(
    "rate.limit_doubled",
    area="rate-limits",
    breaks=("RATE-006",),
    description="Twice the declared limit is admitted (two replicas, one counter each)",
)
class LimitDoubled(_LimiterFault):
    def limiter(self, window: float) -> SlidingLogLimiter:
        return _Doubled(window)


class _FixedWindow(SlidingLogLimiter):
    """Counts per calendar window: a burst at the end of one and the start of the next
    admits twice the limit within one window's length."""

    def __init__(self, window: float, clock: Callable[[], float] = time.time) -> None:
        super().__init__(window, clock)
        self._counts: dict[str, tuple[float, int]] = {}

    def check(self, key: str, rpm: int, client: str) -> Decision:
        now = self.clock()
        start = math.floor(now / self.window) * self.window
        bucket = self.bucket(key, client)
        window_start, count = self._counts.get(bucket, (start, 0))
        if window_start != start:
            count = 0
        if count < self.limit(rpm):
            self._counts[bucket] = (start, count + 1)
            return Decision(True)
        return Decision(False, start + self.window - now)


@fault(
    "rate.fixed_window_burst",
    area="rate-limits",
    breaks=("RATE-006",),
    description="A fixed-window counter admits a 2x burst across a window boundary",
)
class FixedWindowBurst(_LimiterFault):
    def limiter(self, window: float) -> SlidingLogLimiter:
        return _FixedWindow(window)


class _MainKeyExhausted(Limiter):
    """Refuses every request of one key, ``wait`` seconds each time; the
    other keys are limited as before."""

    def __init__(self, inner: Limiter, key: str, wait: float) -> None:
        self.inner, self.key, self.wait = inner, key, wait

    def check(self, key: str, rpm: int, client: str) -> Decision:
        if key == self.key:
            return Decision(False, self.wait)
        return self.inner.check(key, rpm, client)


@fault(
    "rate.throttle_everything",
    area="rate-limits",
    breaks=(),
    expects="incomplete",
    description="The main key is answered 429 with Retry-After 600 on every path "
    "(its quota spent for the next ten minutes): nothing can be judged with it",
)
class ThrottleEverything(Fault):
    WAIT = 600.0  # seconds: longer than a run may wait by default (120 s)

    def apply(self, parts: Parts) -> None:
        main = parts.keys.by_role().get("main")
        if main is not None:
            parts.limiter = _MainKeyExhausted(parts.limiter, main, self.WAIT)
