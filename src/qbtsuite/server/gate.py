"""What every API request passes first: the Bearer key, then the key's rate limit.

Spec/getting-started.txt: "Every request needs a Bearer token"; "Limits are per API
key, evaluated per minute ... A 429 response includes a Retry-After header in seconds".
"""

from __future__ import annotations

from starlette.requests import Request

from qbtsuite.server.apierrors import ApiError
from qbtsuite.server.keys import Account, is_key_token
from qbtsuite.server.parts import Parts
from qbtsuite.server.reqheaders import header

__all__ = ["admit", "authenticate", "ensure_funds"]


# RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token (scheme case-insensitive);
# keys use the token characters [A-Za-z0-9_-].
def _bearer_token(value: str) -> str | None:
    """The key of a well-formed ``Bearer`` header value, else None."""
    scheme, space, rest = value.partition(" ")
    if not space or scheme.lower() != "bearer":
        return None
    token = rest.lstrip(" ")
    return token if is_key_token(token) else None


def _invalid_key(message: str) -> ApiError:
    return ApiError(401, "invalid_api_key", message)


def authenticate(request: Request, parts: Parts) -> Account:
    """The account of a well-formed, known ``Authorization: Bearer`` key, else 401.

    Keys anywhere else (query string, other headers) are not credentials.
    """
    value = header(request, b"authorization")
    if value is None:
        raise _invalid_key("Missing API key: send 'Authorization: Bearer qbt_<key>'")
    scheme, _, rest = value.partition(" ")
    if scheme.lower() == "bearer":
        # Every known key is a well-formed token (keys.is_key_token), so a hit needs
        # no parsing beyond this; the grammar only decides which 401 a miss gets.
        account = parts.keys.get(rest.lstrip(" "))
        if account is not None:
            return account
    if _bearer_token(value) is None:
        raise _invalid_key(
            "Malformed Authorization header: expected 'Bearer qbt_<key>'"
        )
    raise _invalid_key("Invalid API key")


def admit(request: Request, parts: Parts) -> Account:
    """Authenticate, then count the request against the key's per-minute limit."""
    account = authenticate(request, parts)
    peer = request.scope.get("client")  # (host, port), as ``request.client`` reads it
    client = peer[0] if peer else "unknown"
    decision = parts.limiter.check(account.key, account.rpm, client)
    if not decision.admitted:
        raise ApiError(
            429,
            "rate_limit_exceeded",
            f"Rate limit reached: {account.rpm} requests per minute for this key",
            headers=parts.retry_after(decision.retry_after),
        )
    _simulated_failure(request)
    return account


# Test hook of the reference server (not part of the API): a client may ask for the
# upstream failures of the spec's table, to exercise its own handling and retries.
_SIMULATED = {
    "upstream_error": (502, "Upstream model unreachable or returned 5xx (simulated)"),
    "service_unavailable": (
        503,
        "Internal limiter or balance check unavailable — retry (simulated)",
    ),
}


def _simulated_failure(request: Request) -> None:
    wanted = header(request, b"x-qbtsuite-simulate")
    if wanted is not None and wanted in _SIMULATED:
        status, message = _SIMULATED[wanted]
        raise ApiError(status, wanted, message)


def ensure_funds(account: Account) -> None:
    """402 once the account's credit is exhausted ("Account credit exhausted")."""
    if account.balance <= 0:
        raise ApiError(
            402,
            "insufficient_funds",
            "Account credit exhausted: add credit to continue",
        )
