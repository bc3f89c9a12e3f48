"""Authentication faults: keys accepted where they must not be, wrong status for 401."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Receive, Scope, Send

from qbtsuite.server.faults import Fault, fault
from qbtsuite.server.faults._asgi import (
    header,
    json_rewrite,
    replace_header,
    rewrite_response,
)
from qbtsuite.server.parts import Parts

__all__: list[str] = []


def _with_authorization(scope: Scope, value: str) -> Scope:
    headers = replace_header(list(scope["headers"]), b"authorization", value.encode())
    return {**scope, "headers": headers}


@fault(
    "auth.forbidden_instead_of_401",
    area="auth",
    breaks=(
        "AUTH-001",
        "AUTH-002",
        "AUTH-004",
        "AUTH-005",
        "AUTH-003",
        "AUTH-006",
        "AUTH-008",
        "AUTH-009",
        "ERR-005",
        "CLIENT-008",
    ),
    description="Bad or missing keys get 403 (same envelope) instead of 401",
)
class ForbiddenInsteadOf401(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        return rewrite_response(
            app, lambda s, status, h, b: (403 if status == 401 else status, h, b)
        )


@fault(
    "auth.query_key_accepted",
    area="auth",
    breaks=("AUTH-006",),
    description="A key passed as ?api_key= in the URL is accepted",
)
class QueryKeyAccepted(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
            if (
                scope["type"] == "http"
                and header(scope["headers"], b"authorization") is None
            ):
                query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
                if "api_key" in query:
                    scope = _with_authorization(scope, f"Bearer {query['api_key'][0]}")
            await app(scope, receive, send)

        return wrapped


@fault(
    "auth.any_scheme_accepted",
    area="auth",
    breaks=("AUTH-003",),
    description="The key is accepted after any scheme word (Basic, Token, …), not only Bearer",
)
class AnySchemeAccepted(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
            value = header(scope.get("headers", []), b"authorization")
            if value is not None and b" " in value.strip():
                token = value.strip().split()[-1].decode("latin-1")
                scope = _with_authorization(scope, f"Bearer {token}")
            await app(scope, receive, send)

        return wrapped


@fault(
    "auth.missing_key_is_guest",
    area="auth",
    breaks=("AUTH-001", "AUTH-008"),
    description="Requests without any Authorization header are served as a default account",
)
class MissingKeyIsGuest(Fault):
    def __init__(self) -> None:
        self._guest = ""

    def apply(self, parts: Parts) -> None:
        self._guest = parts.keys.accounts()[0].key

    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
            if (
                scope["type"] == "http"
                and header(scope["headers"], b"authorization") is None
            ):
                scope = _with_authorization(scope, f"Bearer {self._guest}")
            await app(scope, receive, send)

        return wrapped


@fault(
    "auth.key_echoed_in_401",
    area="auth",
    breaks=("AUTH-010",),
    description="The 401 message quotes the presented token ('Invalid API key: qbt_…')",
)
class KeyEchoedIn401(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        def quote(scope: Scope, body: Any) -> Any:
            value = header(scope.get("headers", []), b"authorization")
            error = body.get("error") if isinstance(body, dict) else None
            if value is not None and isinstance(error, dict):
                token = value.decode("latin-1").strip().split(" ")[-1]
                error["message"] = f"Invalid API key: {json.dumps(token)[1:-1]}"
            return body

        return rewrite_response(app, json_rewrite(quote, only_status=401))
