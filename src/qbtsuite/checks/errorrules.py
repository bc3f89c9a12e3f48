"""Which error-format requirements one error answer is judged by, each on its own.

Every 4xx/5xx the suite meets is held to spec/getting-started.txt "Error format":
the envelope (ERR-001), a JSON Content-Type (ERR-002), a documented type (ERR-003)
that fits the status (ERR-004), a code from the table (ERR-005), OpenAI's ``param``
(ERR-006), and no ``x-should-retry: true`` on a client error (ERR-012).

One deviation should be reported once: an HTML or plain-text page fails ERR-002
only (its statement names them), a JSON body that is not the envelope ERR-001 only,
and the table checks, which read fields of the envelope, are planned only when there
is an envelope to read. Tests run the plan with ``record.check(rid)`` around each
step.

Requirements about *which* refusal an answer is (401 invalid_api_key, 429 …) use
:func:`refused_with`, which leaves the envelope's shape to ERR-001/ERR-002.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from functools import partial
from typing import Any

from qbtsuite.checks._format import (
    ResponseLike,
    describe_response,
    failure,
    media_type,
    parse_json,
    read_body,
)
from qbtsuite.checks._registry import check
from qbtsuite.checks.envelope import (
    declines_capability,
    error_body_conforms,
    error_code_matches_status,
    error_content_type_is_json,
    error_envelope_conforms,
    error_has_param_field,
    error_type_is_documented,
    error_type_matches_status,
    no_retry_hint_on_client_error,
)
from qbtsuite.errors import CheckFailure

__all__ = [
    "ERROR_FORMAT_REQUIREMENTS",
    "declines_in_an_envelope",
    "error_body_is_envelope",
    "error_member_present",
    "error_not_streamed",
    "error_requirement_checks",
    "refused_with",
]

Step = Callable[[], None]

# The table checks need a readable envelope; ERR-001/002/012 apply to any error.
_TABLE: tuple[tuple[str, Callable[[ResponseLike], None]], ...] = (
    ("ERR-003", error_type_is_documented),
    ("ERR-004", error_type_matches_status),
    ("ERR-005", error_code_matches_status),
    ("ERR-006", error_has_param_field),
)

ERROR_FORMAT_REQUIREMENTS = (
    "ERR-001",
    "ERR-002",
    *(rid for rid, _ in _TABLE),
    "ERR-012",
)


@check
def error_body_is_envelope(response: ResponseLike) -> None:
    """The body is ``{"error": {message, type, code}}``, whatever the Content-Type (ERR-001)."""
    decoded = parse_json(response, "Error body does not follow the envelope")
    error_body_conforms(decoded, where=str(response.status_code))


@check
def error_not_streamed(response: ResponseLike) -> None:
    """An error found before a stream starts is an error status, not an event stream (ERR-013)."""
    streamed = media_type(response) == "text/event-stream"
    if response.status_code < 400 or streamed:
        raise failure(
            "Error answered as a stream",
            describe_response(response),
            "a 4xx/5xx error response (application/json envelope), not an event stream",
        )


def _readable(response: ResponseLike) -> bool:
    try:
        error_envelope_conforms(response)
    except CheckFailure:
        return False
    return True


def error_requirement_checks(
    response: ResponseLike, *, skip: Collection[str] = ()
) -> list[tuple[str, Step]]:
    """The (requirement id, check) steps that apply to ``response``.

    Empty for an answer below 400. ``skip`` leaves out ids a test has a documented
    reason not to apply (e.g. ERR-005 for OpenAI's 404 ``model_not_found`` on
    ``GET /v1/models/{id}``, a status the Qubittron table does not cover).
    """
    if response.status_code < 400:
        return []
    steps: list[tuple[str, Step]] = []
    if media_type(response) == "application/json":
        steps.append(("ERR-001", partial(error_body_is_envelope, response)))
    steps.append(("ERR-002", partial(error_content_type_is_json, response)))
    if _readable(response):
        steps += [(rid, partial(fn, response)) for rid, fn in _TABLE]
    steps.append(("ERR-012", partial(no_retry_hint_on_client_error, response)))
    return [(rid, step) for rid, step in steps if rid not in skip]


def _error_object(response: ResponseLike) -> Any:
    """``body["error"]`` if the body is a JSON object with an error member, else None."""
    body = read_body(response)
    try:
        decoded = json.loads(body) if body else None
    except (ValueError, RecursionError):
        return None
    return decoded.get("error") if isinstance(decoded, Mapping) else None


@check
def refused_with(response: ResponseLike, status: int, code: str) -> None:
    """``status``, and error code ``code`` whenever the body carries a code.

    For requirements about *which* refusal a request gets (401 invalid_api_key, 429
    rate_limit_exceeded …): a missing or unreadable envelope is ERR-001/ERR-002's
    finding, judged on the same answer, so one deviation is reported once.
    """
    expected = f"{status} with code {code}"
    if response.status_code != status:
        raise failure("Unexpected HTTP status", describe_response(response), expected)
    error = _error_object(response)
    found = error.get("code") if isinstance(error, Mapping) else None
    if isinstance(found, str) and found != code:
        raise failure("Unexpected error code", describe_response(response), expected)


@check
def error_member_present(response: ResponseLike) -> None:
    """A JSON answer whose body is an object with an ``error`` member (not an HTML page).

    What "in the error envelope" asks of answers outside the documented API (unknown
    paths, optional routes); the envelope's members are ERR-001's.
    """
    if media_type(response) != "application/json" or _error_object(response) is None:
        raise failure(
            "Error not in the envelope",
            describe_response(response),
            f'{response.status_code} application/json {{"error": {{…}}}}',
        )


def declines_in_an_envelope(response: ResponseLike) -> bool:
    """:func:`declines_capability`, or a 404/501 whose JSON body has an error member.

    A target whose envelope lacks a member (ERR-001) still declines an optional
    capability in its envelope; an HTML page never does.
    """
    if declines_capability(response):
        return True
    try:
        error_member_present(response)
    except CheckFailure:
        return False
    return response.status_code in (404, 501)
