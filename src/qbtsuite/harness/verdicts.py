"""Judging an error answer requirement by requirement, for conformance tests.

Whether a request was refused the documented way is the requirement the test is
about, judged on everything its statement names: the status, the code, the type,
the envelope (:func:`~qbtsuite.checks.refused_with`). The error format of the same
answer (ERR-001 …) is recorded on its own, requirement by requirement.
"""

from __future__ import annotations

from collections.abc import Collection

from qbtsuite.checks import error_requirement_checks, refused_with
from qbtsuite.checks._format import ResponseLike
from qbtsuite.harness.recording import RequirementRecorder

__all__ = ["judge_error", "refused"]


def judge_error(
    record: RequirementRecorder, response: ResponseLike, skip: Collection[str] = ()
) -> None:
    """Hold an error answer to the error format, one requirement at a time.

    ``skip`` leaves out ids a test has a documented reason not to judge.
    """
    for rid, step in error_requirement_checks(response, skip=skip):
        with record.check(rid):
            step()


def refused(
    record: RequirementRecorder,
    response: ResponseLike,
    status: int | Collection[int],
    code: str | None,
    requirement: str,
    *,
    error_type: str | None = None,
    envelope: bool = False,
) -> None:
    """``requirement`` holds if the answer is ``status`` with ``code`` in its error
    object (and ``error_type``, and the whole envelope with ``envelope=True``, where
    the statement names them); the same answer is then held to the error format."""
    with record.check(requirement):
        refused_with(response, status, code, error_type=error_type, envelope=envelope)
    judge_error(record, response)
