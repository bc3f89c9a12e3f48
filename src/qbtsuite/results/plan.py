"""The dry-run plan (``plan.json``): what the selected tests would spend, per test, per
area and in total. Nothing is sent to make it: each test declares its spend with the
``spend(...)`` marker (one request when it declares none)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from qbtsuite.results._json import JSONObject, Reader
from qbtsuite.results.model import Selection

__all__ = ["SPEND_UNITS", "Plan", "PlannedTest", "Spend", "SpendTally"]

SPEND_UNITS = ("requests", "tokens", "images", "audio_seconds")


@dataclass(frozen=True, slots=True)
class Spend:
    """What the target meters, in the units of :data:`SPEND_UNITS`."""

    requests: float = 0.0
    tokens: float = 0.0
    images: float = 0.0
    audio_seconds: float = 0.0

    def __add__(self, other: Spend) -> Spend:
        return Spend(
            self.requests + other.requests,
            self.tokens + other.tokens,
            self.images + other.images,
            self.audio_seconds + other.audio_seconds,
        )

    def to_json(self) -> JSONObject:
        return {
            "requests": self.requests,
            "tokens": self.tokens,
            "images": self.images,
            "audio_seconds": self.audio_seconds,
        }

    @classmethod
    def from_json(cls, data: Reader) -> Spend:
        return cls(*(data.number(unit, 0.0) for unit in SPEND_UNITS))


@dataclass(frozen=True, slots=True)
class PlannedTest:
    """One selected test and what one run of it costs."""

    nodeid: str
    area: str
    spend: Spend

    def to_json(self) -> JSONObject:
        return {"nodeid": self.nodeid, "area": self.area, **self.spend.to_json()}

    @classmethod
    def from_json(cls, data: Reader) -> PlannedTest:
        return cls(data.text("nodeid"), data.text("area"), Spend.from_json(data))


@dataclass(frozen=True, slots=True)
class SpendTally:
    """The spend of several tests (an area's, or the whole plan's)."""

    tests: int = 0
    spend: Spend = Spend()

    def plus(self, spend: Spend) -> SpendTally:
        return SpendTally(self.tests + 1, self.spend + spend)

    def to_json(self) -> JSONObject:
        return {"tests": self.tests, **self.spend.to_json()}

    @classmethod
    def from_json(cls, data: Reader) -> SpendTally:
        return cls(data.integer("tests", 0), Spend.from_json(data))


@dataclass(frozen=True, slots=True)
class Plan:
    """``plan.json``: the selected tests, per area (sorted) and in total, and the
    selection that chose them (profile, areas, ids, exclusions, -k/-m)."""

    tests: tuple[PlannedTest, ...]
    areas: Mapping[str, SpendTally]
    totals: SpendTally
    undeclared: int  # tests that declare no spend (each counted as 1 request)
    profile: str = ""
    selection: Selection = field(default_factory=Selection)

    def to_json(self) -> JSONObject:
        return {
            "tests": [t.to_json() for t in self.tests],
            "areas": {area: tally.to_json() for area, tally in self.areas.items()},
            "totals": self.totals.to_json(),
            "undeclared": self.undeclared,
            "profile": self.profile,
            "selection": self.selection.to_json(),
        }

    @classmethod
    def from_json(cls, data: Reader) -> Plan:
        return cls(
            tests=tuple(PlannedTest.from_json(t) for t in data.children("tests", [])),
            areas={
                area: SpendTally.from_json(tally)
                for area, tally in data.child("areas", {}).entries()
            },
            totals=SpendTally.from_json(data.child("totals")),
            undeclared=data.integer("undeclared", 0),
            profile=data.text("profile", ""),
            selection=Selection.from_json(data.child("selection", {})),
        )
