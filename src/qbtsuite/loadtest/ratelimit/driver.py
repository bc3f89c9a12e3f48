"""What the limiter scenario needs from an engine: the :class:`Driver` interface,
open-loop :class:`Arrivals`, and the phase names every sample is tagged with.

``load/qbtlocust/ratelimit.py`` implements the driver with gevent and Locust's HTTP
client; the tests implement it with a simulated limiter on a virtual clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from qbtsuite.loadtest.samples import Sample

__all__ = [
    "BOUNDARY_AFTER",
    "BOUNDARY_BEFORE",
    "BOUNDARY_LOCATE",
    "BOUNDARY_SATURATE",
    "DRIVE",
    "ISOLATION_BASELINE",
    "ISOLATION_LOAD",
    "ISOLATION_LOADED",
    "PHASES",
    "RECOVERY_AFTER",
    "RECOVERY_BEFORE",
    "RECOVERY_FILL",
    "Arrivals",
    "BudgetExhausted",
    "Driver",
]

RECOVERY_FILL = "recovery.fill"
RECOVERY_BEFORE = "recovery.before"
RECOVERY_AFTER = "recovery.after"
DRIVE = "drive"
BOUNDARY_SATURATE = "boundary.saturate"
BOUNDARY_LOCATE = "boundary.locate"
BOUNDARY_BEFORE = "boundary.before"
BOUNDARY_AFTER = "boundary.after"
ISOLATION_BASELINE = "isolation.baseline"  # witnesses, the subject quiet
ISOLATION_LOAD = "isolation.load"  # the subject, driven above its limit
ISOLATION_LOADED = "isolation.loaded"  # witnesses meanwhile
PHASES = (
    RECOVERY_FILL,
    RECOVERY_BEFORE,
    RECOVERY_AFTER,
    DRIVE,
    BOUNDARY_SATURATE,
    BOUNDARY_LOCATE,
    BOUNDARY_BEFORE,
    BOUNDARY_AFTER,
    ISOLATION_BASELINE,
    ISOLATION_LOAD,
    ISOLATION_LOADED,
)


class BudgetExhausted(Exception):
    """The run's request cap is reached: the scenario stops where it is."""


@dataclass(frozen=True, slots=True)
class Arrivals:
    """Open-loop requests of one key: due at ``start + k / rate`` while before ``end``."""

    role: str
    phase: str
    start: float  # epoch seconds
    rate: float  # per second
    end: float


class Driver(Protocol):
    """Sends requests and keeps time; every request it sends is recorded as a sample.

    Times are epoch seconds on one monotonic clock (the samples' ``t``/``end``).
    """

    def now(self) -> float: ...

    def sleep_until(self, when: float) -> None: ...

    def send(self, role: str, phase: str, subject: str) -> Sample:
        """One request, answered (or failed) before it returns."""
        ...

    def burst(self, role: str, phase: str, subject: str, count: int) -> list[Sample]:
        """``count`` requests at once; returns when all are answered."""
        ...

    def arrivals(self, streams: Sequence[Arrivals], subject: str) -> list[Sample]:
        """Every stream's requests at their due times, whatever the answers; returns
        when the last one is answered."""
        ...

    def warm(self, count: int) -> None:
        """Open up to ``count`` connections without counting against any key (e.g.
        requests without a key), so that a burst is not slowed by handshakes."""
        ...
