"""What changed between two runs: newly failing, newly passing, otherwise changed.

For nightly trends: "failing" means fail or warn (the target broke a requirement);
a move into or out of ``error``, ``skipped`` or ``unsupported`` is a change worth
seeing but not a new failure of the target.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from qbtsuite.results.model import RunResults
from qbtsuite.results.outcomes import VIOLATIONS, Outcome

__all__ = ["Change", "RunDiff", "diff_results", "render_diff"]

_ABSENT = "not run"


@dataclass(frozen=True, slots=True)
class Change:
    """One requirement whose outcome differs between the runs."""

    id: str
    old: Outcome | None  # None: not run
    new: Outcome | None
    statement: str

    @property
    def old_label(self) -> str:
        return _ABSENT if self.old is None else self.old.value

    @property
    def new_label(self) -> str:
        return _ABSENT if self.new is None else self.new.value


@dataclass
class RunDiff:
    """The changes, sorted by id within each group."""

    newly_failing: list[Change] = field(default_factory=list)
    newly_passing: list[Change] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.newly_failing or self.newly_passing or self.changed)


def diff_results(old: RunResults, new: RunResults) -> RunDiff:
    """Compare the per-requirement outcomes of two runs."""
    before, after = old.requirements, new.requirements
    result = RunDiff()
    for rid in sorted(set(before) | set(after)):
        was_req, now_req = before.get(rid), after.get(rid)
        was = was_req.outcome if was_req else None
        now = now_req.outcome if now_req else None
        if was == now:
            continue
        shown = now_req or was_req
        change = Change(rid, was, now, shown.statement if shown else "")
        if now in VIOLATIONS and was not in VIOLATIONS:
            result.newly_failing.append(change)
        elif now == Outcome.PASS and was in VIOLATIONS | {Outcome.ERROR}:
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
                f"  {c.id:<11} {c.old_label:>11} → {c.new_label:<11} {c.statement[:90]}"
                for c in changes
            ]
    return "\n".join(lines)
