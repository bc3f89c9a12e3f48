"""Authentication: who is refused, who is served, and that keys are never echoed.

spec/getting-started.txt "Authenticate": every request needs ``Authorization: Bearer
qbt_<key>``; a missing or invalid key returns 401 with type invalid_request_error and
code invalid_api_key; an exhausted account gets 402 insufficient_funds.
"""

from __future__ import annotations

from qbtsuite.checks._format import (
    ResponseLike,
    describe_response,
    failure,
    read_body,
)
from qbtsuite.checks._registry import check
from qbtsuite.checks.envelope import error_code_is, error_type_matches_status

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


@check
def response_does_not_echo_key(response: ResponseLike, key: str) -> None:
    """Neither the body nor any header repeats the presented key (AUTH-010).

    The message says where the key was found, never the key itself.
    """
    if len(key) < _MIN_ECHO_LENGTH:
        raise ValueError("the key to look for is too short to be meaningful")
    places = [
        f"header {name}"
        for name, value in response.headers.multi_items()
        if key in value
    ]
    body = read_body(response)
    if body is not None and key.encode() in body:
        places.append(f"body at byte {body.index(key.encode())}")
    if places:
        raise failure(
            "Response echoes the presented key",
            f"{response.status_code}: the key appears in {', '.join(places)} "
            "(value withheld)",
            "no trace of the key in the response",
        )
