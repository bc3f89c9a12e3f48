"""Verdicts of the limiter checks: a check is made of parts; each part passes, fails
or is *not judged* (with the reason, e.g. the check that catches what made it
impossible).

A check fails when a part fails, is ``incomplete`` when some parts could not be
judged and none failed, is ``not judged`` when no part could be, and passes when
every part passed. An informative check (figures only) is ``info``. Only a failed
check fails the run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["CHECKS", "Check", "CheckVerdict", "Part"]


class CheckVerdict(StrEnum):
    """The verdict of a limiter check or of one of its parts (not a requirement's
    outcome: the limiter is measured under load, not checked by a conformance test)."""

    PASS = "pass"
    FAIL = "fail"
    NOT_JUDGED = "not judged"
    INCOMPLETE = "incomplete"  # a check only: some parts not judged, none failed
    INFO = "info"  # a check only: figures, no verdict


CHECKS = ("limit", "rejections", "recovery", "boundary", "isolation", "latency")


@dataclass(frozen=True, slots=True)
class Part:
    """One judged statement of a check."""

    name: str
    verdict: CheckVerdict
    detail: str


@dataclass(slots=True)
class Check:
    """One check of one key: its parts and the figures it measured."""

    name: str
    parts: list[Part] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    informative: bool = False

    @property
    def verdict(self) -> CheckVerdict:
        if self.informative:
            return CheckVerdict.INFO
        verdicts = {p.verdict for p in self.parts}
        if CheckVerdict.FAIL in verdicts:
            return CheckVerdict.FAIL
        if not verdicts or verdicts == {CheckVerdict.NOT_JUDGED}:
            return CheckVerdict.NOT_JUDGED
        if CheckVerdict.NOT_JUDGED in verdicts:
            return CheckVerdict.INCOMPLETE
        return CheckVerdict.PASS

    def add(self, name: str, ok: bool | None, detail: str) -> None:
        """A part: ``ok`` None means not judged (``detail`` says why)."""
        if ok is None:
            verdict = CheckVerdict.NOT_JUDGED
        else:
            verdict = CheckVerdict.PASS if ok else CheckVerdict.FAIL
        self.parts.append(Part(name, verdict, detail))

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "parts": [
                {"name": p.name, "verdict": p.verdict.value, "detail": p.detail}
                for p in self.parts
            ],
            "figures": self.figures,
        }
