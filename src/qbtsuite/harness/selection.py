"""What each conformance test declares (markers), which tests a run selects, and the
spend a selection plans (``--dry-run``).

Markers:
``requirement(*ids)`` the catalogue ids the test checks; ``area(name)``;
``smoke`` part of the smoke profile; ``spends(key_role)`` uses up a key's rate budget
(such tests share one pytest-xdist group, so parallel runs do not trip the limit);
``spend(requests=, tokens=, images=, audio_seconds=)`` what one run of it costs;
``capability(name)`` needs an optional capability of the target (one of
:data:`qbtsuite.capabilities.CAPABILITIES`).

Capabilities (:func:`undeclared_capabilities`): a test needing one the target's
declaration leaves out is skipped before it runs; without a declaration every test
runs, except those needing a capability assumed only of some targets (``catalogue``:
Qubittron's own; ``simulated_failures``: the embedded server), see
:meth:`TargetConfig.declares`. A test checking several requirements may run while
one of them needs a capability that is not declared: that requirement alone is
reported skipped (:func:`gated_requirements`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from qbtsuite.capabilities import CAPABILITIES, by_endpoint, not_declared_reason
from qbtsuite.results.model import RequirementEntry, Selection
from qbtsuite.results.plan import SPEND_UNITS, Plan, PlannedTest, Spend, SpendTally
from qbtsuite.target.config import TargetConfig

__all__ = [
    "MARKERS",
    "PROFILES",
    "TestInfo",
    "capability_skip_reason",
    "claimed_capability",
    "endpoint_marks",
    "gated_requirements",
    "info_for",
    "partial_refusal",
    "select",
    "spend_plan",
    "undeclared_capabilities",
    "unknown_capability_marks",
]

PROFILES = ("smoke", "full", "certify")

MARKERS = (
    "requirement(*ids): requirement ids from conformance/requirements.toml that the test checks",
    "area(name): the requirement area of a conformance test",
    "smoke: part of the smoke profile (a handful of cheap requests, safe for production)",
    "spends(key_role): the test uses up the rate budget of a key role (main, second, zero_balance, low_limit)",
    "spend(requests=1, tokens=0, images=0, audio_seconds=0): the planned cost of one run of the test",
    "capability(*names): the test needs these optional capabilities of the target (qbtsuite.capabilities)",
    "slow: slower tests (wait for rate-limit windows, large uploads)",
)


@dataclass(frozen=True)
class TestInfo:
    """The declarations of one conformance test, read once from its markers."""

    __test__ = False  # not a pytest test class

    requirements: tuple[str, ...]
    area: str
    endpoint: str
    smoke: bool
    spends: tuple[str, ...]
    spend: Spend
    spend_declared: bool
    capabilities: tuple[str, ...]


def requirement_ids(item: pytest.Item) -> list[str]:
    """The ids of every ``requirement`` marker on ``item``, in order, once each."""
    ids: list[str] = []
    for mark in item.iter_markers("requirement"):
        for rid in mark.args:
            if rid not in ids:
                ids.append(str(rid))
    return ids


def _module_area(item: pytest.Item) -> str:
    stem = Path(str(item.path)).stem
    return stem.removeprefix("test_").replace("_", "-")


def _spend(item: pytest.Item) -> Spend:
    """The ``spend(...)`` marker's units; one request when it gives none."""
    mark = item.get_closest_marker("spend")
    if mark is None:
        return Spend(requests=1.0)
    unknown = set(mark.kwargs) - set(SPEND_UNITS)
    if unknown:
        raise pytest.UsageError(
            f"{item.nodeid}: unknown spend unit(s) {', '.join(sorted(unknown))} "
            f"(known: {', '.join(SPEND_UNITS)})"
        )
    units = {"requests": 1.0, **{k: float(v) for k, v in mark.kwargs.items()}}
    return Spend(**units)


def info_for(item: pytest.Item, catalogue: Mapping[str, RequirementEntry]) -> TestInfo:
    """Read ``item``'s markers; area and endpoint default from the catalogue."""
    ids = tuple(requirement_ids(item))
    first = catalogue.get(ids[0]) if ids else None
    area_mark = item.get_closest_marker("area")
    area = str(area_mark.args[0]) if area_mark and area_mark.args else ""
    area = area or (first.area if first else "") or _module_area(item)
    spend_mark = item.get_closest_marker("spend")
    return TestInfo(
        requirements=ids,
        area=area,
        endpoint=first.endpoint if first else "",
        smoke=item.get_closest_marker("smoke") is not None,
        spends=tuple(str(a) for m in item.iter_markers("spends") for a in m.args),
        spend=_spend(item),
        spend_declared=spend_mark is not None,
        capabilities=tuple(
            str(a) for m in item.iter_markers("capability") for a in m.args
        ),
    )


def undeclared_capabilities(info: TestInfo, target: TargetConfig | None) -> list[str]:
    """The capabilities ``info`` needs that the target does not offer (in order)."""
    if target is None:
        return []
    return [c for c in info.capabilities if target.declares(c) is False]


def claimed_capability(info: TestInfo, target: TargetConfig | None) -> str | None:
    """A capability ``info`` needs that the target offers: "unsupported" is then a fail."""
    if target is None:
        return None
    return next((c for c in info.capabilities if target.declares(c)), None)


def capability_skip_reason(missing: Iterable[str]) -> str:
    """Why a test needing the ``missing`` capabilities is skipped."""
    return not_declared_reason(missing)


def partial_refusal(departures: Iterable[str]) -> str:
    """Why a certify run that leaves tests out is refused (one line)."""
    return (
        "the certify profile runs the whole suite, but "
        f"{', '.join(departures)} leaves tests out: drop it, or add --allow-partial "
        "for a 'partial' result (never 'conformant', exit 7)"
    )


def gated_requirements(
    ids: Iterable[str],
    catalogue: Mapping[str, RequirementEntry],
    target: TargetConfig | None,
) -> dict[str, str]:
    """The requirements among ``ids`` whose catalogue capabilities the target does
    not offer, with the reason: reported skipped whatever the test found."""
    if target is None:
        return {}
    gated: dict[str, str] = {}
    for rid in ids:
        entry = catalogue.get(rid)
        missing = [
            c
            for c in (entry.capabilities if entry else ())
            if target.declares(c) is False
        ]
        if missing:
            gated[rid] = capability_skip_reason(missing)
    return gated


def endpoint_marks(endpoint: str) -> list[pytest.MarkDecorator]:
    """The marks of a test case that calls ``endpoint``: its capability, if the
    endpoint is one (images, transcriptions); for ``pytest.param(marks=...)``."""
    capability = by_endpoint(endpoint)
    return [] if capability is None else [pytest.mark.capability(capability.name)]


def unknown_capability_marks(item: pytest.Item) -> list[str]:
    """The names in ``item``'s capability markers that are no capability."""
    names = [str(a) for m in item.iter_markers("capability") for a in m.args]
    return [n for n in names if n not in CAPABILITIES]


def _split(values: Iterable[str] | None) -> list[str]:
    out: list[str] = []
    for value in values or []:
        out += [v.strip() for v in value.split(",") if v.strip()]
    return out


def select(
    items: list[pytest.Item],
    infos: Mapping[pytest.Item, TestInfo],
    *,
    profile: str,
    areas: Iterable[str] | None,
    requirements: Iterable[str] | None,
    known_areas: Iterable[str],
    known_ids: Iterable[str],
    skip_areas: Iterable[str] | None = None,
    skip_requirements: Iterable[str] | None = None,
) -> tuple[list[pytest.Item], list[pytest.Item]]:
    """Split ``items`` into (selected, deselected) by profile, areas and ids.

    ``skip_areas`` leaves out those areas; ``skip_requirements`` leaves out every test
    that checks one of those ids (a requirement checked only by such tests goes
    unchecked too). Only conformance tests (those with ``infos``) are selected by
    their markers; other tests in the same session are left alone unless a
    selection is asked.
    """
    wanted_areas = set(_split(areas))
    wanted_ids = set(_split(requirements))
    unwanted_areas = set(_split(skip_areas))
    unwanted_ids = set(_split(skip_requirements))
    all_areas = set(known_areas) | {i.area for i in infos.values()}
    bad_areas = (wanted_areas | unwanted_areas) - all_areas
    if bad_areas:
        raise pytest.UsageError(
            f"unknown area(s): {', '.join(sorted(bad_areas))} "
            f"(known: {', '.join(sorted(all_areas))})"
        )
    ids = set(known_ids)
    bad_ids = (wanted_ids | unwanted_ids) - ids if ids else set()
    if bad_ids:
        raise pytest.UsageError(
            f"unknown requirement id(s): {', '.join(sorted(bad_ids))}"
        )
    selected: list[pytest.Item] = []
    deselected: list[pytest.Item] = []
    for item in items:
        info = infos.get(item)
        if info is None:  # not a conformance test: kept unless a selection is asked
            keep = profile != "smoke" and not wanted_areas and not wanted_ids
            (selected if keep else deselected).append(item)
            continue
        keep = (
            (profile != "smoke" or info.smoke)
            and (not wanted_areas or info.area in wanted_areas)
            and (not wanted_ids or bool(wanted_ids & set(info.requirements)))
            and info.area not in unwanted_areas
            and not unwanted_ids & set(info.requirements)
        )
        (selected if keep else deselected).append(item)
    return selected, deselected


def spend_plan(
    items: list[pytest.Item],
    infos: Mapping[pytest.Item, TestInfo],
    profile: str = "",
    selection: Selection | None = None,
) -> Plan:
    """The planned spend of ``items`` (the final selection, after ``-k``/``-m``): per
    test, per area and in total, with the selection that chose them.

    A test skipped before it runs (an undeclared capability) sends nothing.
    """
    tests: list[PlannedTest] = []
    areas: dict[str, SpendTally] = {}
    totals = SpendTally()
    undeclared = 0
    for item in items:
        info = infos.get(item)
        if info is None or item.get_closest_marker("skip") is not None:
            continue
        tests.append(PlannedTest(item.nodeid, info.area, info.spend))
        areas[info.area] = areas.get(info.area, SpendTally()).plus(info.spend)
        totals = totals.plus(info.spend)
        undeclared += 0 if info.spend_declared else 1
    return Plan(
        tests=tuple(tests),
        areas=dict(sorted(areas.items())),
        totals=totals,
        undeclared=undeclared,
        profile=profile,
        selection=selection or Selection(),
    )
