"""Application cost per request, in-process: the ASGI apps driven without sockets or TLS.

Calls the reference server's HTTPS app (``create_app``, no faults) and the bare
Starlette app of ``bare_server.py`` directly with a prepared scope, the request body
in one message and a ``send`` that keeps only the status; prints µs per request for
each route (the median of ``--rounds`` rounds, rounds interleaved) and, with
``--profile ROUTE``, the cProfile table of that route. No server, no event-loop I/O:
this isolates the app's own work, and it is far steadier on a shared machine than
``server_throughput.py``. In the running server every in-process µs costs roughly
2.5–3.5 µs of server CPU (the app's code and data compete for caches with uvicorn,
uvloop and TLS), so read it for where time goes, and the throughput benchmark for
what a change buys.

Run: ``python bench/app_cost.py [--requests 20000] [--rounds 5] [--profile chat]``
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import pstats
import statistics
import time
from typing import Any

import orjson
from starlette.types import ASGIApp, Message

from bare_server import bare_app
from qbtsuite.server.app import create_app
from qbtsuite.server.keys import KeyStore
from qbtsuite.server.parts import build_parts
from qbtsuite.server.settings import LatencyModel, ServerSettings

__all__ = ["main"]

EMBED = {"model": "bge-m3", "input": "The quick brown fox jumps over the lazy dog"}
CHAT = {
    "model": "gpt-oss-20b",
    "messages": [{"role": "user", "content": "Tell me about the benchmark, take 1."}],
    "max_tokens": 16,
}


def _scope(path: str, key: str, body: bytes) -> dict[str, Any]:
    headers = [
        (b"host", b"127.0.0.1"),
        (b"authorization", b"Bearer " + key.encode()),
        (b"content-type", b"application/json"),
        (b"content-length", b"%d" % len(body)),
    ]
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 443),
        "state": {},
    }


async def _per_request(
    app: ASGIApp, scope: dict[str, Any], body: bytes, n: int
) -> float:
    """Mean µs per request over ``n`` requests; fails unless every one is a 200."""
    request = {"type": "http.request", "body": body, "more_body": False}
    statuses: set[int] = set()

    async def receive() -> Message:
        return request

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses.add(message["status"])

    start = time.perf_counter()
    for _ in range(n):
        await app(dict(scope), receive, send)
    elapsed = time.perf_counter() - start
    if statuses != {200}:
        raise SystemExit(f"{scope['path']}: statuses {sorted(statuses)}, expected 200")
    return elapsed / n * 1e6


async def _run(args: argparse.Namespace) -> None:
    keys = KeyStore.default()
    key = keys.accounts()[0]
    key.rpm = 10**12  # the limiter still counts every request; it never refuses
    key.balance = 1e18
    parts = build_parts(ServerSettings(latency=LatencyModel(0.0, 0.0)), keys)
    app, bare = create_app(parts), bare_app()
    routes: dict[str, tuple[ASGIApp, str, dict[str, Any]]] = {
        "bare": (bare, "/bare", EMBED),
        "bare-large": (bare, "/bare-large", EMBED),
        "embeddings": (app, "/v1/embeddings", EMBED),
        "chat": (app, "/v1/chat/completions", CHAT),
    }
    prepared = {
        name: (target, _scope(path, key.key, orjson.dumps(body)), orjson.dumps(body))
        for name, (target, path, body) in routes.items()
    }
    for target, scope, body in prepared.values():  # warm-up: imports, caches
        await _per_request(target, scope, body, 500)
    gc.collect()
    gc.freeze()
    if args.profile:
        target, scope, body = prepared[args.profile]
        profile = cProfile.Profile()
        profile.enable()
        await _per_request(target, scope, body, args.requests)
        profile.disable()
        pstats.Stats(profile).sort_stats("tottime").print_stats(30)
        return
    samples: dict[str, list[float]] = {name: [] for name in prepared}
    for _ in range(args.rounds):
        for name, (target, scope, body) in prepared.items():
            samples[name].append(await _per_request(target, scope, body, args.requests))
    base = statistics.median(samples["bare"])
    print(f"{'route':<12}{'µs/request':>11}{'× bare':>8}  rounds")
    for name, values in samples.items():
        mid = statistics.median(values)
        spread = " ".join(f"{v:.1f}" for v in values)
        print(f"{name:<12}{mid:11.1f}{mid / base:8.2f}  {spread}")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=20000, help="requests per round")
    p.add_argument("--rounds", type=int, default=5, help="rounds (median shown)")
    p.add_argument(
        "--profile",
        choices=["bare", "bare-large", "embeddings", "chat"],
        help="print the cProfile table of one route instead",
    )
    asyncio.run(_run(p.parse_args(argv)))


if __name__ == "__main__":
    main()
