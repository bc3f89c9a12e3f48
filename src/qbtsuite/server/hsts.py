"""Strict-Transport-Security on every HTTPS response (RFC 6797).

HSTS is what stops a client from ever sending the cleartext request the redirect
answers (protocol-facts §4.3 T4).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["HSTS_VALUE", "with_hsts"]

HSTS_VALUE = b"max-age=31536000"


def with_hsts(app: ASGIApp) -> ASGIApp:
    """Wrap ``app`` so each response start carries the HSTS header."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"strict-transport-security", HSTS_VALUE))
                message = {**message, "headers": headers}
            await send(message)

        await app(scope, receive, send_with_header)

    return wrapped
