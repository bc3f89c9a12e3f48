"""Per-area progress on the terminal while the suite runs (controller side).

A pytest plugin object: it learns how many tests each area has once collection is
done (serially from the session, under pytest-xdist from the first worker's list),
then prints one line per area as soon as all its tests have finished.

Areas are the tests' own (their requirements' area, as ``--area`` selects them), and
each test counts by its qbtsuite outcome, which the plugin puts on the teardown
report: a test whose only violations are SHOULD requirements is "warned", not
"failed" — the line tells the same story as the verdict.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import PurePosixPath
from typing import Any

import pytest

__all__ = ["Progress", "area_of", "areas_of_items"]

# Outcome values (qbtsuite.results.outcomes.Outcome) as the line says them.
_WORDS = {
    "pass": "passed",
    "warn": "warned",
    "fail": "failed",
    "error": "errors",
    "unsupported": "unsupported",
    "skipped": "skipped",
}


def area_of(nodeid: str) -> str:
    """The area a test file covers: ``test_rate_limits.py::…`` → ``rate-limits``
    (for tests that declare no area of their own)."""
    stem = PurePosixPath(nodeid.split("::", 1)[0]).stem
    return stem.removeprefix("test_").replace("_", "-")


def _property(report: pytest.TestReport, name: str) -> str | None:
    return next((str(v) for k, v in report.user_properties if k == name), None)


def areas_of_items(items: Sequence[pytest.Item]) -> dict[str, str]:
    """Each collected test's area, as the plugin declared it (``user_properties``)."""
    found: dict[str, str] = {}
    for item in items:
        area = next((str(v) for k, v in item.user_properties if k == "area"), None)
        if area:
            found[item.nodeid] = area
    return found


def _pytest_outcome(report: pytest.TestReport, previous: str) -> str:
    if getattr(report, "qbtsuite_no_evidence", False):  # throttled: no verdict
        return "error"
    if report.failed:
        return "fail" if report.when == "call" else "error"
    if report.skipped and previous == "pass":
        return "skipped"
    return previous


class Progress:
    """Counts finished tests per area and reports each area once it is complete.

    ``areas`` gives each test's area by node id (from a collection made before the
    run, for pytest-xdist, whose controller only learns node ids); without it, a
    serial session reads them from its items, and anything else falls back to the
    test file's name.
    """

    def __init__(
        self,
        write: Callable[[str], None],
        areas: Mapping[str, str] | None = None,
        *,
        strict: bool = False,
    ) -> None:
        self._write = write
        self._known = dict(areas or {})
        self._strict = strict
        self._expected: Counter[str] = Counter()
        self._area: dict[str, str] = {}
        self._done: dict[str, Counter[str]] = {}
        self._status: dict[str, str] = {}
        self._started = time.monotonic()
        self._area_started: dict[str, float] = {}

    def _area_for(self, nodeid: str) -> str:
        known = self._known.get(nodeid) or self._known.get(nodeid.rsplit("@", 1)[0])
        return known or area_of(nodeid)

    def _expect(self, nodeids: Sequence[str]) -> None:
        if not self._expected:
            for nodeid in nodeids:
                area = self._area.setdefault(nodeid, self._area_for(nodeid))
                self._expected[area] += 1
            self._write(f"running {len(nodeids)} tests in {len(self._expected)} areas")

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if not hasattr(session.config, "workerinput") and session.items:
            self._known.update(areas_of_items(session.items))
            self._expect([item.nodeid for item in session.items])

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(
        self, node: Any, ids: Sequence[str]
    ) -> None:
        self._expect(ids)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        nodeid = report.nodeid
        area = self._area.setdefault(nodeid, self._area_for(nodeid))
        self._area_started.setdefault(area, time.monotonic())
        status = _pytest_outcome(report, self._status.get(nodeid, "pass"))
        self._status[nodeid] = status
        if report.when == "teardown":
            self._status.pop(nodeid)
            done = self._done.setdefault(area, Counter())
            done[_property(report, "outcome") or status] += 1
            if sum(done.values()) == self._expected.get(area, -1):
                self._report(area, done)

    def _report(self, area: str, done: Counter[str]) -> None:
        seconds = time.monotonic() - self._area_started.get(area, self._started)
        parts = [
            f"{done[k]} {word.removesuffix('s') if done[k] == 1 and k == 'error' else word}"
            for k, word in _WORDS.items()
            if done[k]
        ]
        broken = done["fail"] or done["error"] or (self._strict and done["warn"])
        total = sum(done.values())
        self._write(
            f"  {'✗' if broken else '✓'} {area:<16} {total:>4} tests  "
            f"{', '.join(parts)}  ({seconds:.1f} s)"
        )
