"""The plain-HTTP listener: every request is redirected to HTTPS and never processed.

Spec/getting-started.txt: "HTTPS only. Plain HTTP requests are redirected to HTTPS".
308 keeps the method and body for clients that follow it (RFC 9110 §15.4.9); the
request body is never read and no credential is looked at.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["https_location", "redirect_app"]


def https_location(scope: Scope, https_port: int) -> str:
    """``https://`` + the same host + the HTTPS port + the same path and query."""
    host = "127.0.0.1"
    for name, value in scope.get("headers", []):
        if name == b"host":
            host = value.decode("latin-1")
            break
    if host.startswith("["):
        hostname = host[: host.index("]") + 1]
    else:
        hostname = host.rsplit(":", 1)[0] if ":" in host else host
    path = scope.get("raw_path") or scope["path"].encode()
    query = scope.get("query_string", b"")
    target = path.decode("latin-1") + ("?" + query.decode("latin-1") if query else "")
    return f"https://{hostname}:{https_port}{target}"


def redirect_app(https_port: int, status: int = 308) -> ASGIApp:
    """An ASGI app answering every HTTP request with ``status`` to the HTTPS URL."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        location = https_location(scope, https_port)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"location", location.encode("latin-1")),
                    (b"content-length", b"0"),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    return app
