"""Per-key request limits "evaluated per minute" (spec/getting-started.txt "Rate limits").

The clean limiter is a sliding log: at most ``rpm`` requests in any window of
``window`` seconds, so there is no burst at a window boundary. A refused request
learns, as whole seconds rounded up, when the oldest admitted request leaves the
window: that is its ``Retry-After``.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Decision", "Limiter", "SlidingLogLimiter", "retry_after_header"]


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether one request is admitted, and if not, how long to wait."""

    admitted: bool
    retry_after: float = 0.0  # seconds until the window admits again (exact)


ADMITTED = Decision(True)


class Limiter:
    """Interface: decide for one request of ``key`` (``client`` is the peer address)."""

    def check(self, key: str, rpm: int, client: str) -> Decision:
        raise NotImplementedError


class SlidingLogLimiter(Limiter):
    """At most ``rpm`` admitted requests per key in any ``window`` seconds."""

    def __init__(
        self, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.window = window
        self.clock = clock
        self._logs: dict[str, deque[float]] = {}

    def bucket(self, key: str, client: str) -> str:
        """What requests are counted together: the key (faults may change this)."""
        return key

    def limit(self, rpm: int) -> int:
        """How many requests a window admits (faults may change this)."""
        return rpm

    def check(self, key: str, rpm: int, client: str) -> Decision:
        now = self.clock()
        bucket = self.bucket(key, client)
        log = self._logs.get(bucket)
        if log is None:
            log = self._logs[bucket] = deque()
        while log and log[0] <= now - self.window:
            log.popleft()
        if len(log) < self.limit(rpm):
            log.append(now)
            return ADMITTED
        return Decision(False, log[0] + self.window - now)


def retry_after_header(seconds: float) -> str:
    """``Retry-After`` as an integer number of seconds, never early, at least 1."""
    return str(max(1, math.ceil(seconds)))
