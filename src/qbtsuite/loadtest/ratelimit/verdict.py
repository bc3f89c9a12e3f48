"""Verdicts of the limiter checks: a check is made of parts; each part passes, fails
or is *not judged* (with the reason, e.g. the check that catches what made it
impossible).

A check fails when a part fails, is ``incomplete`` when some parts could not be
judged and none failed, is ``not judged`` when no part could be, and passes when
every part passed. An informative check (figures only) is ``info``. Only a failed
check fails the run.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = [
    "CHECKS",
    "FAIL",
    "INCOMPLETE",
    "INFO",
    "NOT_JUDGED",
    "PASS",
    "Check",
    "Part",
]

PASS, FAIL, NOT_JUDGED, INCOMPLETE, INFO = (
    "pass",
    "fail",
    "not judged",
    "incomplete",
    "info",
)
CHECKS = ("limit", "rejections", "recovery", "boundary", "isolation", "latency")


@dataclass(frozen=True, slots=True)
class Part:
    """One judged statement of a check."""

    name: str
    verdict: str
    detail: str


@dataclass(slots=True)
class Check:
    """One check of one key: its parts and the figures it measured."""

    name: str
    parts: list[Part] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    informative: bool = False

    @property
    def verdict(self) -> str:
        if self.informative:
            return INFO
        verdicts = {p.verdict for p in self.parts}
        if FAIL in verdicts:
            return FAIL
        if not verdicts or verdicts == {NOT_JUDGED}:
            return NOT_JUDGED
        return INCOMPLETE if NOT_JUDGED in verdicts else PASS

    def add(self, name: str, ok: bool | None, detail: str) -> None:
        """A part: ``ok`` None means not judged (``detail`` says why)."""
        verdict = NOT_JUDGED if ok is None else PASS if ok else FAIL
        self.parts.append(Part(name, verdict, detail))

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "parts": [asdict(p) for p in self.parts],
            "figures": self.figures,
        }
