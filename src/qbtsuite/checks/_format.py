"""How checks describe what they received: short, redacted, precise.

Every :class:`~qbtsuite.errors.CheckFailure` a check raises is built by :func:`failure`,
which scrubs the text with :func:`qbtsuite.redact.scrub` (no ``Bearer …``, ``qbt_…`` or
``sk-…`` value ever reaches a message) and bodies are cut to :data:`BODY_LIMIT`
characters so a failing embedding does not flood a report.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

import httpx

from qbtsuite.errors import CheckFailure
from qbtsuite.redact import scrub

__all__ = [
    "BODY_LIMIT",
    "ResponseLike",
    "body_text",
    "describe_response",
    "describe_value",
    "failure",
    "header",
    "media_type",
    "parse_json",
    "read_body",
    "redact_text",
    "truncate",
]

BODY_LIMIT = 300  # characters of a body quoted in a message


class ResponseLike(Protocol):
    """What checks read from a response: ``httpx.Response`` and the suite's ``Exchange``."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> httpx.Headers: ...

    @property
    def content(self) -> bytes: ...


def redact_text(text: str) -> str:
    """``text`` without anything shaped like a credential."""
    return scrub(text)


def truncate(text: str, limit: int = BODY_LIMIT) -> str:
    """``text`` cut to ``limit`` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… (+{len(text) - limit} chars)"


def read_body(response: ResponseLike) -> bytes | None:
    """The body, or None if the caller streamed the response without reading it."""
    try:
        return response.content
    except httpx.ResponseNotRead:
        return None


def body_text(response: ResponseLike, limit: int = BODY_LIMIT) -> str:
    """A short, redacted rendering of the body for a message."""
    body = read_body(response)
    if body is None:
        return "(body not read)"
    if not body:
        return "(empty body)"
    return redact_text(truncate(body.decode("utf-8", errors="replace"), limit))


def media_type(response: ResponseLike) -> str:
    """The Content-Type without parameters, lower-case ("" if absent)."""
    value = str(response.headers.get("content-type", ""))
    return value.split(";")[0].strip().lower()


def header(response: ResponseLike, name: str) -> str | None:
    """The value of header ``name`` (all values joined by ", "), or None."""
    values = response.headers.get_list(name)
    return ", ".join(values) if values else None


def describe_response(response: ResponseLike, limit: int = BODY_LIMIT) -> str:
    """``403 application/json {"error": …}``: status, media type and body excerpt."""
    kind = media_type(response) or "(no Content-Type)"
    return f"{response.status_code} {kind} {body_text(response, limit)}"


def describe_value(value: Any, limit: int = BODY_LIMIT) -> str:
    """A JSON value as compact JSON, cut and redacted."""
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError):
        text = repr(value)
    return redact_text(truncate(text, limit))


def failure(
    title: str, received: str, expected: str, requirement: str | None = None
) -> CheckFailure:
    """A :class:`CheckFailure` whose texts are redacted."""
    return CheckFailure(
        title=redact_text(title),
        received=redact_text(received),
        expected=redact_text(expected),
        requirement=requirement,
    )


def parse_json(response: ResponseLike, title: str) -> Any:
    """The body decoded as JSON, or a :class:`CheckFailure` under ``title``."""
    body = read_body(response)
    if body is None:
        raise ValueError("the response body was not read; call .read() first")
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:  # too deep for any decoder
        raise failure(
            title,
            f"{describe_response(response)} (not JSON: {exc})",
            "a JSON body",
        ) from None
