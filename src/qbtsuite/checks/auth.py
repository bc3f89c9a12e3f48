"""Authentication: who is refused, who is served, and that keys are never echoed.

spec/getting-started.txt "Authenticate": every request needs ``Authorization: Bearer
qbt_<key>``; a missing or invalid key returns 401 with type invalid_request_error and
code invalid_api_key; an exhausted account gets 402 insufficient_funds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from qbtsuite.checks._format import (
    ResponseLike,
    describe_response,
    failure,
    read_body,
)
from qbtsuite.checks._registry import check
from qbtsuite.checks.envelope import error_code_is, error_type_matches_status
from qbtsuite.redact import found_in

__all__ = [
    "key_accepted",
    "rejected_as_invalid_api_key",
    "rejected_for_insufficient_funds",
    "response_does_not_echo_key",
]

_MIN_ECHO_LENGTH = 8  # a shorter "key" would match ordinary text


@check
def rejected_as_invalid_api_key(response: ResponseLike) -> None:
    """401 with code invalid_api_key and type invalid_request_error, in the envelope."""
    error_code_is(response, 401, "invalid_api_key")
    error_type_matches_status(response)


@check
def rejected_for_insufficient_funds(response: ResponseLike) -> None:
    """402 with code insufficient_funds and type insufficient_quota (AUTH-011)."""
    error_code_is(response, 402, "insufficient_funds")
    error_type_matches_status(response)


@check
def key_accepted(response: ResponseLike) -> None:
    """A request with a valid key is served (2xx), not refused."""
    if not 200 <= response.status_code <= 299:
        refused = response.status_code in (401, 403)
        raise failure(
            "Valid key refused" if refused else "Authenticated request not served",
            describe_response(response),
            "a 2xx answer for a valid Bearer key",
        )


def _strings(value: Any) -> Iterator[str]:
    """Every string (keys included) of a decoded JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for name, item in value.items():
            yield name
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _encoded_in_body(body: bytes, key: str) -> bool:
    """The key encoded in the body's bytes, or in a string of its JSON (where an
    escaped escape such as ``\\\\u0071`` reads ``\\u0071``)."""
    if found_in(body.decode("latin-1"), key):
        return True
    try:
        decoded = json.loads(body)
    except (ValueError, RecursionError):
        return False
    return any(found_in(text, key) for text in _strings(decoded))


@check
def response_does_not_echo_key(response: ResponseLike, key: str) -> None:
    """Neither the body nor any header repeats the presented key (AUTH-010), as is
    or encoded: base64 (alone or inside a longer text), percent- or JSON-escaped, hex.

    The message says where the key was found, never the key itself.
    """
    if len(key) < _MIN_ECHO_LENGTH:
        raise ValueError("the key to look for is too short to be meaningful")
    places = [
        f"header {name}"
        for name, value in response.headers.multi_items()
        if found_in(value, key)
    ]
    body = read_body(response)
    if body is not None and key.encode() in body:
        places.append(f"body at byte {body.index(key.encode())}")
    elif body is not None and _encoded_in_body(body, key):
        places.append("body (encoded)")
    if places:
        raise failure(
            "Response echoes the presented key",
            f"{response.status_code}: the key appears in {', '.join(places)} "
            "(value withheld)",
            "no trace of the key in the response",
        )
