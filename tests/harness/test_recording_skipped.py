"""record.skipped: one requirement of a multi-requirement test could not be checked."""

from __future__ import annotations

from qbtsuite.errors import CheckFailure
from qbtsuite.harness.classify import Phase, classify
from qbtsuite.harness.recording import RecordedFailures, RequirementRecorder
from qbtsuite.results.outcomes import Outcome


def _recorder() -> RequirementRecorder:
    return RequirementRecorder(
        "t.py::test_x", ["RATE-001", "RATE-003"], lambda _: "MUST"
    )


def test_a_skipped_requirement_is_skipped_with_its_reason_while_others_pass() -> None:
    record = _recorder()
    with record.check("RATE-001"):
        pass
    record.skipped("RATE-003", "the 429 had no Retry-After")
    result = classify({"call": Phase("call", "passed")}, record)
    assert result.requirements["RATE-001"].outcome is Outcome.PASS
    skipped = result.requirements["RATE-003"]
    assert skipped.outcome is Outcome.SKIPPED
    assert skipped.messages == ("the 429 had no Retry-After",)
    assert result.outcome is Outcome.PASS
    assert record.failure_messages() == []


def _no_429() -> None:
    # A call, not a bare raise: record.check swallows the CheckFailure, which its
    # @contextmanager type cannot say, so mypy would take what follows as unreachable.
    raise CheckFailure(title="No 429", received="200", expected="429")


def test_a_skipped_requirement_stays_skipped_when_another_one_fails() -> None:
    record = _recorder()
    with record.check("RATE-001"):
        _no_429()
    record.skipped("RATE-003", "no 429 to wait after")
    failed = RecordedFailures(record.failure_messages())
    result = classify({"call": Phase("call", "failed", failed, str(failed))}, record)
    assert result.requirements["RATE-001"].outcome is Outcome.FAIL
    assert result.requirements["RATE-003"].outcome is Outcome.SKIPPED
    assert result.outcome is Outcome.FAIL
