"""The run's throttling in one place of ``results.json``: what was waited, what was not.

Each test record keeps its throttle events (``throttle``) and the seconds its main-key
requests were spaced (``paced``); :func:`throttle_totals` adds them up for the run,
with the settings that bounded them, so the report and the terminal can say what the
run spent waiting and what to set when it could not wait enough.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypedDict

__all__ = ["ThrottleTotals", "throttle_totals"]


class ThrottleTotals(TypedDict):
    """The run-level throttle figures (``results.json`` → ``throttle``)."""

    waited: float  # seconds spent waiting out Retry-After, every process together
    answers: int  # throttle answers waited out (each request was then sent again)
    unresolved: int  # throttle answers that could not be waited out
    tests_without_evidence: list[str]  # node ids those answers made errors
    roles: list[str]  # key roles with an unresolved throttle ("" for no key)
    statuses: list[int]  # their statuses (429, 402, 503 …)
    paced: float  # seconds spent spacing the main key's requests
    max_throttle_wait: float | None
    main_key_rpm: int | None


def throttle_totals(
    records: Iterable[Mapping[str, Any]], target: Mapping[str, Any] | None
) -> ThrottleTotals:
    """The totals of every test record's ``throttle`` events and ``paced`` seconds."""
    waited = 0.0
    answers = unresolved = 0
    tests: list[str] = []
    roles: set[str] = set()
    statuses: set[int] = set()
    paced = 0.0
    for record in records:
        paced += float(record.get("paced") or 0.0)
        lost = False
        for event in record.get("throttle") or []:
            if event.get("resolved"):
                answers += 1
                waited += float(event.get("waited") or 0.0)
                continue
            unresolved += 1
            lost = True
            roles.add(str(event.get("role") or ""))
            statuses.add(int(event.get("status") or 0))
        if lost:
            tests.append(str(record.get("nodeid")))
    target = target or {}
    return ThrottleTotals(
        waited=round(waited, 3),
        answers=answers,
        unresolved=unresolved,
        tests_without_evidence=sorted(tests),
        roles=sorted(roles),
        statuses=sorted(statuses),
        paced=round(paced, 3),
        max_throttle_wait=target.get("max_throttle_wait"),
        main_key_rpm=target.get("main_key_rpm"),
    )
