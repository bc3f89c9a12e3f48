"""Exact-path dispatch of the API's fixed routes, in front of Starlette's router.

A request for a fixed path (``POST /v1/chat/completions``, ``GET /v1/models`` ...)
goes straight to its endpoint through one dict lookup, instead of through Starlette's
two exception-handling layers and a linear scan of the routes, which together cost
more than the rest of a small request's application work (bench/README.md). Every
other request — paths with parameters, wrong methods, unknown paths, non-HTTP
scopes — goes to the Starlette app unchanged, which answers 404/405 in the envelope.
Errors are answered exactly as the app's exception handlers answer them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from qbtsuite.server.apierrors import ApiError, error_response, internal_error

__all__ = ["DirectRoutes"]

Endpoint = Callable[[Request], Awaitable[Response]]


def _fixed_routes(
    routes: Sequence[BaseRoute],
) -> dict[str, tuple[Endpoint, frozenset[str]]]:
    """Path → (endpoint, methods) for every plain ``Route`` without path parameters."""
    table: dict[str, tuple[Endpoint, frozenset[str]]] = {}
    for route in routes:
        if isinstance(route, Route) and not route.param_convertors and route.methods:
            table[route.path] = (route.endpoint, frozenset(route.methods))
    return table


class DirectRoutes:
    """ASGI app: fixed routes of ``app`` served directly, the rest by ``app``."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self.table = _fixed_routes(app.routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        entry = self.table.get(scope["path"]) if scope["type"] == "http" else None
        if entry is None or scope["method"] not in entry[1]:
            await self.app(scope, receive, send)
            return
        scope["app"] = self.app  # what ``request.app`` reads, as Starlette sets it
        request = Request(scope, receive)
        try:
            response = await entry[0](request)
        except ApiError as exc:
            response = error_response(exc)
        except Exception:
            # As Starlette's ServerErrorMiddleware: answer 500 in the envelope, then
            # let the exception reach the server, which logs it.
            await internal_error()(scope, receive, send)
            raise
        await response(scope, receive, send)
