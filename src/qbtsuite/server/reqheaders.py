"""Request headers by name in one dict, built once per request.

Starlette's ``request.headers`` scans the header list and re-encodes the name on
every lookup; a small request asks for four headers, so one dict per request
answers them for a fraction of the cost (bench/README.md).
"""

from __future__ import annotations

from starlette.requests import Request

__all__ = ["header", "headers_of"]

_CACHE = "qbtsuite.headers"  # scope key; ASGI servers give names in lower case


def headers_of(request: Request) -> dict[bytes, bytes]:
    """Lower-case name → first value, for the headers of ``request``."""
    scope = request.scope
    headers: dict[bytes, bytes] | None = scope.get(_CACHE)
    if headers is None:
        # Reversed, so that of repeated headers the first wins, as Starlette's does.
        headers = scope[_CACHE] = dict(reversed(scope["headers"]))
    return headers


def header(request: Request, name: bytes) -> str | None:
    """The first value of header ``name`` (lower-case bytes), decoded, or None."""
    value = headers_of(request).get(name)
    return None if value is None else value.decode("latin-1")
