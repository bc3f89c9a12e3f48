"""The run's throttling in one place of ``results.json``: what was waited, what was not.

Each test record keeps its throttle answers (``throttle``) and the seconds its
main-key requests were spaced (``paced``); :func:`throttle_totals` adds them up for
the run, with the settings that bounded them, so the report and the terminal can say
what the run spent waiting and what to set when it could not wait enough.
"""

from __future__ import annotations

from collections.abc import Iterable

from qbtsuite.results.model import TargetSummary, TestRecord, ThrottleTotals

__all__ = ["throttle_totals"]


def throttle_totals(
    records: Iterable[TestRecord], target: TargetSummary | None
) -> ThrottleTotals:
    """The totals of every test record's throttle answers and paced seconds."""
    waited = paced = 0.0
    answers = unresolved = 0
    tests: list[str] = []
    roles: set[str] = set()
    statuses: set[int] = set()
    for record in records:
        paced += record.paced
        lost = [a for a in record.throttle if not a.resolved]
        for answer in record.throttle:
            if answer.resolved:
                answers += 1
                waited += answer.waited
        unresolved += len(lost)
        roles.update(a.role or "" for a in lost)
        statuses.update(a.status for a in lost)
        if lost:
            tests.append(record.nodeid)
    return ThrottleTotals(
        waited=round(waited, 3),
        answers=answers,
        unresolved=unresolved,
        tests_without_evidence=tuple(sorted(tests)),
        roles=tuple(sorted(roles)),
        statuses=tuple(sorted(statuses)),
        paced=round(paced, 3),
        max_throttle_wait=None if target is None else target.max_throttle_wait,
        main_key_rpm=None if target is None else target.main_key_rpm,
    )
