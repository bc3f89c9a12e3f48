"""HTTP/1.1 by hand: read one request, write heads, chunks and bodies as told.

Nothing here corrects what a mode asks for: a head is written exactly as given, a
Content-Length may lie, a body may never end. Requests are read leniently (RFC 9112
§2–§7: request line, fields, Content-Length or chunked body); bodies past
``BODY_KEPT`` bytes are read and dropped, so a 26 MB upload costs no memory.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "BODY_KEPT",
    "HEAD_LIMIT",
    "Connection",
    "Request",
    "chunk",
    "head",
    "read_request",
]

HEAD_LIMIT = 64 * 1024  # request line and fields
BODY_KEPT = 2 * 1024 * 1024  # enough for any JSON body or small multipart form
_READ = 64 * 1024

REASONS = {
    100: "Continue",
    200: "OK",
    307: "Temporary Redirect",
    308: "Permanent Redirect",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Content Too Large",
    429: "Too Many Requests",
}


@dataclass(frozen=True, slots=True)
class Request:
    """One request as read: method, target, fields (lower-case names), kept body."""

    method: str
    target: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    body_length: int  # bytes the client sent, including any dropped past BODY_KEPT

    def header(self, name: str) -> str | None:
        """The first field called ``name`` (case-insensitive), or None."""
        wanted = name.lower()
        return next((v for k, v in self.headers if k == wanted), None)

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    @property
    def keep_alive(self) -> bool:
        return (self.header("connection") or "").lower() != "close"


class Connection:
    """One accepted connection: its streams and the moves a hostile mode needs."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader = reader
        self.writer = writer

    @property
    def closed(self) -> bool:
        return self.writer.transport.is_closing()

    async def send(self, data: bytes) -> None:
        """Write ``data`` and wait until the transport has taken it (backpressure).

        Raises once the peer has gone. A write to a lost connection only logs, and
        ``drain`` returns at once while nothing is buffered, so an endless mode never
        gave the loop a turn to learn the peer had gone: it spun on the dead
        connection and starved every other one. Yielding once per write lets the
        loss arrive.
        """
        if self.closed:
            raise ConnectionResetError("peer closed")
        self.writer.write(data)
        await self.writer.drain()
        await asyncio.sleep(0)

    async def send_slowly(self, data: bytes, interval: float) -> None:
        """One byte, then ``interval`` seconds, until ``data`` is sent or the peer leaves."""
        for i in range(len(data)):
            if self.closed:
                raise ConnectionResetError("peer closed")
            await self.send(data[i : i + 1])
            await asyncio.sleep(interval)

    async def wait_for_peer_to_leave(self) -> None:
        """Read and discard until the client closes; never answer."""
        while await self.reader.read(_READ):
            pass

    async def close(self) -> None:
        """An orderly close (FIN after everything written)."""
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except (ConnectionError, OSError):
            pass

    async def reset(self, settle: float = 0.3) -> None:
        """Let what was written reach the peer, then close with RST (SO_LINGER 0)."""
        await asyncio.sleep(settle)
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
        self.writer.transport.abort()


def head(status: int, fields: Sequence[tuple[str, str]]) -> bytes:
    """A status line and fields, exactly as given, ending with the blank line."""
    lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}"]
    lines.extend(f"{name}: {value}" for name, value in fields)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def chunk(data: bytes) -> bytes:
    """One chunk of a chunked body (RFC 9112 §7.1); ``b""`` gives the last chunk."""
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


async def _read_head(reader: asyncio.StreamReader) -> bytes | None:
    try:
        return await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    except asyncio.LimitOverrunError:
        return None


async def _read_sized(reader: asyncio.StreamReader, length: int) -> tuple[bytes, int]:
    kept = bytearray()
    left = length
    while left > 0:
        data = await reader.read(min(_READ, left))
        if not data:
            break
        left -= len(data)
        if len(kept) < BODY_KEPT:
            kept += data[: BODY_KEPT - len(kept)]
    return bytes(kept), length - left


async def _read_chunked(reader: asyncio.StreamReader) -> tuple[bytes, int]:
    kept = bytearray()
    total = 0
    while True:
        size_line = await reader.readline()
        if not size_line:
            break
        size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            while (await reader.readline()).strip():  # trailer fields
                pass
            break
        data, got = await _read_sized(reader, size)
        total += got
        if len(kept) < BODY_KEPT:
            kept += data[: BODY_KEPT - len(kept)]
        await reader.readline()  # CRLF after the chunk
    return bytes(kept), total


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    """The next request on the connection, or None at end of stream or on nonsense."""
    raw = await _read_head(reader)
    if raw is None:
        return None
    lines = raw.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        return None
    fields: list[tuple[str, str]] = []
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            fields.append((name.strip().lower(), value.strip()))
    request = Request(parts[0], parts[1], tuple(fields), b"", 0)
    try:
        if "chunked" in (request.header("transfer-encoding") or "").lower():
            body, length = await _read_chunked(reader)
        else:
            body, length = await _read_sized(
                reader, int(request.header("content-length") or "0")
            )
    except ValueError:
        return None
    return Request(request.method, request.target, request.headers, body, length)
