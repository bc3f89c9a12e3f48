"""Per-test recording of requirement outcomes (the ``record`` fixture).

A test checks several requirements; ``with record.check("SSE-003"): ...`` narrows a
:class:`~qbtsuite.errors.CheckFailure` to one requirement and lets the test go on.
At the end of the test every recorded failure fails the test, listing all messages
(:class:`RecordedFailures`), so one broken requirement never hides another.

Throttling is recorded too (:meth:`RequirementRecorder.throttled`, ``paced``): each
wait is a note of the test, and a throttle that was not waited out leaves the test
without evidence (``unresolved``): the harness makes it an error whatever the test
concluded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from qbtsuite import redact
from qbtsuite.errors import CheckFailure
from qbtsuite.results.model import Retry, ThrottleAnswer
from qbtsuite.results.outcomes import VIOLATIONS, Outcome
from qbtsuite.target.exchange import Exchange, RetryEvent
from qbtsuite.target.throttle import ThrottleEvent

__all__ = ["MAX_TRANSCRIPTS", "RecordedFailures", "RequirementRecorder", "failed_as"]

MAX_TRANSCRIPTS = 12  # per test: the first few and the last ones are kept


def failed_as(level: str) -> Outcome:
    """The outcome of a violated requirement: fail for MUST, warn for SHOULD."""
    return Outcome.WARN if level.upper() == "SHOULD" else Outcome.FAIL


class RecordedFailures(AssertionError):
    """Raised after the test body when ``record.check`` blocks recorded failures."""

    def __init__(self, messages: list[str]) -> None:
        self.messages = messages
        body = "\n\n".join(messages)
        super().__init__(f"{len(messages)} requirement check(s) failed:\n\n{body}")


class RequirementRecorder:
    """Collects explicit per-requirement outcomes, notes and transcripts of one test."""

    def __init__(
        self,
        nodeid: str,
        requirements: list[str],
        level_of: Callable[[str], str],
        is_known: Callable[[str], bool] = lambda _rid: True,
    ) -> None:
        self.nodeid = nodeid
        self.requirements = list(requirements)
        self._level_of = level_of
        self._is_known = is_known
        self.explicit: dict[str, list[Outcome]] = {}
        self.messages: dict[str, list[str]] = {}
        self.notes: list[str] = []
        self.transcripts: list[str] = []
        self.omitted = 0
        self.retries: list[Retry] = []
        self.throttle: list[ThrottleAnswer] = []
        self.unresolved: list[str] = []  # throttles not waited out: no evidence
        self.paced_seconds = 0.0
        self._attached: set[int] = set()

    def level(self, requirement: str) -> str:
        return self._level_of(requirement)

    def _add(self, requirement: str, outcome: Outcome, message: str = "") -> None:
        if not self._is_known(requirement):
            raise ValueError(f"unknown requirement id {requirement!r} in {self.nodeid}")
        if requirement not in self.requirements:
            self.requirements.append(requirement)
        self.explicit.setdefault(requirement, []).append(outcome)
        if message:
            self.messages.setdefault(requirement, []).append(redact.scrub(message))

    @contextmanager
    def check(self, requirement: str) -> Iterator[None]:
        """Check ``requirement`` in this block; a CheckFailure is recorded, not raised."""
        try:
            yield
        except CheckFailure as exc:
            self._add(requirement, failed_as(self.level(requirement)), exc.message)
        else:
            self._add(requirement, Outcome.PASS)

    def skipped(self, requirement: str, reason: str) -> None:
        """Record that ``requirement`` could not be checked in this test, and why
        (a test checking several requirements goes on with the others)."""
        self._add(requirement, Outcome.SKIPPED, reason)

    def note(self, text: str) -> None:
        """Add information for the report (shown with the test, never a verdict)."""
        self.notes.append(redact.scrub(text))

    def attach(self, exchange: Exchange | str) -> None:
        """Attach a transcript (an :class:`Exchange` or text) to the test's record."""
        if isinstance(exchange, Exchange):
            if id(exchange) in self._attached:
                return
            self._attached.add(id(exchange))
            text = exchange.transcript
        else:
            text = exchange
        self.transcripts.append(redact.scrub(text))
        if len(self.transcripts) > MAX_TRANSCRIPTS:
            # keep the first third and the most recent ones; count the rest
            del self.transcripts[MAX_TRANSCRIPTS // 3]
            self.omitted += 1

    def retried(self, event: RetryEvent) -> None:
        """Record a retry (a flake): it is reported, never hidden."""
        self.retries.append(
            Retry(
                method=event.method,
                url=redact.scrub(event.url),
                attempt=event.attempt,
                reason=redact.scrub(event.reason),
                wait=event.wait,
            )
        )

    def tolerate(self, failure: CheckFailure, strict: bool) -> bool:
        """Whether ``failure``, raised by the test body, violates SHOULD requirements
        only; if so it is recorded as their warning and the test may pass.

        The requirements it concerns are the ones classify would give its outcome:
        its own ``requirement=``, else every requirement not checked explicitly.
        """
        if strict:
            return False
        if failure.requirement is not None:
            concerned = [failure.requirement]
        else:
            concerned = [r for r in self.requirements if r not in self.explicit]
        if not concerned or not all(
            self._is_known(r) and failed_as(self.level(r)) is Outcome.WARN
            for r in concerned
        ):
            return False
        for rid in concerned:
            self._add(rid, Outcome.WARN, failure.message)
        return True

    def throttled(self, event: ThrottleEvent) -> None:
        """Record a throttle answer: waited out (a note), or not (no evidence)."""
        self.throttle.append(
            ThrottleAnswer(
                role=event.role,
                method=event.method,
                path=redact.scrub(event.path),
                status=event.answer.status,
                code=event.answer.code,
                retry_after=event.answer.retry_after,
                waited=round(event.waited, 3),
                resolved=event.resolved,
                reason=redact.scrub(event.reason),
            )
        )
        message = redact.scrub(event.message)
        self.notes.append(message)
        if not event.resolved:
            self.unresolved.append(message)

    def paced(self, seconds: float) -> None:
        """Count time spent spacing the main key's requests (its declared limit)."""
        self.paced_seconds += seconds

    def cannot_judge(self, requirement: str, reason: str) -> None:
        """Record that this test's answer for ``requirement`` proves nothing about it
        and that this is the run's doing (a key throttled by its own use): error."""
        self._add(requirement, Outcome.ERROR, reason)

    def _messages_of(self, wanted: frozenset[Outcome]) -> list[str]:
        out = []
        for rid, outcomes in self.explicit.items():
            if any(o in wanted for o in outcomes):
                out += [f"[{rid}] {m}" for m in self.messages.get(rid, [])]
        return out

    def failure_messages(self, *, strict: bool = False) -> list[str]:
        """Messages of every requirement recorded as failed or warned, in order —
        none when only SHOULD requirements warned (unless ``strict``): a warning
        alone does not fail the test."""
        breaking = VIOLATIONS if strict else frozenset({Outcome.FAIL})
        outcomes = {o for recorded in self.explicit.values() for o in recorded}
        if not outcomes & breaking:
            return []
        return self._messages_of(VIOLATIONS)

    def warning_messages(self) -> list[str]:
        """Messages of every requirement recorded as warned (SHOULD), in order."""
        return self._messages_of(frozenset({Outcome.WARN}))
