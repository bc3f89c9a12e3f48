"""Per-area progress on the terminal while the suite runs (controller side).

A pytest plugin object: it learns how many tests each area has once collection is
done (serially from the session, under pytest-xdist from the first worker's list),
then prints one line per area as soon as all its tests have finished.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import PurePosixPath
from typing import Any

import pytest

__all__ = ["Progress", "area_of"]


def area_of(nodeid: str) -> str:
    """The area a test file covers: ``test_rate_limits.py::…`` → ``rate-limits``."""
    stem = PurePosixPath(nodeid.split("::", 1)[0]).stem
    return stem.removeprefix("test_").replace("_", "-")


class Progress:
    """Counts finished tests per area and reports each area once it is complete."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self._write = write
        self._expected: Counter[str] = Counter()
        self._done: dict[str, Counter[str]] = {}
        self._status: dict[str, str] = {}
        self._started = time.monotonic()
        self._area_started: dict[str, float] = {}

    def _expect(self, nodeids: Sequence[str]) -> None:
        if not self._expected:
            self._expected.update(area_of(n) for n in nodeids)
            areas = len(self._expected)
            self._write(f"running {len(nodeids)} tests in {areas} areas")

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if not hasattr(session.config, "workerinput") and session.items:
            self._expect([item.nodeid for item in session.items])

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(
        self, node: Any, ids: Sequence[str]
    ) -> None:
        self._expect(ids)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        nodeid = report.nodeid
        area = area_of(nodeid)
        self._area_started.setdefault(area, time.monotonic())
        previous = self._status.get(nodeid, "passed")
        if getattr(report, "qbtsuite_no_evidence", False):  # throttled: no verdict
            self._status[nodeid] = "error"
        elif report.failed:
            self._status[nodeid] = "failed" if report.when == "call" else "error"
        elif report.skipped and previous == "passed":
            self._status[nodeid] = "skipped"
        else:
            self._status.setdefault(nodeid, "passed")
        if report.when == "teardown":
            done = self._done.setdefault(area, Counter())
            done[self._status.pop(nodeid)] += 1
            if sum(done.values()) == self._expected.get(area, -1):
                self._report(area, done)

    def _report(self, area: str, done: Counter[str]) -> None:
        seconds = time.monotonic() - self._area_started.get(area, self._started)
        parts = [
            f"{done[k]} {k}"
            for k in ("passed", "failed", "error", "skipped")
            if done[k]
        ]
        mark = "✗" if done["failed"] or done["error"] else "✓"
        total = sum(done.values())
        self._write(
            f"  {mark} {area:<16} {total:>4} tests  {', '.join(parts)}  ({seconds:.1f} s)"
        )
