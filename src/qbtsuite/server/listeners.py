"""Run the server: an HTTPS listener and a plain-HTTP redirect listener on loopback.

Both uvicorn servers share one event loop. Sockets are bound before start-up so that
port 0 means "a free port" and the real ports are known before anything is served.
Once both listen, the base URLs, CA path and keys go to stdout and to ``server.json``.

SIGTERM and SIGINT are handled here, once for both listeners (uvicorn's own handling is
per server: the second would wait for the first to finish): the first signal ends both
gracefully (open answers get ``_GRACEFUL_SHUTDOWN`` seconds), a second one at once.
:func:`run` returns the signal, so ``qbtsuite serve`` can exit 143 / 130.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import signal
import socket
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import uvicorn

from qbtsuite.server.app import create_app, create_http_app
from qbtsuite.server.faults import select
from qbtsuite.server.hsts import hsts_headers
from qbtsuite.server.keys import KeyStore
from qbtsuite.server.parts import build_parts
from qbtsuite.server.settings import ServerSettings
from qbtsuite.server.tls import TLSFiles, make_tls_files

__all__ = ["ServerInfo", "bind", "event_loop_factory", "https_config", "run", "serve"]

_GRACEFUL_SHUTDOWN = 2  # seconds open answers get once the server is told to stop
_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """What a client needs to reach a running server (also ``server.json``)."""

    https_url: str
    http_url: str
    ca: str
    keys: dict[str, str]
    faults: list[str]
    pid: int
    rate_window: float
    upload_cap: int
    latency: dict[str, float]

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (0 = any free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this on Linux: without it, a TLS response written
    # as two records waits ~40 ms for the client's delayed ACK (Nagle's algorithm).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _uvicorn_config(app: Any, **extra: Any) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        loop="uvloop" if os.name != "nt" else "asyncio",
        http="httptools",
        lifespan="off",
        log_level="warning",
        access_log=False,
        timeout_keep_alive=30,
        timeout_graceful_shutdown=_GRACEFUL_SHUTDOWN,
        **extra,
    )


def https_config(app: Any, tls: TLSFiles, settings: ServerSettings) -> uvicorn.Config:
    """The HTTPS listener's uvicorn settings (bench/bare_server.py uses them too)."""
    return _uvicorn_config(
        app,
        ssl_certfile=str(tls.cert),
        ssl_keyfile=str(tls.key),
        headers=hsts_headers(settings),
    )


class _Listener(uvicorn.Server):
    """A uvicorn server that leaves signals to :func:`serve` (one handler for both)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class _Stopper:
    """The first signal stops every listener gracefully, a second one at once."""

    def __init__(self, servers: Sequence[uvicorn.Server]) -> None:
        self.servers = servers
        self.first: int | None = None

    def on_signal(self, signum: int) -> None:
        if self.first is None:
            self.first = signum
        for server in self.servers:
            if server.should_exit:
                server.force_exit = True
            server.should_exit = True


@contextlib.contextmanager
def _signals_to(stopper: _Stopper) -> Iterator[None]:
    """Route SIGTERM/SIGINT to ``stopper`` while serving; the old handlers after."""
    loop = asyncio.get_running_loop()
    previous = {sig: signal.getsignal(sig) for sig in _SIGNALS}
    try:
        for sig in _SIGNALS:
            loop.add_signal_handler(sig, stopper.on_signal, sig)
    except (ValueError, RuntimeError):  # not the main thread: no signals to route
        previous = {}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            loop.remove_signal_handler(sig)
            signal.signal(sig, handler)


async def serve(settings: ServerSettings, *, quiet: bool = False) -> int | None:
    """Serve until cancelled or stopped by a signal; that signal, if any."""
    keys = (
        KeyStore.from_toml(settings.keys_file)
        if settings.keys_file
        else KeyStore.default()
    )
    faults = select(settings.faults)
    tls = make_tls_files(settings.state_dir)
    https_sock = bind(settings.host, settings.https_port)
    http_sock = bind(settings.host, settings.http_port)
    https_port = https_sock.getsockname()[1]
    http_port = http_sock.getsockname()[1]
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    info = ServerInfo(
        https_url=f"https://{host}:{https_port}/v1",
        http_url=f"http://{host}:{http_port}/v1",
        ca=str(tls.ca.resolve()),
        keys=keys.by_role(),
        faults=list(settings.faults),
        pid=os.getpid(),
        rate_window=settings.rate_window,
        upload_cap=settings.upload_cap,
        latency={"ttft": settings.latency.ttft, "itl": settings.latency.itl},
    )
    parts = build_parts(settings, keys)
    app = create_app(parts, faults)  # faults may change parts.settings
    https = _Listener(https_config(app, tls, parts.settings))
    plain = _Listener(_uvicorn_config(create_http_app(https_port, faults)))
    stopper = _Stopper([https, plain])
    with _signals_to(stopper):
        tasks = [
            asyncio.create_task(https.serve(sockets=[https_sock])),
            asyncio.create_task(plain.serve(sockets=[http_sock])),
        ]
        while not (https.started and plain.started):
            if any(t.done() for t in tasks):
                break
            await asyncio.sleep(0.01)
        _tune_gc()
        _announce(info, settings.state_dir, quiet)
        await asyncio.gather(*tasks)
    return stopper.first


def _tune_gc() -> None:
    """Keep the cyclic garbage collector's pauses out of token pacing.

    A full collection walks every tracked object and stalls the event loop, hence
    every open stream, for tens of milliseconds (measured with 200 streams). What
    start-up made lives as long as the server, so it is frozen out of collection;
    higher thresholds make the remaining full passes rare (bench/README.md).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 100)


def _announce(info: ServerInfo, state_dir: Path, quiet: bool) -> None:
    target = state_dir / "server.json"
    tmp = target.with_suffix(".json.tmp")
    tmp.write_text(info.to_json(), encoding="utf-8")
    tmp.replace(target)  # atomic: readers never see half a file
    if quiet:
        return
    print(f"HTTPS base URL : {info.https_url}")
    print(f"HTTP base URL  : {info.http_url}  (redirects to HTTPS)")
    print(f"CA certificate : {info.ca}")
    for role, key in info.keys.items():
        print(f"key {role:<11}: {key}")
    if info.faults:
        print(f"faults         : {', '.join(info.faults)}")
    print(f"server info    : {target.resolve()}", flush=True)


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The event loop the uvicorn settings name (uvloop where available).

    ``uvicorn.Server.serve`` runs on whatever loop is current: the ``loop`` setting
    only takes effect if the caller creates that loop, as :func:`run` does.
    """
    return _uvicorn_config(None).get_loop_factory()


def run(settings: ServerSettings, *, quiet: bool = False) -> int | None:
    """Blocking entry point for ``qbtsuite serve``: the signal that stopped it, if any."""
    try:
        with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
            return runner.run(serve(settings, quiet=quiet))
    except KeyboardInterrupt:  # a signal before the listeners took over
        return signal.SIGINT
