"""Re-judge a recorded run: the current checks over its recorded traffic, no network.

The conformance tests run again in one process with :class:`~qbtsuite.target.replay.ReplayTransport`
answering from ``exchanges/``. The target is the recorded one (its base URL, models,
limits; fresh keys in the recorded roles: the recording names credentials by role). A
test keeps its recorded outcome, marked ``not re-judged``, when

- it judges live timing (:data:`LIVE_TIMING_AREAS`: rate-limit windows, Retry-After),
  which a replay cannot reproduce;
- it sent a request the recording does not hold, or reached past the suite's client
  (a raw socket, the openai SDK): :attr:`ReplayTransport.misses`.

The merged records become the new run folder's results; :mod:`qbtsuite.reporting.diff`
says what changed.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType

from qbtsuite import __version__
from qbtsuite.harness.invoke import RunOutcome, RunRequest, run_suite
from qbtsuite.harness.wiretap import ReplayHandoff, credentials_of
from qbtsuite.requirements import load_catalogue
from qbtsuite.results.model import RequirementEntry, RunResults, TestRecord
from qbtsuite.results.records import merge_records
from qbtsuite.results.store import RECORDS_FOLDER, append_record, write_results
from qbtsuite.target.config import Secret, TargetConfig
from qbtsuite.target.replay import ReplayTransport
from qbtsuite.target.wirelog import WireExchange

__all__ = [
    "LIVE_TIMING_AREAS",
    "NOT_REJUDGED",
    "Rejudged",
    "rejudge",
    "replay_target",
]

LIVE_TIMING_AREAS = ("rate-limits",)
NOT_REJUDGED = "not re-judged"


@dataclass(frozen=True)
class Rejudged:
    """The outcome of a rejudge: the merged results and why tests kept theirs."""

    results: RunResults
    rejudged: tuple[str, ...]  # node ids judged again from the recording
    kept: Mapping[str, str]  # node id → why its recorded outcome stands
    dropped: tuple[str, ...]  # tests new to the suite that need unrecorded requests
    outcome: RunOutcome


def replay_target(original: RunResults) -> TargetConfig:
    """The recorded target, with fresh keys in its roles and no breaker (a miss is
    refused at once; it must not stop the replay)."""
    summary = original.run.target
    if summary is None:
        raise ValueError("the run's results name no target")
    keys = {role: Secret(secrets.token_urlsafe(24)) for role in summary.key_roles}
    return TargetConfig(
        base_url=summary.base_url,
        http_url=summary.http_url,
        keys=MappingProxyType(keys),
        models=MappingProxyType(dict(summary.models)),
        upload_cap=summary.upload_cap,
        rate_limit_rpm=summary.rate_limit_rpm,
        rate_limit_window=summary.rate_limit_window,
        connect_timeout=summary.connect_timeout,
        read_timeout=summary.read_timeout,
        deadline=summary.deadline,
        stream_deadline=summary.stream_deadline,
        max_body=summary.max_body,
        max_headers=summary.max_headers,
        no_answer_limit=0,
        request_budget=max(summary.request_budget, 100_000),
        capabilities=summary.capabilities,
        embedded=summary.embedded,
        embeddings_dimensions=summary.embeddings_dimensions,
        fetch_urls=summary.fetch_urls,
        faults=summary.faults,
    )


def _kept(record: TestRecord, why: str) -> TestRecord:
    return replace(record, notes=(*record.notes, f"{NOT_REJUDGED}: {why}"))


def _catalogue() -> dict[str, RequirementEntry]:
    catalogue = load_catalogue()
    return {rid: RequirementEntry.of(r) for rid, r in catalogue.requirements.items()}


def rejudge(
    original: RunResults,
    exchanges: list[WireExchange],
    run_dir: Path,
    write: Callable[[str], None],
) -> Rejudged:
    """Run the suite against the recording into ``run_dir``; merge the outcomes."""
    target = replay_target(original)
    transport = ReplayTransport(exchanges, credentials_of(target))
    selection = original.run.selection
    request = RunRequest(
        target=target,
        run_dir=run_dir,
        profile=original.run.profile,
        areas=selection.areas,
        requirements=selection.requirements,
        skip_areas=tuple(dict.fromkeys((*selection.skip_areas, *LIVE_TIMING_AREAS))),
        skip_requirements=selection.skip_requirements,
        keyword=selection.keyword,
        markexpr=selection.markers,
        strict=original.strict,
        faults=selection.faults,
        allure=False,
        extra_plugins=(ReplayHandoff(transport),),
    )
    outcome = run_suite(request, write)
    fresh = outcome.results.tests if outcome.results is not None else {}
    records: list[TestRecord] = []
    kept: dict[str, str] = {}
    rejudged: list[str] = []
    for nodeid, old in original.tests.items():
        new = fresh.get(nodeid)
        misses = transport.misses.get(nodeid, [])
        if old.area in LIVE_TIMING_AREAS:
            kept[nodeid] = "it judges live timing (rate-limit windows)"
        elif new is None:
            kept[nodeid] = "not selected by the current suite"
        elif misses:
            kept[nodeid] = f"{len(misses)} request(s) not in the recording: {misses[0]}"
        if nodeid in kept:
            records.append(_kept(old, kept[nodeid]))
        elif new is not None:
            records.append(new)
            rejudged.append(nodeid)
    dropped = []
    for nodeid, new in fresh.items():
        if nodeid in original.tests:
            continue
        if transport.misses.get(nodeid):
            dropped.append(nodeid)
        else:
            records.append(new)
            rejudged.append(nodeid)
    base = outcome.results.run if outcome.results is not None else original.run
    facts = replace(
        base,
        suite_version=__version__,
        selection=selection,
        target=original.run.target,
        identity=None,
        models_listing=None,
    )
    records.sort(key=lambda r: r.nodeid)
    merged = merge_records(records, _catalogue(), facts, strict=original.strict)
    folder = run_dir / RECORDS_FOLDER
    for path in folder.glob("*.jsonl"):
        path.unlink()
    for record in records:
        append_record(folder, record)
    write_results(run_dir, merged)
    return Rejudged(merged, tuple(rejudged), kept, tuple(dropped), outcome)
