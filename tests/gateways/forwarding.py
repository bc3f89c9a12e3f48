"""Headers and bodies between the client, the gateway and the upstream.

Hop-by-hop headers are the connection's own and are not forwarded (RFC 9110 §7.6.1);
lengths and codings are set again wherever a body is rewritten.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from starlette.requests import Request

__all__ = [
    "Answer",
    "BodyTooLarge",
    "capped",
    "read_bounded",
    "request_headers",
    "response_headers",
]

_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)


@dataclass
class Answer:
    """One answer on its way to the client: a whole body or a stream of bytes."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""
    stream: AsyncIterator[bytes] | None = None
    close: Callable[[], Awaitable[None]] | None = None
    # Set when the body is JSON the gateway may re-encode (gzip, embellishments).
    rewritable: bool = field(default=False)


class BodyTooLarge(Exception):
    """The request body is larger than the gateway accepts."""


def request_headers(
    request: Request, drop: frozenset[str] = frozenset()
) -> list[tuple[str, str]]:
    """The client's headers to send upstream: not hop-by-hop, not Host, and asking for
    an unencoded answer (the gateway encodes for its own client)."""
    skip = _HOP_BY_HOP | {"host", "accept-encoding"} | drop
    kept = [
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, value in request.scope["headers"]
        if name.decode("latin-1").lower() not in skip
    ]
    kept.append(("accept-encoding", "identity"))
    return kept


def response_headers(
    headers: list[tuple[bytes, bytes]], drop: frozenset[str] = frozenset()
) -> list[tuple[str, str]]:
    skip = _HOP_BY_HOP | drop
    return [
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, value in headers
        if name.decode("latin-1").lower() not in skip
    ]


async def capped(chunks: AsyncIterator[bytes], limit: int) -> AsyncIterator[bytes]:
    """``chunks`` passed on as they come (never buffered), ending in BodyTooLarge past
    ``limit`` bytes: a chunked upload has no length to refuse up front."""
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        yield chunk


async def read_bounded(request: Request, limit: int) -> bytes:
    """The whole request body, or BodyTooLarge once it passes ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)
