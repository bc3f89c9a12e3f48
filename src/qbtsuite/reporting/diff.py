"""What changed between two runs: newly failing, newly passing, otherwise changed.

For nightly trends: "failing" means fail or warn (the target broke a requirement);
a move into or out of ``error``, ``skipped`` or ``unsupported`` is a change worth
seeing but not a new failure of the target.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FAILING", "Change", "RunDiff", "diff_results", "render_diff"]

FAILING = frozenset({"fail", "warn"})
_ABSENT = "not run"


@dataclass(frozen=True, slots=True)
class Change:
    """One requirement whose outcome differs between the runs."""

    id: str
    old: str
    new: str
    statement: str


@dataclass
class RunDiff:
    """The changes, sorted by id within each group."""

    newly_failing: list[Change] = field(default_factory=list)
    newly_passing: list[Change] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.newly_failing or self.newly_passing or self.changed)


def diff_results(old: Mapping[str, Any], new: Mapping[str, Any]) -> RunDiff:
    """Compare the per-requirement outcomes of two ``results.json`` documents."""
    before = old.get("requirements", {})
    after = new.get("requirements", {})
    result = RunDiff()
    for rid in sorted(set(before) | set(after)):
        was = str(before.get(rid, {}).get("outcome", _ABSENT))
        now = str(after.get(rid, {}).get("outcome", _ABSENT))
        if was == now:
            continue
        statement = str((after.get(rid) or before.get(rid) or {}).get("statement", ""))
        change = Change(rid, was, now, statement)
        if now in FAILING and was not in FAILING:
            result.newly_failing.append(change)
        elif now == "pass" and was in FAILING | {"error"}:
            result.newly_passing.append(change)
        else:
            result.changed.append(change)
    return result


def render_diff(diff: RunDiff, old_label: str, new_label: str) -> str:
    """A plain-text (also valid Markdown) listing of the changes."""
    lines = [f"qbtsuite diff: {old_label} → {new_label}"]
    if diff.empty:
        return "\n".join([*lines, "no requirement changed its outcome"])
    groups = (
        ("Newly failing", diff.newly_failing),
        ("Newly passing", diff.newly_passing),
        ("Changed", diff.changed),
    )
    for title, changes in groups:
        if changes:
            lines += ["", f"{title} ({len(changes)}):"]
            lines += [
                f"  {c.id:<11} {c.old:>11} → {c.new:<11} {c.statement[:90]}"
                for c in changes
            ]
    return "\n".join(lines)
