"""Requirement × run: several runs side by side (``qbtsuite compare``).

Runs are put in time order (their start). Runs of different targets give the gateway
matrix; runs of one target over time give the trend of each requirement: the first run
in which it failed, the last in which it passed, and whether it is *flapping* (its
outcome changed at least twice in the window). Runs made from different catalogues
(different digests) are compared on the requirements every catalogue holds; the rest
are named, not compared.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from qbtsuite.reporting._common import target_label
from qbtsuite.results.model import RequirementResult, RunResults
from qbtsuite.results.outcomes import Outcome

__all__ = [
    "NOT_CHECKED",
    "Cell",
    "Comparison",
    "Row",
    "RunColumn",
    "Trend",
    "compare_runs",
]

NOT_CHECKED = "not checked"  # in the run's catalogue, no selected test checked it
_REGRESSIONS = frozenset({Outcome.FAIL, Outcome.WARN})
_FAILING = frozenset({Outcome.FAIL, Outcome.ERROR})


@dataclass(frozen=True)
class RunColumn:
    """One run: where it is and what it was."""

    path: Path
    label: str  # short: its folder's name
    target: str
    identity: str  # the certified product, "" when not certified
    suite_version: str
    catalogue: str  # digest, "" when unknown
    started: str
    faults: tuple[str, ...]
    verdict: str


@dataclass(frozen=True)
class Cell:
    """One requirement in one run: its outcome (or ``not checked``) and why."""

    outcome: str  # an Outcome value, or NOT_CHECKED
    reason: str  # the first line of its first message
    anchor: str  # where its failure card is in that run's report.html, "" if none


@dataclass(frozen=True)
class Trend:
    first_failing: (
        int | None
    )  # index of the run it first failed in (of the latest streak)
    last_passing: int | None  # index of the last run it passed in
    changes: int  # outcome changes from one run to the next
    flapping: bool  # changes >= 2


@dataclass(frozen=True)
class Row:
    id: str
    area: str
    level: str
    statement: str
    cells: tuple[Cell, ...]
    trend: Trend

    @property
    def differs(self) -> bool:
        return len({c.outcome for c in self.cells}) > 1


@dataclass(frozen=True)
class Comparison:
    runs: tuple[RunColumn, ...]
    rows: tuple[Row, ...]  # differing rows first, each group by area then id
    catalogues_differ: bool
    not_common: tuple[str, ...]  # requirements not in every run's catalogue
    one_target: bool

    @property
    def differing(self) -> tuple[Row, ...]:
        return tuple(r for r in self.rows if r.differs)

    def regressions(self) -> tuple[Row, ...]:
        """Rows that passed in the run before the last and fail or warn in the last."""
        if len(self.runs) < 2:
            return ()
        return tuple(
            r
            for r in self.rows
            if r.cells[-2].outcome == Outcome.PASS.value
            and r.cells[-1].outcome in {o.value for o in _REGRESSIONS}
        )


def _folder(path: Path) -> Path:
    """The run folder of a folder or of its results.json."""
    return path.parent if path.name == "results.json" else path


def _column(path: Path, results: RunResults) -> RunColumn:
    run = results.run
    identity = run.identity.label() if run.identity is not None else ""
    target = run.target
    return RunColumn(
        path=path,
        label=_folder(path).name,
        target=target_label(results),
        identity=identity,
        suite_version=run.suite_version,
        catalogue=run.digests.catalogue or "",
        started=run.started,
        faults=target.faults if target is not None else (),
        verdict=str(results.verdict),
    )


def _catalogue_ids(results: RunResults) -> set[str]:
    return set(results.requirements) | set(results.not_checked)


def _cell(results: RunResults, rid: str) -> Cell:
    req = results.requirements.get(rid)
    if req is None:
        return Cell(NOT_CHECKED, "", "")
    reason = req.messages[0].splitlines()[0] if req.messages else ""
    problem = req.outcome in {Outcome.FAIL, Outcome.WARN, Outcome.ERROR}
    return Cell(req.outcome.value, reason, f"req-{rid}" if problem else "")


def _trend(cells: Sequence[Cell]) -> Trend:
    outcomes = [c.outcome for c in cells]
    changes = sum(1 for a, b in itertools.pairwise(outcomes) if a != b)
    last_pass = max(
        (i for i, o in enumerate(outcomes) if o == Outcome.PASS.value), default=None
    )
    failing = {o.value for o in _FAILING}
    first_fail = None
    start = 0 if last_pass is None else last_pass + 1
    for i in range(start, len(outcomes)):
        if outcomes[i] in failing:
            first_fail = i
            break
    return Trend(first_fail, last_pass, changes, changes >= 2)


def _describe(rid: str, found: Sequence[RunResults]) -> RequirementResult | None:
    for results in reversed(found):
        if rid in results.requirements:
            return results.requirements[rid]
    return None


def _area_rank() -> dict[str, int]:
    from qbtsuite.requirements import AREAS

    return {area: i for i, area in enumerate(AREAS)}


def compare_runs(runs: Sequence[tuple[Path, RunResults]]) -> Comparison:
    """The comparison of ``runs`` (two or more), in time order."""
    ordered = sorted(runs, key=lambda pr: pr[1].run.started)
    results = [r for _, r in ordered]
    catalogues = {r.run.digests.catalogue for r in results}
    sets = [_catalogue_ids(r) for r in results]
    common = set.intersection(*sets) if sets else set()
    everything = set.union(*sets) if sets else set()
    rank = _area_rank()
    rows = []
    for rid in common:
        cells = tuple(_cell(r, rid) for r in results)
        known = _describe(rid, results)
        rows.append(
            Row(
                id=rid,
                area=known.area if known else "",
                level=known.level if known else "",
                statement=known.statement if known else "",
                cells=cells,
                trend=_trend(cells),
            )
        )
    rows.sort(key=lambda r: (not r.differs, rank.get(r.area, 99), r.area, r.id))
    targets = {r.run.target.base_url if r.run.target else "" for r in results}
    return Comparison(
        runs=tuple(_column(p, r) for p, r in ordered),
        rows=tuple(rows),
        catalogues_differ=len(catalogues) > 1,
        not_common=tuple(sorted(everything - common)),
        one_target=len(targets) == 1
        or all(r.run.target and r.run.target.embedded for r in results),
    )
