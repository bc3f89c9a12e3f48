"""The benchmark's client process: light keep-alive HTTP/1.1 over TLS on raw asyncio protocols.

It is kept much cheaper than the server it measures: requests are pre-built bytes,
responses are framed by ``Content-Length`` (or HTTP/1.1 chunked coding for streams) and
never decoded as JSON, and everything runs in ``asyncio.Protocol`` callbacks on uvloop.

Two modes, each printing one JSON object to stdout:

- ``rps``: N connections, each with one request in flight, sending the next request as
  soon as a response is complete. Counts responses completed inside the window.
- ``stream``: N connections, each running streaming chat requests back to back; every
  SSE event carrying content is timestamped (``time.perf_counter``) when its bytes
  arrive, giving inter-chunk gaps and time to first token.

All phases start at a shared wall-clock instant (``--start-at``) so several client
processes measure the same window; the process CPU time over the window is reported
so a reader can see whether the client saturated.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import json
import random
import ssl
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

try:
    import uvloop
except ImportError:  # pragma: no cover - uvloop ships with the server's dependencies
    uvloop = None  # type: ignore[assignment]

__all__ = ["build_request", "main"]


def build_request(host: str, port: int, path: str, key: str, body: bytes) -> bytes:
    """One complete keep-alive POST with a JSON body, as bytes."""
    head = (
        f"POST {path} HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        f"Authorization: Bearer {key}\r\n"
        "Content-Type: application/json\r\n"
        "Accept: */*\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    )
    return head.encode("ascii") + body


class Window:
    """The shared timeline: warm-up until ``measure``, measuring until ``end``."""

    def __init__(self, start: float, warmup: float, duration: float) -> None:
        self.start = start
        self.measure = start + warmup
        self.end = self.measure + duration
        self.running = True

    def inside(self, t: float) -> bool:
        return self.measure <= t < self.end


class RpsConn(asyncio.Protocol):
    """One keep-alive connection with one request in flight."""

    def __init__(self, request: bytes, window: Window, stats: dict[str, Any]) -> None:
        self.request = request
        self.window = window
        self.stats = stats
        self.buf = bytearray()
        self.need = -1
        self.status = 0
        self.sent = 0.0
        self.idle = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def fire(self) -> None:
        assert self.transport is not None
        self.sent = time.perf_counter()
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            if self.need < 0:
                end = self.buf.find(b"\r\n\r\n")
                if end < 0:
                    return
                head = bytes(self.buf[:end]).lower()
                self.status = int(head[9:12])
                at = head.index(b"\r\ncontent-length:") + 17
                stop = head.find(b"\r\n", at)
                length = int(head[at : stop if stop >= 0 else len(head)])
                self.need = end + 4 + length
            if len(self.buf) < self.need:
                return
            del self.buf[: self.need]
            self.need = -1
            now = time.perf_counter()
            if self.window.inside(now):
                stats = self.stats
                stats["count"] += 1
                stats["latency"].append(now - self.sent)
                if self.status >= 400:
                    stats["errors"][str(self.status)] = (
                        stats["errors"].get(str(self.status), 0) + 1
                    )
            if self.window.running:
                self.fire()
            elif not self.idle.done():
                self.idle.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.window.running:
            self.stats["lost"] += 1
        if not self.idle.done():
            self.idle.set_result(None)


class StreamConn(asyncio.Protocol):
    """One keep-alive connection running streaming requests back to back."""

    def __init__(self, request: bytes, window: Window, stats: dict[str, Any]) -> None:
        self.request = request
        self.window = window
        self.stats = stats
        self.buf = bytearray()
        self.sse = bytearray()
        self.state = "head"
        self.need = 0
        self.sent = 0.0
        self.last = 0.0  # arrival of the previous content event of this response
        self.idle = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def fire(self) -> None:
        assert self.transport is not None
        self.sent = time.perf_counter()
        self.last = 0.0
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        self.buf += data
        buf = self.buf
        while True:
            if self.state == "head":
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    return
                head = bytes(buf[:end]).lower()
                del buf[: end + 4]
                status = int(head[9:12])
                if status != 200 or b"transfer-encoding: chunked" not in head:
                    errors = self.stats["errors"]
                    errors[str(status)] = errors.get(str(status), 0) + 1
                    self._abort()
                    return
                self.state = "size"
            elif self.state == "size":
                end = buf.find(b"\r\n")
                if end < 0:
                    return
                size = int(bytes(buf[:end]).split(b";")[0], 16)
                del buf[: end + 2]
                self.need = size
                self.state = "data" if size else "trailer"
            elif self.state == "data":
                if len(buf) < self.need + 2:
                    return
                self.sse += buf[: self.need]
                del buf[: self.need + 2]
                self.state = "size"
                self._events(now)
            else:  # trailer: the blank line after the last chunk
                end = buf.find(b"\r\n")
                if end < 0:
                    return
                del buf[: end + 2]
                self.state = "head"
                if self.window.inside(now):
                    self.stats["streams"] += 1
                if self.window.running:
                    self.fire()
                elif not self.idle.done():
                    self.idle.set_result(None)

    def _events(self, now: float) -> None:
        sse = self.sse
        while (end := sse.find(b"\n\n")) >= 0:
            event = bytes(sse[:end])
            del sse[: end + 2]
            if b'"content":"' not in event or b'"content":""' in event:
                continue
            if self.window.inside(now):
                stats = self.stats
                stats["chunks"] += 1
                if self.last:
                    stats["gaps"].append(now - self.last)
                else:
                    stats["ttft"].append(now - self.sent)
            self.last = now

    def _abort(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.window.running:
            self.stats["lost"] += 1
        if not self.idle.done():
            self.idle.set_result(None)


async def _run(args: argparse.Namespace) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    context = ssl.create_default_context(cafile=args.ca)
    body = base64.b64decode(args.body)
    request = build_request(args.host, args.port, args.path, args.key, body)
    # Map the shared wall-clock start onto this process's perf_counter.
    start = time.perf_counter() + (args.start_at - time.time())
    window = Window(start, args.warmup, args.duration)
    stats: dict[str, Any] = {
        "count": 0,
        "streams": 0,
        "chunks": 0,
        "latency": [],
        "gaps": [],
        "ttft": [],
        "errors": {},
        "lost": 0,
        "late": 0.0,
    }
    kind: Callable[[], asyncio.Protocol]
    if args.mode == "rps":
        kind = lambda: RpsConn(request, window, stats)  # noqa: E731
    else:
        kind = lambda: StreamConn(request, window, stats)  # noqa: E731
    conns: list[Any] = []
    for _ in range(args.connections):
        _, proto = await asyncio.wait_for(
            loop.create_connection(kind, args.host, args.port, ssl=context), 10.0
        )
        conns.append(proto)
    stats["late"] = max(0.0, time.perf_counter() - window.start)
    # The run is short and allocates little that lives: keep collector pauses out of
    # the timestamps (the server's own pauses are what is being measured).
    gc.collect()
    gc.freeze()
    gc.disable()
    await asyncio.sleep(max(0.0, window.start - time.perf_counter()))
    spread = args.spread if args.mode == "stream" else 0.0
    for conn in conns:
        if spread:
            loop.call_later(random.uniform(0.0, spread), conn.fire)
        else:
            conn.fire()
    await asyncio.sleep(max(0.0, window.measure - time.perf_counter()))
    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.sleep(max(0.0, window.end - time.perf_counter()))
    cpu1, wall1 = time.process_time(), time.perf_counter()
    window.running = False
    await asyncio.wait([c.idle for c in conns], timeout=args.drain)
    for conn in conns:
        if conn.transport is not None:
            conn.transport.close()
    stats["cpu"] = (cpu1 - cpu0) / (wall1 - wall0)
    stats["connections"] = len(conns)
    return stats


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=["rps", "stream"])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--path", required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--key-file", required=True, help="file holding the Bearer key")
    p.add_argument("--body", required=True, help="request body, base64")
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--start-at", type=float, required=True, help="wall-clock start")
    p.add_argument("--warmup", type=float, default=1.0)
    p.add_argument("--duration", type=float, default=5.0)
    p.add_argument("--spread", type=float, default=0.5, help="stream start spread, s")
    p.add_argument("--drain", type=float, default=5.0, help="wait for in-flight, s")
    args = p.parse_args(argv)
    args.key = Path(args.key_file).read_text(encoding="utf-8").strip()
    return args


def main(argv: list[str] | None = None) -> None:
    args = _parse(argv)
    runner = asyncio.run if uvloop is None else uvloop.run
    result = runner(_run(args))
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
