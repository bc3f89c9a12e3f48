"""Test records merged into the run's results, and the run's verdict.

Each process (the controller, or every pytest-xdist worker) appends one record per test
to ``records/<worker>.jsonl`` (:mod:`qbtsuite.results.store`); the controller merges all
of them once the run is over, so the merge never depends on which worker ran what. The
merged :class:`~qbtsuite.results.model.RunResults` is the single source every report
(HTML, Markdown, certificate, diff) is rendered from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from qbtsuite.exitcodes import ExitCode
from qbtsuite.results.model import (
    Flake,
    Interruption,
    RequirementCheck,
    RequirementEntry,
    RequirementResult,
    RunFacts,
    RunResults,
    TestRecord,
    TestRef,
)
from qbtsuite.results.outcomes import Outcome, Verdict, combine, tally

__all__ = [
    "CERTIFY",
    "exit_code_for",
    "left_out",
    "merge_records",
    "rederive",
    "verdict_of",
]

CERTIFY = "certify"  # the profile whose verdict certifies the whole suite


def verdict_of(
    totals: Mapping[Outcome, int],
    *,
    strict: bool,
    partial: bool = False,
    interrupted: bool = False,
) -> Verdict:
    """``conformant`` unless a MUST failed (or, with ``strict``, a SHOULD warned);
    ``partial`` instead of ``conformant`` when the run left tests out;
    ``interrupted`` for a run stopped before its tests were done."""
    if interrupted:
        return Verdict.INTERRUPTED
    if totals.get(Outcome.FAIL, 0) or (strict and totals.get(Outcome.WARN, 0)):
        return Verdict.NOT_CONFORMANT
    if totals.get(Outcome.ERROR, 0):
        return Verdict.INCOMPLETE
    if not sum(totals.values()):
        return Verdict.EMPTY
    return Verdict.PARTIAL if partial else Verdict.CONFORMANT


def left_out(facts: RunFacts, not_checked: Sequence[str]) -> tuple[str, ...]:
    """What a certify run left out of the whole suite: each departure of its
    selection (``--area auth``) and, if any, the requirements no test checked.
    Empty outside the certify profile (other runs certify nothing)."""
    if facts.profile != CERTIFY:
        return ()
    found = list(facts.selection.departures())
    if not_checked:
        found.append(f"{len(not_checked)} requirement(s) not checked")
    return tuple(found)


_EXIT_CODES = {
    Verdict.CONFORMANT: ExitCode.OK,
    Verdict.NOT_CONFORMANT: ExitCode.FAILED,
    Verdict.INCOMPLETE: ExitCode.INCOMPLETE,
    # A run that checked nothing is a usage error (the selection was empty).
    Verdict.EMPTY: ExitCode.USAGE,
    Verdict.PARTIAL: ExitCode.PARTIAL,
    # The signal decides between 130 and 143 (qbtsuite.process.shutdown); SIGINT unless known.
    Verdict.INTERRUPTED: ExitCode.INTERRUPTED,
}


def exit_code_for(verdict: Verdict) -> ExitCode:
    """OK conformant, FAILED not conformant, INCOMPLETE (no verdict could be given);
    a run that checked nothing is a usage error (the selection was empty)."""
    return _EXIT_CODES[verdict]


def _requirement_result(
    entry: RequirementEntry, checks: Sequence[tuple[TestRecord, RequirementCheck]]
) -> RequirementResult:
    messages: list[str] = []
    for _record, check in checks:
        messages += [m for m in check.messages if m and m not in messages]
    return RequirementResult(
        id=entry.id,
        outcome=combine([c.outcome for _, c in checks]),
        level=entry.level,
        area=entry.area,
        endpoint=entry.endpoint,
        origin=entry.origin,
        statement=entry.statement,
        source=entry.source,
        tests=tuple(TestRef(r.nodeid, c.outcome) for r, c in checks),
        messages=tuple(messages),
        duration=round(sum(r.duration for r, _ in checks), 3),
    )


def merge_records(
    records: Sequence[TestRecord],
    catalogue: Mapping[str, RequirementEntry],
    facts: RunFacts,
    *,
    strict: bool = False,
    interrupted: Interruption | None = None,
) -> RunResults:
    """The run's results from every test record and the catalogue's entries
    (``interrupted``: the run was stopped before its tests were done)."""
    by_requirement: dict[str, list[tuple[TestRecord, RequirementCheck]]] = {}
    for record in records:
        for rid, check in record.requirements.items():
            by_requirement.setdefault(rid, []).append((record, check))
    requirements = {
        rid: _requirement_result(
            catalogue.get(rid) or RequirementEntry.unknown(rid, checks[0][0].area),
            checks,
        )
        for rid, checks in sorted(by_requirement.items())
    }
    totals = tally(r.outcome for r in requirements.values())
    not_checked = tuple(sorted(set(catalogue) - set(requirements)))
    partial = bool(left_out(facts, not_checked))
    return RunResults(
        run=facts,
        strict=strict,
        totals=totals,
        test_totals=tally(r.outcome for r in records),
        verdict=verdict_of(
            totals,
            strict=strict,
            partial=partial,
            interrupted=interrupted is not None,
        ),
        requirements=requirements,
        not_checked=not_checked,
        tests={r.nodeid: r for r in records},
        flakes=tuple(Flake(r.nodeid, retry) for r in records for retry in r.retries),
        interrupted=interrupted,
    )


def rederive(
    results: RunResults, catalogue: Mapping[str, RequirementEntry]
) -> RunResults:
    """``results`` merged again from its own test records, by the code the run used:
    what its per-requirement outcomes, totals, ``not_checked`` and verdict must be."""
    records = sorted(results.tests.values(), key=lambda r: r.nodeid)
    return merge_records(records, catalogue, results.run, strict=results.strict)
