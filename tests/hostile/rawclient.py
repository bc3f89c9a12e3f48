"""A raw client for the hostile server's tests: bytes as they arrive, and how they stop.

No HTTP library sits in between, so nothing is tidied: the tests see a reset as a
reset (TLS is done over memory BIOs, because ``ssl.SSLSocket`` reports a reset after
data as a clean end), a trickle byte by byte, a flood as a flood.
"""

from __future__ import annotations

import json
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from tests.hostile.server import ServerInfo

__all__ = ["Received", "exchange", "request_bytes", "split_head"]

TEST_KEY = "qbt_hostile_test_0123456789_abcdefghij"


@dataclass(frozen=True, slots=True)
class Received:
    """What came back: the bytes, their arrival times, and why reading stopped."""

    data: bytes
    arrivals: tuple[
        tuple[float, int], ...
    ]  # (seconds after the request, bytes) per read
    ended: str  # "eof", "reset", "timeout" (deadline passed) or "cap" (enough bytes)


def request_bytes(
    method: str,
    path: str,
    body: object = None,
    *,
    key: str | None = TEST_KEY,
    extra: tuple[tuple[str, str], ...] = (),
) -> bytes:
    """One HTTP/1.1 request asking the server to close after its answer (RFC 9112 §9.6);
    ``body`` is JSON-encoded unless it is already bytes."""
    payload = (
        body
        if isinstance(body, bytes)
        else b""
        if body is None
        else json.dumps(body).encode()
    )
    fields = [("Host", "127.0.0.1"), ("Connection", "close"), *extra]
    if key is not None:
        fields.append(("Authorization", f"Bearer {key}"))
    if payload:
        if not any(name.lower() == "content-type" for name, _ in extra):
            fields.append(("Content-Type", "application/json"))
        fields.append(("Content-Length", str(len(payload))))
    head = f"{method} /v1{path} HTTP/1.1\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in fields
    )
    return head.encode() + b"\r\n" + payload


def split_head(data: bytes) -> tuple[int, dict[str, str], bytes]:
    """Status, fields (lower-case names; the last of repeated ones) and the rest."""
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    fields = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    return int(lines[0].split(" ")[1]), fields, rest


class _Tls:
    """TLS over a plain socket through memory BIOs, so resets stay visible."""

    def __init__(self, sock: socket.socket, ca: str) -> None:
        self.sock = sock
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        context = ssl.create_default_context(cafile=ca)
        self.tls = context.wrap_bio(
            self.incoming, self.outgoing, server_hostname="127.0.0.1"
        )
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._flush()
                self.incoming.write(self._recv_raw())
        self._flush()

    def _flush(self) -> None:
        if data := self.outgoing.read():
            self.sock.sendall(data)

    def _recv_raw(self) -> bytes:
        data = self.sock.recv(65536)
        if not data:
            raise EOFError
        return data

    def sendall(self, data: bytes) -> None:
        self.tls.write(data)
        self._flush()

    def recv(self) -> bytes:
        while True:
            try:
                return self.tls.read(65536)
            except ssl.SSLWantReadError:
                self.incoming.write(self._recv_raw())
            except ssl.SSLZeroReturnError:
                raise EOFError from None


def exchange(
    info: ServerInfo, request: bytes, *, seconds: float, cap: int = 1 << 20
) -> Received:
    """Send ``request`` on a new connection; read for up to ``seconds`` or ``cap`` bytes."""
    parts = urlsplit(info.url)
    sock = socket.create_connection(
        (parts.hostname or "127.0.0.1", parts.port or 443), timeout=seconds
    )
    started = time.monotonic()
    data = bytearray()
    arrivals: list[tuple[float, int]] = []
    ended = "timeout"
    try:
        stream: _Tls | socket.socket = (
            _Tls(sock, info.ca) if parts.scheme == "https" and info.ca else sock
        )
        stream.sendall(request)
        sent = time.monotonic()
        while len(data) < cap:
            left = seconds - (time.monotonic() - started)
            if left <= 0:
                break
            sock.settimeout(left)
            chunk = stream.recv() if isinstance(stream, _Tls) else stream.recv(65536)
            if not chunk:
                raise EOFError
            data += chunk
            arrivals.append((time.monotonic() - sent, len(chunk)))
        else:
            ended = "cap"
    except EOFError:
        ended = "eof"
    except ConnectionResetError:
        ended = "reset"
    except TimeoutError:
        ended = "timeout"
    finally:
        sock.close()
    return Received(bytes(data), tuple(arrivals), ended)
