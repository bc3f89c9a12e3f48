"""Outcomes of requirements, and how a test's end becomes one.

A conformance test declares what it checks with ``@pytest.mark.requirement(ids...)``.
Its pytest result becomes the outcome of each id, unless the test narrowed it:

- a :class:`~qbtsuite.errors.CheckFailure` with ``requirement=`` fails only that id;
- :func:`~qbtsuite.harness.signals.unsupported` ends the test as "unsupported" (an optional capability the target
  declines in the documented envelope) — never to be confused with "fail";
- ``pytest.skip`` means "skipped" (not configured), with the reason shown;
- any other exception is "error" (the suite or the network failed, not the target).

A failed SHOULD requirement is reported as "warn". The run as a whole ends with one
:class:`Verdict`. Both vocabularies are written to ``results.json`` as their values.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

__all__ = ["VIOLATIONS", "Outcome", "Verdict", "combine", "tally"]


class Outcome(StrEnum):
    """What happened to one requirement."""

    PASS = "pass"
    FAIL = "fail"  # a MUST requirement was violated
    WARN = "warn"  # a SHOULD requirement was violated
    UNSUPPORTED = "unsupported"
    SKIPPED = "skipped"
    ERROR = "error"


# The target broke the requirement (MUST: fail, SHOULD: warn); the other outcomes say
# nothing against the target.
VIOLATIONS = frozenset({Outcome.FAIL, Outcome.WARN})


class Verdict(StrEnum):
    """The run's one-word answer (README, 'Exit codes')."""

    CONFORMANT = "conformant"
    NOT_CONFORMANT = "not conformant"
    INCOMPLETE = "incomplete"  # errors, no failures: no verdict can be given
    EMPTY = "no requirements checked"
    # certify only: what was checked held, but the run left tests out (a selection,
    # a fault, requirements no test checked); never "conformant"
    PARTIAL = "partial"
    # Stopped by SIGTERM/SIGINT before every test ran: never "conformant", whatever
    # the tests that did run found (what never ran is in ``not_checked``).
    INTERRUPTED = "interrupted"


# When several tests check one requirement, the worst outcome stands.
_SEVERITY = {
    Outcome.FAIL: 6,
    Outcome.WARN: 5,
    Outcome.ERROR: 4,
    Outcome.PASS: 3,
    Outcome.UNSUPPORTED: 2,
    Outcome.SKIPPED: 1,
}


def combine(outcomes: list[Outcome]) -> Outcome:
    """The outcome of a requirement checked by several tests."""
    return max(outcomes, key=_SEVERITY.__getitem__, default=Outcome.SKIPPED)


def tally(outcomes: Iterable[Outcome]) -> dict[Outcome, int]:
    """How many of each outcome, every outcome present, in :class:`Outcome` order."""
    counts = dict.fromkeys(Outcome, 0)
    for outcome in outcomes:
        counts[outcome] += 1
    return counts
