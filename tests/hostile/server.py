"""The hostile server: raw asyncio listeners on loopback, one mode per instance.

An HTTPS listener (a trustme CA and certificate; ``--plain`` serves plain HTTP
instead) carries the API; beside it a plain-HTTP listener answers 308 to the HTTPS
URL, as the API's docs say plain HTTP does, so ``https`` checks need no other port.
The chosen mode spoils what its :class:`~tests.hostile.modes.Target` says.

    python -m tests.hostile.server --mode trickle --port 0 --info /tmp/hostile.json
    python -m tests.hostile.server --list-modes

In tests: ``with HostileServer("silent") as target: httpx.get(target.url + "/models")``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import ssl
import sys
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType

import trustme

from tests.hostile.api import BASE_PATH, Reply, answer
from tests.hostile.modes import MODES, Mode, Settings, Target
from tests.hostile.replies import send_reply
from tests.hostile.wire import HEAD_LIMIT, Connection, read_request

__all__ = ["HostileServer", "ServerInfo", "main"]

HOST = "127.0.0.1"  # loopback only


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """Where a running hostile server is: what ``--info`` writes."""

    mode: str
    url: str  # base URL of the API, ending in /v1
    http_url: str  # plain-HTTP listener's base URL (the redirect), or url if --plain
    ca: str | None  # CA bundle to trust, None for --plain
    pid: int


def _tls_context(state_dir: Path) -> tuple[ssl.SSLContext, Path]:
    authority = trustme.CA()
    certificate = authority.issue_cert(HOST, "localhost")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate.configure_cert(context)
    context.set_alpn_protocols(["http/1.1"])
    ca_path = state_dir / "hostile-ca.pem"
    authority.cert_pem.write_to_path(str(ca_path))
    return context, ca_path


def _redirect(request_target: str, https_base: str) -> Reply:
    origin = https_base.removesuffix(BASE_PATH)
    fields = (("Location", origin + request_target), ("Content-Type", "text/plain"))
    return Reply(308, fields, text="")


class _Service:
    """The listeners and connection tasks of one server, inside its event loop."""

    def __init__(self, mode: Mode, settings: Settings, scope: str) -> None:
        self.mode = mode
        self.settings = settings
        self.scope = scope
        self.https_base = ""
        self.tasks: set[asyncio.Task[None]] = set()
        self.servers: list[asyncio.Server] = []
        self.idle_sockets: list[socket.socket] = []

    async def listen(
        self, port: int, tls: ssl.SSLContext | None, *, redirects: bool
    ) -> int:
        """Start one listener; its port."""
        if self.mode.target is Target.LISTENER:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((HOST, port))
            sock.listen(0)  # never accepted: the queue fills, then SYNs go unanswered
            self.idle_sockets.append(sock)
            return int(sock.getsockname()[1])
        raw_tls = self.mode.tls_only and tls is not None
        server = await asyncio.start_server(
            lambda r, w: self._accept(r, w, redirects=redirects, raw=raw_tls),
            HOST,
            port,
            ssl=None if raw_tls else tls,
            limit=HEAD_LIMIT,
            ssl_handshake_timeout=None if raw_tls or tls is None else 30.0,
        )
        self.servers.append(server)
        return int(server.sockets[0].getsockname()[1])

    def _accept(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        redirects: bool,
        raw: bool,
    ) -> None:
        task = asyncio.create_task(
            self._serve(Connection(reader, writer), redirects, raw)
        )
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _serve(self, conn: Connection, redirects: bool, raw: bool) -> None:
        try:
            await self._converse(conn, redirects, raw)
        except (ConnectionError, OSError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            if not conn.closed:
                conn.writer.transport.abort()

    async def _converse(self, conn: Connection, redirects: bool, raw: bool) -> None:
        mode = self.mode
        if mode.target is Target.CONNECTION and mode.on_connect is not None:
            if raw or not mode.tls_only:
                await mode.on_connect(conn, self.settings)
                return
        while True:
            request = await read_request(conn.reader)
            if request is None:
                return
            reply = (
                _redirect(request.target, self.https_base)
                if redirects
                else answer(request)
            )
            if mode.handle is not None and mode.spoils(request, self.scope):
                keep = await mode.handle(conn, request, reply, self.settings)
            else:
                await send_reply(conn, reply)
                keep = True
            if not keep or not request.keep_alive:
                await conn.close()
                return

    async def stop(self) -> None:
        for server in self.servers:
            server.close()
        for sock in self.idle_sockets:
            sock.close()
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


class HostileServer:
    """A hostile server in a background thread, for tests: ``with … as info``."""

    def __init__(
        self,
        mode: str,
        *,
        plain: bool = False,
        port: int = 0,
        http_port: int = 0,
        scope: str = "endpoints",
        settings: Settings | None = None,
        state_dir: Path | None = None,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; see --list-modes")
        if MODES[mode].tls_only and plain:
            raise ValueError(f"mode {mode!r} needs TLS; drop --plain")
        if scope not in ("endpoints", "all"):
            raise ValueError(f"scope must be 'endpoints' or 'all', not {scope!r}")
        self._mode = MODES[mode]
        self._plain = plain
        self._ports = (port, http_port)
        self._scope = scope
        self._settings = settings or Settings()
        self._own_dir: tempfile.TemporaryDirectory[str] | None = None
        if state_dir is None:
            self._own_dir = tempfile.TemporaryDirectory(prefix="hostile-")
            state_dir = Path(self._own_dir.name)
        self._state_dir = state_dir
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self.info: ServerInfo | None = None

    def start(self) -> ServerInfo:
        """Start listening; returns once the ports are bound (or raises why not)."""
        self._thread = threading.Thread(
            target=self._run, name="hostile-server", daemon=True
        )
        self._thread.start()
        if not self._ready.wait(30.0):
            raise RuntimeError("hostile server did not start within 30 s")
        if self._failure is not None:
            raise RuntimeError(
                f"hostile server failed: {self._failure}"
            ) from self._failure
        assert self.info is not None
        return self.info

    def stop(self) -> None:
        """Close the listeners and every connection; wait for the thread."""
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join(10.0)
        if self._own_dir is not None:
            self._own_dir.cleanup()

    def __enter__(self) -> ServerInfo:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except (
            BaseException
        ) as exc:  # reported to start(); the thread must not die silently
            self._failure = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        service = _Service(self._mode, self._settings, self._scope)
        tls, ca = (None, None) if self._plain else _tls_context(self._state_dir)
        port = await service.listen(self._ports[0], tls, redirects=False)
        scheme = "http" if self._plain else "https"
        service.https_base = f"{scheme}://{HOST}:{port}{BASE_PATH}"
        http_url = service.https_base
        if not self._plain:
            http_port = await service.listen(self._ports[1], None, redirects=True)
            http_url = f"http://{HOST}:{http_port}{BASE_PATH}"
        self.info = ServerInfo(
            self._mode.name,
            service.https_base,
            http_url,
            None if ca is None else str(ca),
            os.getpid(),
        )
        self._ready.set()
        try:
            await self._stopping.wait()
        finally:
            await service.stop()


def _write_info(path: Path, info: ServerInfo) -> None:
    partial = path.with_suffix(path.suffix + ".partial")
    partial.write_text(json.dumps(asdict(info), indent=2) + "\n", encoding="utf-8")
    partial.replace(path)  # readers never see half a file


def list_modes() -> str:
    """One line per mode: name, then what it does."""
    width = max(len(name) for name in MODES)
    lines = [
        "Modes spoil the endpoints; GET /v1/models stays well-behaved unless --scope all",
        "(modes about /v1/models, connections or the listener say so).",
    ]
    lines += [f"{m.name:<{width}}  {m.summary}" for m in MODES.values()]
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tests.hostile.server",
        description="A deliberately hostile Qubittron target on loopback.",
    )
    parser.add_argument("--mode", help="the misbehaviour (see --list-modes)")
    parser.add_argument(
        "--list-modes", action="store_true", help="list the modes and exit"
    )
    parser.add_argument("--port", type=int, default=0, help="API port (0: a free one)")
    parser.add_argument(
        "--http-port", type=int, default=0, help="plain-HTTP redirect port"
    )
    parser.add_argument(
        "--plain", action="store_true", help="serve the API over plain HTTP"
    )
    parser.add_argument(
        "--scope",
        choices=("endpoints", "all"),
        default="endpoints",
        help="'all': discovery misbehaves too",
    )
    parser.add_argument(
        "--info", type=Path, help="write the URLs (and CA path) here as JSON"
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        help="where the CA is written (default: beside --info)",
    )
    parser.add_argument(
        "--byte-interval",
        type=float,
        default=Settings().byte_interval,
        help="seconds per byte (trickle, slow-headers)",
    )
    parser.add_argument(
        "--chunk-interval",
        type=float,
        default=Settings().chunk_interval,
        help="seconds per chunk (endless-stream)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.list_modes:
        sys.stdout.write(list_modes() + "\n")
        return 0
    if not args.mode:
        sys.stderr.write("error: --mode is required (see --list-modes)\n")
        return 2
    state_dir = args.state_dir or (args.info.parent if args.info else None)
    settings = Settings(
        byte_interval=args.byte_interval, chunk_interval=args.chunk_interval
    )
    try:
        server = HostileServer(
            args.mode,
            plain=args.plain,
            port=args.port,
            http_port=args.http_port,
            scope=args.scope,
            settings=settings,
            state_dir=state_dir,
        )
        info = server.start()
    except (ValueError, RuntimeError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    if args.info:
        _write_info(args.info, info)
    sys.stdout.write(
        f"hostile server mode={info.mode} url={info.url} http_url={info.http_url}\n"
    )
    sys.stdout.flush()
    while not stop.wait(1.0):
        pass
    server.stop()
    with contextlib.suppress(FileNotFoundError):
        if args.info:
            args.info.unlink()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
