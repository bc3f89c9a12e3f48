"""Plain-HTTP and HSTS faults: HTTP served, the wrong redirect, credentials handled."""

from __future__ import annotations

import dataclasses

from starlette.types import ASGIApp, Receive, Scope, Send

from qbtsuite.server.apierrors import ApiError, error_body
from qbtsuite.server.faults import Fault, fault
from qbtsuite.server.faults._asgi import header
from qbtsuite.server.parts import Parts
from qbtsuite.server.redirect import redirect_app

__all__: list[str] = []


@fault(
    "https.plain_http_served",
    area="https",
    breaks=("HTTPS-002", "HTTPS-001", "HTTPS-003"),
    description="The plain-HTTP listener serves the API instead of redirecting",
)
class PlainHttpServed(Fault):
    def __init__(self) -> None:
        self._https_app: ASGIApp | None = None

    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        self._https_app = app
        return app

    def wrap_http(self, app: ASGIApp, https_port: int) -> ASGIApp:
        return self._https_app or app


@fault(
    "https.redirect_302",
    area="https",
    breaks=("HTTPS-004",),
    description="Plain HTTP is redirected with 302, which clients follow as GET",
)
class Redirect302(Fault):
    def wrap_http(self, app: ASGIApp, https_port: int) -> ASGIApp:
        return redirect_app(https_port, status=302)


@fault(
    "https.redirect_to_root",
    area="https",
    breaks=("HTTPS-001",),
    description="The redirect points at https://host/ and loses the path and query",
)
class RedirectToRoot(Fault):
    def wrap_http(self, app: ASGIApp, https_port: int) -> ASGIApp:
        target = redirect_app(https_port)

        async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http":
                scope = {**scope, "path": "/", "raw_path": b"/", "query_string": b""}
            await target(scope, receive, send)

        return wrapped


@fault(
    "https.http_checks_key",
    area="https",
    breaks=("HTTPS-003",),
    description="The HTTP listener validates the cleartext key (401) before redirecting",
)
class HttpChecksKey(Fault):
    def wrap_http(self, app: ASGIApp, https_port: int) -> ASGIApp:
        body = error_body(ApiError(401, "invalid_api_key", "Invalid API key"))

        async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
            if (
                scope["type"] != "http"
                or header(scope["headers"], b"authorization") is None
            ):
                await app(scope, receive, send)
                return
            await send(
                {
                    "type": "http.response.start",
                    "status": 401,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": body})

        return wrapped


@fault(
    "https.no_hsts",
    area="https",
    breaks=("HTTPS-006",),
    description="HTTPS responses carry no Strict-Transport-Security header",
)
class NoHsts(Fault):
    def apply(self, parts: Parts) -> None:
        parts.settings = dataclasses.replace(parts.settings, hsts=False)
