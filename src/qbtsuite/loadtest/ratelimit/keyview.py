"""The samples of one key under test, by phase, and the drive's measured span."""

from __future__ import annotations

from collections.abc import Sequence

from qbtsuite.loadtest.ratelimit.driver import DRIVE
from qbtsuite.loadtest.ratelimit.scenario import drive_grid
from qbtsuite.loadtest.ratelimit.settings import RateLimitSettings
from qbtsuite.loadtest.samples import Sample

__all__ = ["KeyView", "steady"]


class KeyView:
    """The samples of one key under test, by phase."""

    def __init__(self, subject: str, samples: Sequence[Sample]) -> None:
        self.subject = subject
        self.all = sorted(
            (x for x in samples if x.get("subject") == subject), key=lambda x: x["t"]
        )
        self.own = [x for x in self.all if x.get("key") == subject]

    def phase(self, phase: str, role: str | None = None) -> list[Sample]:
        role = self.subject if role is None else role
        return [x for x in self.all if x.get("phase") == phase and x.get("key") == role]


def steady(key: KeyView, s: RateLimitSettings) -> tuple[list[Sample], float, float]:
    """The drive's samples and its measured span (0, 0 when there was no drive)."""
    drive = key.phase(DRIVE)
    grid = drive_grid(drive)
    if grid is None:
        return drive, 0.0, 0.0
    start, end = s.steady_span(grid[0])
    return drive, start, end
