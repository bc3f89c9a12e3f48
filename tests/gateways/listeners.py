"""The emulator's listeners: the API (HTTPS with its own CA, or plain HTTP) and, in
front of HTTPS, a plain-HTTP listener that redirects every request to it.

Only loopback addresses are bound. ``gateway.json`` in the state directory names
the URLs and the CA once both listeners accept connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import os
import signal
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
import trustme
import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from tests.gateways.options import GatewayOptions
from tests.gateways.proxy import Gateway
from tests.gateways.upstream import UpstreamInfo

__all__ = ["GatewayInfo", "check_loopback", "serve"]


@dataclass(frozen=True)
class GatewayInfo:
    """What a client needs: the API's base URL, the redirect listener, the CA."""

    base_url: str
    http_url: str | None  # the redirecting plain-HTTP listener; None with plain HTTP
    ca: str | None  # None with plain HTTP
    behaviours: list[str]
    pid: int


def check_loopback(host: str) -> None:
    """ValueError unless ``host`` is a loopback address (the only network we use)."""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"{host} is not a loopback address (use 127.0.0.1)")


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


def _tls_files(state_dir: Path, host: str) -> tuple[Path, Path, Path]:
    """A private CA and a certificate for ``host``: (ca, chain, key)."""
    ca = trustme.CA()
    cert = ca.issue_cert(host, "localhost")
    paths = (state_dir / "ca.pem", state_dir / "cert-chain.pem", state_dir / "key.pem")
    ca.cert_pem.write_to_path(str(paths[0]))
    cert.private_key_and_cert_chain_pem.write_to_path(str(paths[1]))
    cert.private_key_pem.write_to_path(str(paths[2]))
    return paths


def _redirect_to(https_port: int, host: str) -> ASGIApp:
    """308 to the same path and query on HTTPS (RFC 9110 §15.4.9), body unread."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        target = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        if scope.get("query_string"):
            target += "?" + scope["query_string"].decode("latin-1")
        location = f"https://{host}:{https_port}{target}"
        await send(
            {
                "type": "http.response.start",
                "status": 308,
                "headers": [
                    (b"location", location.encode("latin-1")),
                    (b"content-length", b"0"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    return app


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signals to :func:`serve` (it runs two)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _config(app: ASGIApp, **tls: str) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        lifespan="off",
        log_level="warning",
        access_log=False,
        server_header=False,  # the upstream's headers are forwarded as they are
        date_header=False,
        timeout_keep_alive=30,
        **tls,  # type: ignore[arg-type]
    )


def _upstream_client(
    options: GatewayOptions, upstream: UpstreamInfo
) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        verify=ssl.create_default_context(cafile=upstream.ca),
        timeout=httpx.Timeout(
            options.upstream_timeout, connect=min(5.0, options.upstream_timeout)
        ),
        limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
        follow_redirects=False,
        trust_env=False,  # never a proxy from the environment: loopback only
    )


def _write_info(info: GatewayInfo, state_dir: Path) -> Path:
    target = state_dir / "gateway.json"
    tmp = target.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(asdict(info), indent=2), encoding="utf-8")
    tmp.replace(target)  # readers never see half a file
    return target


async def serve(
    options: GatewayOptions,
    upstream: UpstreamInfo,
    state_dir: Path,
    host: str = "127.0.0.1",
    port: int = 0,
    http_port: int = 0,
    on_ready: Callable[[GatewayInfo], None] = lambda info: None,
) -> GatewayInfo:
    """Serve until SIGINT/SIGTERM; ``on_ready`` gets the info once every listener is up."""
    state_dir.mkdir(parents=True, exist_ok=True)
    api_sock = _bind(host, port)
    api_port = api_sock.getsockname()[1]
    url_host = f"[{host}]" if ":" in host else host
    async with _upstream_client(options, upstream) as client:
        gateway = Gateway(options, upstream, client)
        servers: list[tuple[_Server, socket.socket]] = []
        if options.plain_http:
            info = GatewayInfo(
                f"http://{url_host}:{api_port}/v1",
                None,
                None,
                options.describe(),
                os.getpid(),
            )
            servers.append((_Server(_config(gateway)), api_sock))
        else:
            ca, chain, key = _tls_files(state_dir, host)
            tls = {"ssl_certfile": str(chain), "ssl_keyfile": str(key)}
            redirect_sock = _bind(host, http_port)
            redirect_port = redirect_sock.getsockname()[1]
            info = GatewayInfo(
                f"https://{url_host}:{api_port}/v1",
                f"http://{url_host}:{redirect_port}/v1",
                str(ca.resolve()),
                options.describe(),
                os.getpid(),
            )
            servers.append((_Server(_config(gateway, **tls)), api_sock))
            servers.append(
                (_Server(_config(_redirect_to(api_port, url_host))), redirect_sock)
            )
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, _stop_all, [s for s, _ in servers])
        tasks = [asyncio.create_task(s.serve(sockets=[sock])) for s, sock in servers]
        while not all(s.started for s, _ in servers):
            if any(t.done() for t in tasks):
                break
            await asyncio.sleep(0.01)
        else:
            _write_info(info, state_dir)
            on_ready(info)
        await asyncio.gather(*tasks)
        return info


def _stop_all(servers: list[_Server]) -> None:
    for server in servers:
        server.should_exit = True
