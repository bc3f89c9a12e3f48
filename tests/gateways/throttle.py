"""A per-key sliding-window request limit, as gateways put in front of every key.

Spec/getting-started.txt: "Limits are per API key, evaluated per minute ... A 429
response includes a Retry-After header in seconds". Keys are held as digests only.
"""

from __future__ import annotations

import hashlib
import math
from collections import deque
from dataclasses import dataclass

__all__ = ["Decision", "SlidingWindowLimiter", "key_id"]


def key_id(authorization: str) -> str:
    """A stable identity for a presented credential that does not contain it."""
    return hashlib.sha256(authorization.encode("utf-8", "surrogateescape")).hexdigest()


@dataclass(frozen=True)
class Decision:
    admitted: bool
    retry_after: int  # whole seconds until the window admits again; 0 when admitted


class SlidingWindowLimiter:
    """At most ``limit`` admitted requests per key in any ``window`` seconds."""

    def __init__(self, limit: int, window: float) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("the limit needs at least 1 request and a positive window")
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque[float]] = {}

    def admit(self, key: str, now: float) -> Decision:
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) < self.limit:
            hits.append(now)
            return Decision(True, 0)
        # The oldest hit leaves the window at hits[0] + window; never announce early.
        return Decision(False, max(1, math.ceil(hits[0] + self.window - now)))

    def forget_last(self, key: str) -> None:
        """Un-count the latest admitted request (the upstream refused the key)."""
        hits = self._hits.get(key)
        if hits:
            hits.pop()
