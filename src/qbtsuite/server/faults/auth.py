"""Authentication faults: keys accepted where they must not be, wrong status for 401,
the presented key echoed back."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qbtsuite.server.faults import Fault, fault
from qbtsuite.server.faults._asgi import (
    Headers,
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


def _base64(data: bytes, *, urlsafe: bool, padded: bool) -> str:
    encode = base64.urlsafe_b64encode if urlsafe else base64.b64encode
    text = encode(data).decode("ascii")
    return text if padded else text.rstrip("=")


def _echo_forms(value: str) -> dict[str, str]:
    """``value`` in the encodings a leaky gateway or its debug middleware echoes:
    as is; base64 standard and URL-safe (RFC 4648 §4, §5), padded or not, alone and
    inside a longer base64 text at each of the three byte offsets mod 3; every byte
    percent-encoded (upper, lower hex); every character JSON-escaped (``\\uXXXX``,
    upper, lower); hex (upper, lower)."""
    raw = value.encode("utf-8")
    forms = {"plain": value}
    for urlsafe in (False, True):
        alphabet = "b64url" if urlsafe else "b64"
        for padded in (True, False):
            kind = "padded" if padded else "unpadded"
            forms[f"{alphabet}-{kind}"] = _base64(raw, urlsafe=urlsafe, padded=padded)
        for offset in range(3):
            inside = b"~" * offset + b"credential=" + raw + b";scope=all"
            forms[f"{alphabet}-inside-{offset}"] = _base64(
                inside, urlsafe=urlsafe, padded=True
            )
    for upper in (True, False):
        case = "upper" if upper else "lower"
        percent = "".join(f"%{b:02X}" if upper else f"%{b:02x}" for b in raw)
        escaped = "".join(
            f"\\u{ord(c):04X}" if upper else f"\\u{ord(c):04x}" for c in value
        )
        forms[f"percent-{case}"] = percent
        forms[f"json-{case}"] = escaped
        forms[f"hex-{case}"] = raw.hex().upper() if upper else raw.hex()
    return forms


def _echo_message(body: bytes, authorization: str) -> bytes:
    """An error envelope whose message also carries ``authorization`` in every form,
    the JSON-escaped ones raw in the JSON text (a JSON reader decodes them back)."""
    try:
        data = json.loads(body)
        message = data["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return body
    forms = _echo_forms(authorization)
    shown = ", ".join(
        f"{name} @@{name}@@" if name.startswith("json-") else f"{name} {text}"
        for name, text in forms.items()
    )
    data["error"]["message"] = f"{message} (Authorization was: {shown})"
    text = json.dumps(data)
    for name, escaped in forms.items():
        text = text.replace(f"@@{name}@@", escaped)
    return text.encode("utf-8")


@fault(
    "auth.echo_key_encoded",
    area="auth",
    breaks=("AUTH-010",),
    description="Every answer echoes the Authorization value in X-Debug-Authorization-* "
    "headers, error messages too, in 17 encodings (base64, %XX, \\u escapes, hex)",
)
class EchoKeyEncoded(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        def echo_in_errors(
            scope: Scope, status: int, headers: Headers, body: bytes
        ) -> tuple[int, Headers, bytes]:
            value = header(scope["headers"], b"authorization")
            if status < 400 or value is None:
                return status, headers, body
            return status, headers, _echo_message(body, value.decode("latin-1"))

        inner = rewrite_response(app, echo_in_errors)

        async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
            value = header(scope.get("headers", []), b"authorization")
            if scope["type"] != "http" or value is None:
                await app(scope, receive, send)
                return
            echoed = [
                (f"x-debug-authorization-{name}".encode(), text.encode("latin-1"))
                for name, text in _echo_forms(value.decode("latin-1")).items()
            ]

            async def with_echo(message: Message) -> None:
                if message["type"] == "http.response.start":
                    headers = [*message.get("headers", []), *echoed]
                    message = {**message, "headers": headers}
                await send(message)

            await inner(scope, receive, with_echo)

        return wrapped
