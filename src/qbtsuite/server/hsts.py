"""Strict-Transport-Security on every HTTPS response (RFC 6797).

HSTS is what stops a client from ever sending the cleartext request the redirect
answers (protocol-facts §4.3 T4). It is a default header of the HTTPS listener
(uvicorn adds it to every response, its own error responses included), not an ASGI
wrapper: a wrapper would cost each request two extra calls and copies of the
response start. The plain-HTTP listener never sends it (RFC 6797 §7.2).
"""

from __future__ import annotations

from qbtsuite.server.settings import ServerSettings

__all__ = ["HSTS_VALUE", "hsts_headers"]

HSTS_VALUE = "max-age=31536000"


def hsts_headers(settings: ServerSettings) -> list[tuple[str, str]]:
    """The HTTPS listener's extra default headers for ``settings``."""
    return [("Strict-Transport-Security", HSTS_VALUE)] if settings.hsts else []
