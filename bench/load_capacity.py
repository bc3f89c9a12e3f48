"""Capacity benchmark: which side runs out first, the Locust generator or the server?

Against one reference server (latency model 0/0, so every answer is pure overhead) it
measures, for a tiny non-streamed request (chat, ``max_tokens`` 1):

1. the requests/s ONE Locust worker process sustains, running ``qbtsuite load`` with
   our ``ChatUser`` (FastHttpUser + exact per-request samples), closed loop, no think
   time;
2. the requests/s the same server sustains against a much lighter client in the same
   run: raw asyncio keep-alive HTTP/1.1 over TLS, pre-built request bytes, answers
   framed by Content-Length and never parsed.

Each phase also reports the CPU share of the client and of the server (psutil), so
the reader sees which one saturated: a process near 100 % of one core is the
bottleneck. Figures are printed, never asserted.

    /work/venv/bin/python bench/load_capacity.py [--seconds 10] [--connections 16]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import ssl
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil  # type: ignore[import-untyped]

from qbtsuite.loadtest.run import LoadRequest, run_load
from qbtsuite.target.embedded import EmbeddedServer, ServerTarget

BODY = json.dumps(
    {
        "model": "Llama-3.1-8B-Instruct",
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 1,
    }
).encode()


class CpuWatch:
    """Samples the CPU seconds of this process's descendants, by role, 5 times a second."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, dict[str, float]]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._roles: dict[int, str] = {}

    def _role(self, proc: psutil.Process) -> str:
        if proc.pid not in self._roles:
            cmd = " ".join(proc.cmdline())
            role = (
                "locust"
                if "locust" in cmd
                else "server"
                if " serve " in cmd
                else "other"
            )
            self._roles[proc.pid] = role
        return self._roles[proc.pid]

    def _sample(self) -> None:
        used: dict[str, float] = {"client": time.process_time()}
        for proc in psutil.Process().children(recursive=True):
            try:
                times = proc.cpu_times()
                role = self._role(proc)
            except psutil.Error:
                continue
            used[role] = used.get(role, 0.0) + times.user + times.system
        self.samples.append((time.time(), used))

    def _loop(self) -> None:
        while not self._stop.wait(0.2):
            self._sample()

    def __enter__(self) -> CpuWatch:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def share(self, role: str, start: float, end: float) -> float:
        """Share of one core ``role`` used between two epoch times (1.0 = one core)."""
        inside = [(t, u.get(role, 0.0)) for t, u in self.samples if start <= t <= end]
        if len(inside) < 2:
            return float("nan")
        (t0, c0), (t1, c1) = inside[0], inside[-1]
        return (c1 - c0) / (t1 - t0)


def locust_phase(
    server: ServerTarget, seconds: float, users: int, folder: Path, watch: CpuWatch
) -> tuple[float, dict[str, float]]:
    profile = folder / "capacity.toml"
    profile.write_text(
        f"""
user = "chat"
warmup = 2.0
drain = 2.0
timeout = 10.0
max_requests = 10000000
[[stages]]
duration = {seconds + 2.0}
users = {users}
[request]
max_tokens = 1
"""
    )
    os.environ["QUBITTRON_API_KEY"] = server.keys["main"]
    result = run_load(
        LoadRequest(
            profile=str(profile),
            base_url=server.https_url,
            ca=server.ca,
            output=folder,
        )
    )
    if result.report is None:
        raise SystemExit(f"locust phase failed: {result.message}")
    window = result.report["window"]
    cpu = {
        role: watch.share(role, window["start"], window["end"])
        for role in ("locust", "server")
    }
    return float(result.report["endpoints"]["all"]["ok_per_s"]), cpu


async def _connection(
    host: str,
    port: int,
    context: ssl.SSLContext,
    request: bytes,
    window: tuple[float, float],
    counts: list[int],
) -> None:
    reader, writer = await asyncio.open_connection(host, port, ssl=context)
    start, end = window
    loop = asyncio.get_running_loop()
    while (now := loop.time()) < end:
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        await reader.readexactly(length)
        if head.startswith(b"HTTP/1.1 200") and loop.time() >= start and now < end:
            counts[0] += 1
        elif not head.startswith(b"HTTP/1.1 200"):
            counts[1] += 1
    writer.close()


async def _raw(
    server: ServerTarget, seconds: float, connections: int
) -> tuple[float, int]:
    url = urlsplit(server.https_url)
    host, port = url.hostname or "127.0.0.1", url.port or 443
    request = (
        f"POST {url.path}/chat/completions HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Authorization: Bearer {server.keys['main']}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(BODY)}\r\n\r\n"
    ).encode() + BODY
    context = ssl.create_default_context(cafile=server.ca)
    loop = asyncio.get_running_loop()
    start = loop.time() + 2.0  # warm-up, as in the Locust phase
    counts = [0, 0]
    await asyncio.gather(
        *(
            _connection(host, port, context, request, (start, start + seconds), counts)
            for _ in range(connections)
        )
    )
    return counts[0] / seconds, counts[1]


def raw_phase(
    server: ServerTarget, seconds: float, connections: int, watch: CpuWatch
) -> tuple[float, dict[str, float]]:
    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:
        runner = asyncio.run
    start = time.time() + 2.0
    rps, bad = runner(_raw(server, seconds, connections))
    cpu = {
        role: watch.share(role, start, start + seconds) for role in ("client", "server")
    }
    if bad:
        print(f"  (raw client saw {bad} non-200 answers)")
    return rps, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    print(
        f"capacity: POST /chat/completions max_tokens 1, non-streamed; server "
        f"latency model 0/0; {args.connections} connections; {args.seconds:g} s "
        f"measured after 2 s warm-up; {os.cpu_count()} CPUs"
    )
    with (
        EmbeddedServer(
            args=["--ttft", "0", "--itl", "0", "--rate-window", "1"]
        ) as server,
        CpuWatch() as watch,
        tempfile.TemporaryDirectory(prefix="qbt-capacity-") as tmp,
    ):
        locust_rps, locust_cpu = locust_phase(
            server, args.seconds, args.connections, Path(tmp), watch
        )
        raw_rps, raw_cpu = raw_phase(server, args.seconds, args.connections, watch)
    rows = [
        ("Locust, 1 process (ChatUser + samples)", locust_rps, locust_cpu, "locust"),
        ("raw asyncio keep-alive (this process)", raw_rps, raw_cpu, "client"),
    ]
    print(
        f"{'client':<40} {'req/s':>7} {'client CPU':>10} {'server CPU':>10} "
        f"{'client µs/req':>13} {'server µs/req':>13}"
    )
    cost: dict[str, tuple[float, float]] = {}
    for label, rps, cpu, role in rows:
        client_us = cpu.get(role, 0.0) / rps * 1e6 if rps else float("nan")
        server_us = cpu.get("server", 0.0) / rps * 1e6 if rps else float("nan")
        cost[role] = (client_us, server_us)
        print(
            f"{label:<40} {rps:>7.0f} {cpu.get(role, 0):>10.0%} "
            f"{cpu.get('server', 0):>10.0%} {client_us:>13.0f} {server_us:>13.0f}"
        )
    load = os.getloadavg()[0]
    if load > (os.cpu_count() or 1) * 0.5:
        print(
            f"note: system load average {load:.1f}: other processes compete for CPU; "
            "req/s vary with them, CPU µs per request much less"
        )
    # CPU time per request does not depend on how much CPU others leave us: one
    # full core divided by it is what each side could sustain on its own core.
    locust_ceiling = 1e6 / cost["locust"][0]
    server_ceiling = 1e6 / cost["client"][1]
    print(
        f"on one dedicated core each: Locust process ≈ {locust_ceiling:.0f} req/s, "
        f"server ≈ {server_ceiling:.0f} req/s"
    )
    if locust_ceiling < server_ceiling:
        print(
            "the generator is the bottleneck: one Locust process saturates first "
            f"(use --workers {math.ceil(server_ceiling / locust_ceiling)} or more)"
        )
    else:
        print("the server is the bottleneck: one Locust process outruns it")


if __name__ == "__main__":
    main()
