"""Which error-format requirements one error answer is judged by, each on its own.

Every 4xx/5xx the suite meets is held to spec/getting-started.txt "Error format":
the envelope (ERR-001), a JSON Content-Type (ERR-002), a documented type (ERR-003)
that fits the status (ERR-004), a code from the table (ERR-005), OpenAI's ``param``
(ERR-006), and no ``x-should-retry: true`` on a client error (ERR-012).

Every requirement is judged on what its statement names: an HTML or plain-text page
fails ERR-002 (its statement names them), a JSON body that is not the envelope
ERR-001, and each table check (ERR-003 … ERR-006) the member it names, so an answer
without an error object (``{"detail": …}``, a text page) fails all of them. Answers
outside the documented API (unknown paths; tests leave out ERR-001 and ERR-002 for
them, holding them to ERR-011, a SHOULD) have their members judged only when their
envelope is readable. Tests run the plan with ``record.check(rid)`` around each step.

Requirements about *which* refusal an answer is (401 invalid_api_key, 429 …) use
:func:`refused_with`: the status, and the code the statement names, read from the
error object (no error object, no code: the requirement fails); the type and the
whole envelope too where the statement names them.
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
    error_object,
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
    "rule_checks",
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
    """An error found before a stream starts is a JSON error answer, not a stream (ERR-013).

    "a plain JSON error response": an error status whose JSON body holds the error
    member of the envelope (its members are ERR-001's).
    """
    expected = 'a 4xx/5xx application/json answer {"error": {…}}, not an event stream'
    streamed = media_type(response) == "text/event-stream"
    if response.status_code < 400 or streamed:
        raise failure(
            "Error answered as a stream", describe_response(response), expected
        )
    if media_type(response) != "application/json" or _error_member(response) is None:
        raise failure(
            "Error before the stream not answered in the error envelope",
            describe_response(response),
            expected,
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
    ``GET /v1/models/{id}``, a status the Qubittron table does not cover). With both
    ERR-001 and ERR-002 left out (an answer outside the documented API) the table
    steps are planned only when the envelope is readable.
    """
    if response.status_code < 400:
        return []
    steps: list[tuple[str, Step]] = []
    if media_type(response) == "application/json":
        steps.append(("ERR-001", partial(error_body_is_envelope, response)))
    steps.append(("ERR-002", partial(error_content_type_is_json, response)))
    outside_the_api = {"ERR-001", "ERR-002"} <= set(skip)
    if not outside_the_api or _readable(response):
        steps += [(rid, partial(fn, response)) for rid, fn in _TABLE]
    steps.append(("ERR-012", partial(no_retry_hint_on_client_error, response)))
    return [(rid, step) for rid, step in steps if rid not in skip]


def rule_checks(requirement: str) -> tuple[str, ...]:
    """The check :func:`error_requirement_checks` applies for ``requirement`` (an
    error-format id), by name; none for another id."""
    rules: dict[str, Callable[[ResponseLike], None]] = {
        "ERR-001": error_body_is_envelope,
        "ERR-002": error_content_type_is_json,
        **dict(_TABLE),
        "ERR-012": no_retry_hint_on_client_error,
    }
    rule = rules.get(requirement)
    return (rule.__name__,) if rule is not None else ()


def _error_member(response: ResponseLike) -> Any:
    """``body["error"]`` (of any type) if the body is a JSON object with one, else None."""
    body = read_body(response)
    try:
        decoded = json.loads(body) if body else None
    except (ValueError, RecursionError):
        return None
    return decoded.get("error") if isinstance(decoded, Mapping) else None


def _expected_refusal(
    statuses: tuple[int, ...], code: str | None, error_type: str | None
) -> str:
    text = " or ".join(str(s) for s in statuses)
    if code is not None:
        text += f" with code {code}"
    if error_type is not None:
        text += f"{' and' if code else ' with'} type {error_type}"
    return text + " in the error envelope"


@check
def refused_with(
    response: ResponseLike,
    status: int | Collection[int],
    code: str | None,
    *,
    error_type: str | None = None,
    envelope: bool = False,
) -> None:
    """``status`` (or one of several), with ``code`` and ``error_type`` in the error object.

    For requirements about *which* refusal a request gets (401 invalid_api_key, 429
    rate_limit_exceeded …). The code is read from the error object: an answer without
    one (``{"detail": …}``, a text page, an envelope without ``code``) does not carry
    the code the statement names. ``envelope=True`` also holds the body to the whole
    envelope, for statements that say "in the error envelope". ``code=None`` checks
    no code (a statement that names only a status and the envelope).
    """
    statuses = (status,) if isinstance(status, int) else tuple(sorted(status))
    expected = _expected_refusal(statuses, code, error_type)
    if response.status_code not in statuses:
        raise failure("Unexpected HTTP status", describe_response(response), expected)
    if envelope:
        decoded = parse_json(response, "Refusal not in the error envelope")
        try:
            error_body_conforms(decoded, where=str(response.status_code))
        except CheckFailure as exc:
            raise failure(
                "Refusal not in the error envelope",
                exc.received,
                f"{expected}: {exc.expected}",
            ) from None
    error = error_object(response)
    if error is None and (code is not None or error_type is not None):
        raise failure(
            "Refusal not in the error envelope",
            f"{describe_response(response)} (no error object)",
            expected,
        )
    found = error.get("code") if error is not None else None
    if code is not None and found != code:
        shown = "" if isinstance(found, str) else " (error.code missing)"
        raise failure(
            "Unexpected error code", describe_response(response) + shown, expected
        )
    kind = error.get("type") if error is not None else None
    if error_type is not None and kind != error_type:
        shown = "" if isinstance(kind, str) else " (error.type missing)"
        raise failure(
            "Unexpected error type", describe_response(response) + shown, expected
        )


@check
def error_member_present(response: ResponseLike) -> None:
    """A JSON answer whose body is an object with an ``error`` member (not an HTML page).

    What "in the error envelope" asks of answers outside the documented API (unknown
    paths, optional routes); the envelope's members are ERR-001's.
    """
    if media_type(response) != "application/json" or _error_member(response) is None:
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
