"""Shared views of a run's results for the report writers."""

from __future__ import annotations

from collections.abc import Iterable

from qbtsuite.results.model import RequirementResult, RunResults
from qbtsuite.results.outcomes import Outcome, tally

__all__ = [
    "OUTCOMES",
    "PROBLEMS",
    "area_counts",
    "by_area",
    "fault_banner",
    "faults_of",
    "interruption_line",
    "problems",
    "target_label",
]

OUTCOMES = tuple(Outcome)  # the columns of every table, in this order
PROBLEMS = (Outcome.FAIL, Outcome.WARN, Outcome.ERROR)  # listed with details


def _area_order() -> list[str]:
    try:
        from qbtsuite.requirements import AREAS
    except ImportError:  # pragma: no cover - the catalogue module ships with us
        return []
    return list(AREAS)


def by_area(results: RunResults) -> dict[str, list[RequirementResult]]:
    """Requirements grouped by area, areas in catalogue order, ids in order."""
    grouped: dict[str, list[RequirementResult]] = {}
    for req in results.requirements.values():
        grouped.setdefault(req.area or "other", []).append(req)
    order = _area_order()
    rank = {a: i for i, a in enumerate(order)}
    areas = sorted(grouped, key=lambda a: (rank.get(a, len(order)), a))
    return {a: sorted(grouped[a], key=lambda r: r.id) for a in areas}


def area_counts(reqs: Iterable[RequirementResult]) -> dict[Outcome, int]:
    return tally(r.outcome for r in reqs)


def problems(results: RunResults) -> list[RequirementResult]:
    """Requirements that failed, warned or errored: fails first, then by id."""
    rank = {o: i for i, o in enumerate(PROBLEMS)}
    found = [r for r in results.requirements.values() if r.outcome in rank]
    return sorted(found, key=lambda r: (rank[r.outcome], r.id))


def target_label(results: RunResults) -> str:
    target = results.run.target
    if target is None:
        return "(no target)"
    url = target.base_url or "(no target)"
    return f"{url} (embedded reference server)" if target.embedded else url


def faults_of(results: RunResults) -> tuple[str, ...]:
    """The faults injected into the run's embedded server (none for a real target)."""
    target = results.run.target
    return target.faults if target is not None else ()


def fault_banner(faults: tuple[str, ...]) -> str:
    """The line every report of a fault run carries."""
    return (
        f"fault injected: {', '.join(faults)}, not a real target "
        "(the embedded reference server, broken on purpose)"
    )


def interruption_line(results: RunResults) -> str | None:
    """One sentence for a run stopped by a signal (None for a run that finished)."""
    if results.interrupted is None:
        return None
    signal = results.interrupted.signal
    return (
        f"Interrupted{f' by {signal}' if signal else ''} before every test ran: "
        f"{len(results.not_checked)} requirement(s) never checked (not_checked in "
        "results.json); the outcomes shown are of the tests that ran."
    )
