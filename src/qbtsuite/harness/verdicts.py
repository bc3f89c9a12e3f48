"""Judging an error answer requirement by requirement, for conformance tests.

One deviation, one requirement: whether a request was refused the documented way
(status and code) is the requirement the test is about; the shape of the error
envelope on the same answer belongs to the error-format requirements (ERR-001 …),
each recorded on its own.
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
    status: int,
    code: str,
    requirement: str,
) -> None:
    """``requirement`` holds if the answer is ``status`` with ``code``; the envelope
    of the same answer is then held to the error format (an HTML 413 page from a
    proxy fails ERR-001 …, not the upload cap)."""
    with record.check(requirement):
        refused_with(response, status, code)
    judge_error(record, response)
