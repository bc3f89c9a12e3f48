"""The fault catalogue is well-formed and tied to the requirements catalogue."""

from __future__ import annotations

from collections import Counter

import pytest

from qbtsuite.requirements import AREAS, load_catalogue
from qbtsuite.server.faults import (
    EXPECTS,
    FAULTS,
    UnknownFaultError,
    fault,
    load_faults,
    select,
)

CATALOGUE = load_catalogue()


@pytest.mark.parametrize("name", sorted(load_faults()))
def test_fault_declares_known_requirements_it_breaks(name: str) -> None:
    cls = FAULTS[name]
    if cls.expects == "incomplete":  # it leaves nothing to judge: it breaks nothing
        assert not cls.breaks, f"{name} expects no verdict yet declares {cls.breaks}"
    else:
        assert cls.breaks, f"{name} declares no requirement it breaks"
    unknown = [
        i for i in (*cls.breaks, *cls.collateral) if i not in CATALOGUE.requirements
    ]
    assert not unknown, f"{name} names unknown requirements {unknown}"


@pytest.mark.parametrize("name", sorted(load_faults()))
def test_fault_has_a_known_area_and_a_description(name: str) -> None:
    cls = FAULTS[name]
    assert cls.area in AREAS, f"{name}: area {cls.area!r} is not one of {sorted(AREAS)}"
    assert cls.description and not cls.description.endswith(".")


def test_every_area_but_clients_has_at_least_two_faults() -> None:
    counts = Counter(cls.area for cls in load_faults().values())
    thin = {
        area: counts[area] for area in AREAS if area != "clients" and counts[area] < 2
    }
    assert not thin, f"areas with fewer than two faults: {thin}"


def test_the_catalogue_holds_at_least_forty_faults() -> None:
    assert len(load_faults()) >= 40


def test_selecting_an_unknown_fault_names_it() -> None:
    with pytest.raises(UnknownFaultError, match=r"no\.such\.fault"):
        select(["no.such.fault"])


def test_a_fault_expects_failures_or_an_incomplete_run() -> None:
    expectations = {cls.expects for cls in load_faults().values()}
    assert expectations <= set(EXPECTS), f"Received: {sorted(expectations)}"
    with pytest.raises(ValueError, match="expects must be one of"):
        fault("x.y", area="auth", breaks=(), description="d", expects="maybe")
