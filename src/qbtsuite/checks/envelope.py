"""The error envelope and the status/code/type table (spec/getting-started.txt "Error format").

Every non-2xx answer is ``{"error": {"message", "type", "code"}}`` (plus OpenAI's
``param``). Which code goes with which status is the table of getting-started.txt,
repeated per endpoint; which type goes with which status is inferred from the type
list and the 401 example (requirements ERR-003/ERR-004). A status the table does not
list (404, 405, 500 …) only needs the envelope, but a documented code must come with
its documented status (a 404 ``model_not_found`` is wrong). The table checks read one
member each (:func:`error_object`): a missing member, or no error object at all,
fails the requirement that names that member.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from qbtsuite.checks._format import (
    ResponseLike,
    describe_response,
    describe_value,
    failure,
    header,
    media_type,
    read_body,
)
from qbtsuite.checks._registry import check
from qbtsuite.checks.evidence import answer_is_about_the_request

__all__ = [
    "DOCUMENTED_TYPES",
    "ERROR_TABLE",
    "ErrorRow",
    "codes_for",
    "declines_capability",
    "error_body_conforms",
    "error_code_is",
    "error_code_matches_status",
    "error_content_type_is_json",
    "error_envelope_conforms",
    "error_has_param_field",
    "error_matches_table",
    "error_object",
    "error_of",
    "error_type_is_documented",
    "error_type_matches_status",
    "expected_type",
    "no_retry_hint_on_client_error",
    "rejected_as_client_error",
    "status_is",
]


@dataclass(frozen=True, slots=True)
class ErrorRow:
    """One row of the documented error table."""

    status: int
    code: str
    type: str
    when: str


# spec/getting-started.txt "Error format" (each endpoint repeats its subset).
ERROR_TABLE: tuple[ErrorRow, ...] = (
    ErrorRow(400, "invalid_request", "invalid_request_error", "Body failed validation"),
    ErrorRow(
        400,
        "model_not_found",
        "invalid_request_error",
        "Model unknown or doesn't support this endpoint",
    ),
    # The 401 type is the doc's own example body.
    ErrorRow(401, "invalid_api_key", "invalid_request_error", "Missing/invalid key"),
    ErrorRow(402, "insufficient_funds", "insufficient_quota", "Credit exhausted"),
    # The docs name no type for 413; a client error is an invalid_request_error.
    ErrorRow(
        413,
        "request_entity_too_large",
        "invalid_request_error",
        "Multipart upload exceeds 25 MB",
    ),
    ErrorRow(429, "rate_limit_exceeded", "rate_limit_error", "Rate limit hit"),
    ErrorRow(502, "upstream_error", "api_error", "Upstream unreachable or 5xx"),
    ErrorRow(503, "service_unavailable", "api_error", "Limiter/balance unavailable"),
)

# The "type" list of the error format.
DOCUMENTED_TYPES = frozenset(
    {"invalid_request_error", "api_error", "insufficient_quota", "rate_limit_error"}
)

_CODE_STATUS = {row.code: row.status for row in ERROR_TABLE}


def codes_for(status: int) -> frozenset[str]:
    """The documented codes of ``status`` (empty for a status the table omits)."""
    return frozenset(row.code for row in ERROR_TABLE if row.status == status)


def expected_type(status: int) -> str | None:
    """The type a ``status`` should carry (ERR-004), None if the docs imply none."""
    for row in ERROR_TABLE:
        if row.status == status:
            return row.type
    return "api_error" if 500 <= status <= 599 else None


def _statuses(expected: int | Collection[int]) -> tuple[int, ...]:
    return (expected,) if isinstance(expected, int) else tuple(sorted(expected))


def _or(values: Collection[object]) -> str:
    return " or ".join(str(v) for v in values)


@check
def status_is(response: ResponseLike, expected: int | Collection[int]) -> None:
    """The response has the expected status (or one of them)."""
    allowed = _statuses(expected)
    if response.status_code not in allowed:
        raise failure(
            "Unexpected HTTP status",
            describe_response(response),
            f"status {_or(allowed)}",
        )


@check
def error_content_type_is_json(response: ResponseLike) -> None:
    """An error answer is ``application/json`` (charset allowed), not HTML or text."""
    if media_type(response) != "application/json":
        raise failure(
            "Error response is not JSON",
            describe_response(response),
            f"{response.status_code} with Content-Type application/json "
            "and the error envelope",
        )


def _bad_member(error: Mapping[str, Any], name: str, *, non_empty: bool) -> str | None:
    if name not in error:
        return f"error.{name} is missing"
    value = error[name]
    if not isinstance(value, str):
        return f"error.{name} is {describe_value(value, 60)}, not a string"
    if non_empty and not value.strip():
        return f"error.{name} is empty"
    return None


@check
def error_body_conforms(body: Any, where: str = "") -> None:
    """A decoded body is ``{"error": {message, type, code}}`` with string members.

    ``where`` prefixes the body in the message (a status, or ``"chunk #3:"``).
    """
    title = "Error body does not follow the envelope"
    expected = (
        '{"error": {"message": <non-empty string>, "type": <string>, '
        '"code": <string>, …}}'
    )
    if not isinstance(body, Mapping) or not isinstance(body.get("error"), Mapping):
        raise failure(title, f"{where} {describe_value(body)}".strip(), expected)
    error = body["error"]
    problems = [
        problem
        for problem in (
            _bad_member(error, "message", non_empty=True),
            _bad_member(error, "type", non_empty=True),
            _bad_member(error, "code", non_empty=True),
        )
        if problem is not None
    ]
    if problems:
        raise failure(
            title,
            f"{where} {describe_value(body)} ({'; '.join(problems)})".strip(),
            expected,
        )


def error_of(response: ResponseLike) -> dict[str, Any]:
    """Check the envelope of ``response`` and return its ``error`` object."""
    error_envelope_conforms(response)
    body = read_body(response)
    assert body is not None  # error_envelope_conforms read it
    error: dict[str, Any] = json.loads(body)["error"]
    return error


@check
def error_envelope_conforms(response: ResponseLike) -> None:
    """Content-Type JSON and the documented envelope, for any error status (ERR-001/002)."""
    error_content_type_is_json(response)
    body = read_body(response)
    if body is None:
        raise ValueError("the response body was not read; call .read() first")
    try:
        decoded = json.loads(body)
    except (ValueError, RecursionError) as exc:  # nested too deep: not usable JSON
        raise failure(
            "Error body does not follow the envelope",
            f"{describe_response(response)} (not JSON: {exc})",
            f"{response.status_code} with a JSON body "
            '{"error": {"message", "type", "code"}}',
        ) from None
    error_body_conforms(decoded, where=str(response.status_code))


def error_object(response: ResponseLike) -> Mapping[str, Any] | None:
    """``body["error"]`` when the body is JSON with an error *object*, else None.

    The table checks read one member each from it, so an envelope that lacks a member
    fails the requirement about that member, and an answer without an error object
    (``{"detail": …}``, a text page) fails every requirement that names a member.
    """
    body = read_body(response)
    try:
        decoded = json.loads(body) if body else None
    except ValueError:
        return None
    error = decoded.get("error") if isinstance(decoded, Mapping) else None
    return error if isinstance(error, Mapping) else None


def _member(response: ResponseLike, name: str) -> Any:
    error = error_object(response)
    return error.get(name) if error is not None else None


def _absent(response: ResponseLike, name: str) -> str:
    """What the answer shows instead of ``error.<name>``."""
    if error_object(response) is None:
        return f"{describe_response(response)} (no error object)"
    return f"{describe_response(response)} (error.{name} missing)"


@check
def error_type_is_documented(response: ResponseLike) -> None:
    """``error.type`` is one of the documented types (ERR-003)."""
    kind = _member(response, "type")
    expected = f"error.type one of {', '.join(sorted(DOCUMENTED_TYPES))}"
    if not isinstance(kind, str):
        raise failure("Error without a type", _absent(response, "type"), expected)
    if kind not in DOCUMENTED_TYPES:
        raise failure("Undocumented error type", describe_response(response), expected)


@check
def error_type_matches_status(response: ResponseLike) -> None:
    """``error.type`` is the one that goes with the status (ERR-004)."""
    wanted = expected_type(response.status_code)
    if wanted is None:
        return
    kind = _member(response, "type")
    if kind != wanted:
        received = (
            describe_response(response)
            if isinstance(kind, str)
            else _absent(response, "type")
        )
        raise failure(
            "Error type does not match the status",
            received,
            f"{response.status_code} with type {wanted}",
        )


@check
def error_code_matches_status(response: ResponseLike) -> None:
    """``error.code`` is one the table lists for the status, and vice versa (ERR-005)."""
    status, code = response.status_code, _member(response, "code")
    codes = codes_for(status)
    if codes and code not in codes:
        received = (
            describe_response(response)
            if isinstance(code, str)
            else _absent(response, "code")
        )
        raise failure(
            "Error code does not match the status",
            received,
            f"{status} with code {_or(sorted(codes))}",
        )
    documented = _CODE_STATUS.get(code) if isinstance(code, str) else None
    if documented is not None and documented != status:
        raise failure(
            "Documented error code sent with the wrong status",
            describe_response(response),
            f"code {code} with status {documented}",
        )


@check
def error_matches_table(response: ResponseLike) -> None:
    """Status ↔ code ↔ type against the documented table (each member read on its own)."""
    error_code_matches_status(response)
    error_type_matches_status(response)


@check
def error_code_is(
    response: ResponseLike, status: int, code: str | Collection[str]
) -> None:
    """The response is ``status`` with ``code`` (or one of several) in the envelope."""
    codes = (code,) if isinstance(code, str) else tuple(code)
    expected = f"{status} with code {_or(codes)} in the error envelope"
    if response.status_code != status:
        raise failure("Unexpected HTTP status", describe_response(response), expected)
    error_envelope_conforms(response)
    if error_of(response)["code"] not in codes:
        raise failure("Unexpected error code", describe_response(response), expected)


@check
def error_has_param_field(response: ResponseLike) -> None:
    """The error object carries OpenAI's ``param`` key, a string or null (ERR-006)."""
    error = error_object(response)
    if (
        error is None
        or "param" not in error
        or not isinstance(error["param"], str | None)
    ):
        if error is None:
            shown = "no error object"
        elif "param" not in error:
            shown = "param missing"
        else:
            shown = f"param {describe_value(error['param'])}"
        raise failure(
            "Error lacks OpenAI's param field",
            f"{describe_response(response)} ({shown})",
            "error.param present, a string or null (OpenAI Error schema)",
        )


@check
def no_retry_hint_on_client_error(response: ResponseLike) -> None:
    """A 4xx other than 408/409/429 does not say ``x-should-retry: true`` (ERR-012)."""
    status = response.status_code
    hint = header(response, "x-should-retry")
    if 400 <= status <= 499 and status not in (408, 409, 429) and hint == "true":
        raise failure(
            "Client error invites a retry",
            f"{status} with x-should-retry: true (the OpenAI SDKs retry it)",
            "no x-should-retry: true on a client error",
        )


@check
def rejected_as_client_error(response: ResponseLike) -> None:
    """A bad request is refused with a 4xx about it in the envelope, not a 5xx.

    A 401/403/404/405 answers something else than the request; a throttle is the
    run's own (:mod:`qbtsuite.checks.evidence`).
    """
    answer_is_about_the_request(
        response,
        title="Bad request not refused as a client error",
        expected="a 4xx about the request (not 401/403/404/405/429) in the error "
        "envelope",
        about="how the bad request is refused",
    )
    error_envelope_conforms(response)


def declines_capability(response: ResponseLike) -> bool:
    """True when the target declines an optional capability *in the documented envelope*.

    That is a 404 or 501, or a 400 ``model_not_found``, whose body is the error envelope.
    Tests turn it into ``unsupported``; anything else (an HTML 500, a bare 404 page)
    is judged by the checks and may fail.
    """
    if response.status_code not in (400, 404, 501):
        return False
    try:
        error = error_of(response)
    except (AssertionError, ValueError):
        return False
    return response.status_code != 400 or error["code"] == "model_not_found"
