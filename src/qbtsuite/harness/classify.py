"""Turn how a test ended into one outcome per requirement (README.md, 'Running the suite', "Outcomes").

- passed → pass; a :class:`CheckFailure` → fail (MUST) or warn (SHOULD); with
  ``requirement=`` it narrows the verdict to that id (outcomes.py);
- :class:`~qbtsuite.results.outcomes.Unsupported` → unsupported; other skips → skipped;
- any other exception, and failures in fixtures → error (the suite or network);
- a throttle the client could not wait out (``recorder.unresolved``) → error for
  every requirement of the test, whatever it concluded: a 429 of a key the test did
  not mean to exhaust is no evidence (README.md, "Throttled runs").

Requirements checked explicitly with ``record.check`` keep what was recorded; the
others take the test's outcome.
"""

from __future__ import annotations

from dataclasses import dataclass

from qbtsuite.errors import CheckFailure
from qbtsuite.harness.recording import RecordedFailures, RequirementRecorder, failed_as
from qbtsuite.harness.signals import Unsupported
from qbtsuite.results.model import RequirementCheck
from qbtsuite.results.outcomes import Outcome, combine

__all__ = ["Classified", "Phase", "classify"]


@dataclass(frozen=True, slots=True)
class Phase:
    """One pytest phase (setup, call, teardown) of a test as it ended."""

    when: str
    outcome: str  # "passed" | "failed" | "skipped"
    exc: BaseException | None = None
    text: str = ""  # the one-line reason or the failure text, redacted


@dataclass
class Classified:
    """The test's own outcome, a reason line, and the per-requirement outcomes."""

    outcome: Outcome
    reason: str
    requirements: dict[str, RequirementCheck]


def _skip_outcome(phase: Phase) -> Outcome:
    return (
        Outcome.UNSUPPORTED if isinstance(phase.exc, Unsupported) else Outcome.SKIPPED
    )


def _ending(phases: dict[str, Phase]) -> Phase | None:
    """The phase that decided the test: a non-passing setup or call, else teardown."""
    for when in ("setup", "call"):
        phase = phases.get(when)
        if phase is not None and phase.outcome != "passed":
            return phase
    teardown = phases.get("teardown")
    if teardown is not None and teardown.outcome == "failed":
        return teardown
    return None


def _unchecked(ending: Phase | None, rid: str, level: str) -> tuple[Outcome, list[str]]:
    """The outcome of a requirement the test did not check explicitly."""
    if ending is None:
        return Outcome.PASS, []
    exc = ending.exc
    if ending.outcome == "skipped":
        return _skip_outcome(ending), [ending.text] if ending.text else []
    if ending.when != "call":
        return Outcome.ERROR, [f"{ending.when} failed: {ending.text}"]
    if isinstance(exc, RecordedFailures):
        return Outcome.PASS, []
    if isinstance(exc, CheckFailure):
        if exc.requirement is None or exc.requirement == rid:
            return failed_as(level), [ending.text]
        return Outcome.PASS, []
    return Outcome.ERROR, [ending.text]


def _without_evidence(recorder: RequirementRecorder) -> Classified:
    """Every requirement of a test whose answers were throttles: error, with why."""
    reason = recorder.unresolved[0]
    results = {
        rid: RequirementCheck(Outcome.ERROR, (reason,)) for rid in recorder.requirements
    }
    return Classified(Outcome.ERROR, reason, results)


def classify(
    phases: dict[str, Phase],
    recorder: RequirementRecorder,
    declared_capability_missing: str | None = None,
) -> Classified:
    """Per-requirement outcomes of one test.

    ``declared_capability_missing`` names a capability the target declared but then
    answered as unsupported: that is a failure, not "unsupported" (certify).
    """
    if recorder.unresolved:
        return _without_evidence(recorder)
    ending = _ending(phases)
    narrowed = (
        ending.exc.requirement
        if ending and isinstance(ending.exc, CheckFailure)
        else None
    )
    ids = list(recorder.requirements)
    if narrowed and narrowed not in ids:
        ids.append(narrowed)
    results: dict[str, RequirementCheck] = {}
    for rid in ids:
        level = recorder.level(rid)
        outcome, messages = _unchecked(ending, rid, level)
        if rid in recorder.explicit:
            explicit = recorder.explicit[rid]
            if rid == narrowed:
                explicit = [*explicit, outcome]
            outcome = combine(explicit)
            messages = recorder.messages.get(rid, []) + (
                messages if rid == narrowed else []
            )
        if outcome is Outcome.UNSUPPORTED and declared_capability_missing:
            outcome = failed_as(level)
            messages = [
                f"the target declared the capability {declared_capability_missing!r} "
                f"but answered that it is unsupported: {' '.join(messages)}".strip()
            ]
        results[rid] = RequirementCheck(outcome, tuple(messages))
    overall = (
        combine([r.outcome for r in results.values()])
        if results
        else (_unchecked(ending, "", "MUST")[0])
    )
    reason = ending.text.splitlines()[0] if ending and ending.text else ""
    if not reason:  # a warning alone lets the test pass: its first message says why
        warned = [r for r in results.values() if r.outcome is Outcome.WARN]
        first = next((m for r in warned for m in r.messages if m), "")
        reason = first.splitlines()[0] if first else ""
    return Classified(overall, reason, results)
