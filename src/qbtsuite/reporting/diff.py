"""What changed between two runs: newly failing, newly warning, newly passing, other.

For nightly trends: "newly failing" is a requirement that now fails (a MUST broken),
"newly warning" one that now warns (a SHOULD broken) without having been broken
before; only the first fails the comparison, unless ``strict`` (as ``--strict``
does for a run). A move into or out of ``error``, ``skipped`` or ``unsupported`` is
a change worth seeing but not a new failure of the target. When the two runs were
not alike (another profile, selection, target, faults, catalogue), the comparison
says so first: an outcome that moved may only have moved because of that.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from qbtsuite.results.model import RunResults
from qbtsuite.results.outcomes import VIOLATIONS, Outcome

__all__ = ["Change", "RunDiff", "diff_results", "render_diff", "render_diff_markdown"]

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
    """The changes, sorted by id within each group, and how the runs differed."""

    newly_failing: list[Change] = field(default_factory=list)
    newly_warning: list[Change] = field(default_factory=list)
    newly_passing: list[Change] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)
    unlike: list[str] = field(default_factory=list)  # "profile: smoke → full"

    @property
    def empty(self) -> bool:
        return not (
            self.newly_failing
            or self.newly_warning
            or self.newly_passing
            or self.changed
        )

    def regressed(self, *, strict: bool = False) -> bool:
        """Whether the comparison fails: a new failure (or, strict, a new warning)."""
        return bool(self.newly_failing or (strict and self.newly_warning))

    def groups(self) -> tuple[tuple[str, list[Change]], ...]:
        return (
            ("Newly failing", self.newly_failing),
            ("Newly warning", self.newly_warning),
            ("Newly passing", self.newly_passing),
            ("Changed", self.changed),
        )


def _unlike(old: RunResults, new: RunResults) -> list[str]:
    """How the two runs differ in what they ran against and what they selected."""
    a, b = old.run, new.run
    found: list[str] = []

    def compare(what: str, before: str, after: str) -> None:
        if before != after:
            found.append(f"{what}: {before} → {after}")

    compare("profile", a.profile or "?", b.profile or "?")
    compare("selection", a.selection.describe(), b.selection.describe())
    compare("strict", str(old.strict).lower(), str(new.strict).lower())
    base = (
        a.target.base_url if a.target else "(none)",
        b.target.base_url if b.target else "(none)",
    )
    compare("target", *base)
    faults = tuple(
        ", ".join(t.faults) if t and t.faults else "none" for t in (a.target, b.target)
    )
    compare("faults injected", *faults)
    compare(
        "catalogue",
        (a.digests.catalogue or "?")[:12],
        (b.digests.catalogue or "?")[:12],
    )
    return found


def diff_results(old: RunResults, new: RunResults) -> RunDiff:
    """Compare the per-requirement outcomes of two runs."""
    before, after = old.requirements, new.requirements
    result = RunDiff(unlike=_unlike(old, new))
    for rid in sorted(set(before) | set(after)):
        was_req, now_req = before.get(rid), after.get(rid)
        was = was_req.outcome if was_req else None
        now = now_req.outcome if now_req else None
        if was == now:
            continue
        shown = now_req or was_req
        change = Change(rid, was, now, shown.statement if shown else "")
        if now == Outcome.FAIL:
            result.newly_failing.append(change)
        elif now == Outcome.WARN and was not in VIOLATIONS:
            result.newly_warning.append(change)
        elif now == Outcome.PASS and was in VIOLATIONS | {Outcome.ERROR}:
            result.newly_passing.append(change)
        else:
            result.changed.append(change)
    return result


def _counts(diff: RunDiff) -> str:
    parts = [f"{len(changes)} {title.lower()}" for title, changes in diff.groups()]
    return ", ".join(parts)


def render_diff(diff: RunDiff, old_label: str, new_label: str) -> str:
    """A plain-text listing of the changes."""
    lines = [f"qbtsuite diff: {old_label} → {new_label}"]
    if diff.unlike:
        lines.append("the runs are not alike, so outcomes may differ for that alone:")
        lines += [f"  {line}" for line in diff.unlike]
    if diff.empty:
        return "\n".join([*lines, "no requirement changed its outcome"])
    lines.append(_counts(diff))
    for title, changes in diff.groups():
        if changes:
            lines += ["", f"{title} ({len(changes)}):"]
            lines += [
                f"  {c.id:<11} {c.old_label:>11} → {c.new_label:<11} {c.statement[:90]}"
                for c in changes
            ]
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_diff_markdown(
    diff: RunDiff, old_label: str, new_label: str, *, strict: bool = False
) -> str:
    """The changes as Markdown, for a CI job summary."""
    icon = "❌" if diff.regressed(strict=strict) else ("✅" if diff.empty else "ℹ️")
    lines = [f"### {icon} Qubittron conformance: `{old_label}` → `{new_label}`", ""]
    if diff.unlike:
        lines += ["> ⚠️ The runs are not alike; outcomes may differ for that alone:"]
        lines += [f"> - {_cell(line)}" for line in diff.unlike]
        lines.append("")
    if diff.empty:
        return "\n".join([*lines, "No requirement changed its outcome.", ""])
    lines += [_counts(diff).capitalize() + ".", ""]
    for title, changes in diff.groups():
        if not changes:
            continue
        lines += [
            f"#### {title} ({len(changes)})",
            "",
            "| id | before | now | statement |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| **{c.id}** | {c.old_label} | {c.new_label} | {_cell(c.statement)} |"
            for c in changes
        ]
        lines.append("")
    return "\n".join(lines)
