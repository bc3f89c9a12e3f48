"""Reference-server benchmark: throughput against a bare Starlette app, and streaming pacing.

One run prints:

1. requests/s with concurrent keep-alive TLS clients for a bare Starlette JSON endpoint
   (``bench/bare_server.py``, the server's own uvicorn settings and TLS), for
   ``POST /v1/embeddings`` (bge-m3, one short input: 1024 floats come back) and for
   non-streamed ``POST /v1/chat/completions`` (gpt-oss-20b, ``max_tokens`` 16), with the
   ratio endpoint/bare (goal ≥ 0.7). The reference server runs with ``--ttft 0 --itl 0``
   so only the server's own work is measured.
2. for concurrent streaming chat requests against a server started with
   ``--ttft 0.05 --itl 0.02``: the gap between content chunks as the client sees it
   (p50/p90/p99/max, goal p99 < 30 ms) and the time to first token.

Server and client CPU (share of one core over the window) are printed beside each
figure: on a 2-core machine the client must stay clearly below 100 % for the server's
figure to mean anything. Everything runs on 127.0.0.1, each phase is bounded in time,
and every process started here is stopped on exit, Ctrl-C included.

Run: ``python bench/server_throughput.py [--duration 5] [--connections 64] [--streams 200]``
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import uvicorn

from qbtsuite.embedded import EmbeddedServer
from qbtsuite.server.textgen import TextGenerator

__all__ = ["main"]

HERE = Path(__file__).resolve().parent
CHAT_MODEL = "gpt-oss-20b"
EMBED_BODY = {"model": "bge-m3", "input": "The quick brown fox jumps over the lazy dog"}


@dataclass(slots=True)
class Result:
    """One phase, merged over its client processes."""

    label: str
    duration: float
    count: int = 0
    streams: int = 0
    chunks: int = 0
    latency: list[float] = field(default_factory=list)
    gaps: list[float] = field(default_factory=list)
    ttft: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    lost: int = 0
    late: float = 0.0
    client_cpu: list[float] = field(default_factory=list)
    server_cpu: float = 0.0
    machine_cpu: float = 0.0  # busy cores, every process on the machine

    @property
    def other_cpu(self) -> float:
        """CPU used by processes other than this benchmark's server and clients."""
        return max(0.0, self.machine_cpu - self.server_cpu - sum(self.client_cpu))

    @property
    def server_us(self) -> float:
        """Server CPU microseconds per completed request."""
        return self.server_cpu * self.duration / max(self.count, 1) * 1e6

    @property
    def rps(self) -> float:
        return self.count / self.duration

    def merge(self, part: dict[str, Any]) -> None:
        self.count += part["count"]
        self.streams += part["streams"]
        self.chunks += part["chunks"]
        self.latency += part["latency"]
        self.gaps += part["gaps"]
        self.ttft += part["ttft"]
        for status, n in part["errors"].items():
            self.errors[status] = self.errors.get(status, 0) + n
        self.lost += part["lost"]
        self.late = max(self.late, part["late"])
        self.client_cpu.append(part["cpu"])


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of ``values`` (0 when empty)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def busy_cores_seconds() -> float:
    """CPU seconds all cores spent busy so far (``/proc/stat``: all but idle and iowait)."""
    ticks = [
        int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    ]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def long_prompt() -> str:
    """A user message whose deterministic reply is as long as the generator makes (29)."""
    gen = TextGenerator()
    best, best_len = "", -1
    for i in range(500):
        text = f"Tell me about the benchmark, take {i}."
        size = len(gen.generate(CHAT_MODEL, f"user: {text}", 0, None).pieces)
        if size > best_len:
            best, best_len = text, size
    return best


class Processes:
    """Child processes started by this run; all are stopped on exit."""

    def __init__(self) -> None:
        self.children: list[subprocess.Popen[bytes]] = []

    def spawn(self, command: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(command, start_new_session=True, **kwargs)
        self.children.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.children:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.children:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        self.children.clear()


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where one phase sends its requests."""

    url: str
    ca: str
    key: str
    pid: int


@contextmanager
def bare_server(procs: Processes, folder: Path) -> Iterator[Endpoint]:
    """The bare Starlette app in its own process (``bench/bare_server.py``)."""
    folder.mkdir(parents=True, exist_ok=True)
    log = (folder / "bare.log").open("wb")
    proc = procs.spawn(
        [sys.executable, str(HERE / "bare_server.py"), str(folder)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    info_file = folder / "bare.json"
    deadline = time.monotonic() + 60
    while not info_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"bare server did not start: see {log.name}")
        time.sleep(0.02)
    info = json.loads(info_file.read_text())
    try:
        yield Endpoint(info["url"], info["ca"], "none", info["pid"])
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)


@contextmanager
def reference_server(folder: Path, ttft: float, itl: float) -> Iterator[Endpoint]:
    """``qbtsuite serve`` as a child process, with the given latency model."""
    server = EmbeddedServer(
        args=["--ttft", str(ttft), "--itl", str(itl)], state_dir=folder
    )
    target = server.start()
    try:
        pid = json.loads((folder / "server.json").read_text())["pid"]
        yield Endpoint(target.https_url, target.ca, target.keys["main"], pid)
    finally:
        server.stop()


def run_phase(
    procs: Processes,
    folder: Path,
    label: str,
    mode: str,
    endpoint: Endpoint,
    path: str,
    body: dict[str, Any],
    *,
    connections: int,
    clients: int,
    warmup: float,
    duration: float,
) -> Result:
    """Run ``clients`` load-generator processes over one shared window and merge them."""
    parts = urlsplit(endpoint.url)
    base_path = parts.path.rsplit("/v1", 1)[0] if path.startswith("/v1") else ""
    key_file = folder / "key"  # the key never goes on a command line
    key_file.touch(mode=0o600)
    key_file.write_text(endpoint.key, encoding="utf-8")
    start_at = time.time() + 1.0 + connections * 0.01
    shares = [
        connections // clients + (i < connections % clients) for i in range(clients)
    ]
    running = []
    for share in shares:
        command = [
            sys.executable,
            str(HERE / "loadgen.py"),
            mode,
            "--port", str(parts.port),
            "--path", base_path + path,
            "--ca", endpoint.ca,
            "--key-file", str(key_file),
            "--body", base64.b64encode(json.dumps(body).encode()).decode(),
            "--connections", str(share),
            "--start-at", str(start_at),
            "--warmup", str(warmup),
            "--duration", str(duration),
        ]  # fmt: skip
        running.append(procs.spawn(command, stdout=subprocess.PIPE))
    result = Result(label, duration)
    time.sleep(max(0.0, start_at + warmup - time.time()))
    cpu0, all0, wall0 = (
        cpu_seconds(endpoint.pid),
        busy_cores_seconds(),
        time.monotonic(),
    )
    time.sleep(max(0.0, start_at + warmup + duration - time.time()))
    cpu1, all1, wall1 = (
        cpu_seconds(endpoint.pid),
        busy_cores_seconds(),
        time.monotonic(),
    )
    result.server_cpu = (cpu1 - cpu0) / (wall1 - wall0)
    result.machine_cpu = (all1 - all0) / (wall1 - wall0)
    for proc in running:
        out, _ = proc.communicate(timeout=60)
        if proc.returncode != 0:
            raise RuntimeError(f"{label}: load generator exited {proc.returncode}")
        result.merge(json.loads(out))
    return result


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f}"


def _cpu(result: Result) -> str:
    clients = "+".join(f"{c * 100:.0f}" for c in result.client_cpu) + "%"
    return f"{result.server_cpu * 100:6.0f}%{clients:>9}{result.other_cpu * 100:6.0f}%"


def _notes(result: Result) -> str:
    notes = [f"{s}×{n}" for s, n in sorted(result.errors.items())]
    if result.lost:
        notes.append(f"{result.lost} conn lost")
    if result.late > 0.05:
        notes.append(f"connect late {result.late:.2f}s")
    return ", ".join(notes)


def report(
    args: argparse.Namespace, rps: list[Result], stream: Result | None, reply: int
) -> None:
    """The compact table of all figures."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"\nqbtsuite server benchmark, {now}")
    print(
        f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, "
        f"uvicorn {uvicorn.__version__} (uvloop, httptools, TLS, access log off)"
    )
    if rps:
        print(
            f"\nthroughput: {args.connections} keep-alive TLS connections, "
            f"{args.clients} client process(es), {args.warmup:g} s warm-up, "
            f"{args.duration:g} s window"
        )
        print(
            f"{'endpoint':<34}{'req/s':>8}{'ratio':>6}{'p50 ms':>8}{'p99 ms':>8}"
            f"{'µs/req':>8}{'server':>7}{'client':>9}{'other':>7}  notes"
        )
        base = rps[0].rps or 1.0
        for r in rps:
            print(
                f"{r.label:<34}{r.rps:8.0f}{r.rps / base:6.2f}"
                f"{_ms(percentile(r.latency, 50)):>8}{_ms(percentile(r.latency, 99)):>8}"
                f"{r.server_us:8.0f}{_cpu(r)}  {_notes(r)}"
            )
    if stream is not None:
        print(
            f"\nstreaming: {args.streams} concurrent streams, ttft 50 ms, itl 20 ms, "
            f"{reply} content chunks per stream, {args.stream_clients} client "
            f"process(es), {args.stream_warmup:g} s warm-up, {args.duration:g} s window"
        )
        print(f"{'':<22}{'p50':>8}{'p90':>8}{'p99':>8}{'max':>8}")
        for name, values in (
            ("inter-chunk gap ms", stream.gaps),
            ("TTFT ms", stream.ttft),
        ):
            cells = "".join(
                f"{_ms(percentile(values, q)):>8}" for q in (50, 90, 99, 100)
            )
            print(f"{name:<22}{cells}")
        print(
            f"streams completed {stream.streams}, content chunks {stream.chunks}, "
            f"gaps {len(stream.gaps)}; CPU server/client/other {_cpu(stream)}"
            + (f"; {_notes(stream)}" if _notes(stream) else "")
        )
    verdicts = []
    for r in rps[1:]:
        ratio = r.rps / base
        verdicts.append(
            f"{r.label.split()[1]} ratio {ratio:.2f} {'ok' if ratio >= 0.7 else 'BELOW 0.7'}"
        )
    if stream is not None:
        p99 = percentile(stream.gaps, 99) * 1000
        verdicts.append(f"gap p99 {p99:.1f} ms {'ok' if p99 < 30 else 'NOT < 30 ms'}")
    print("\ngoals: " + "; ".join(verdicts))


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Reference-server throughput and streaming benchmark"
    )
    p.add_argument(
        "--duration", type=float, default=5.0, help="measuring window per phase, s"
    )
    p.add_argument(
        "--warmup", type=float, default=1.0, help="warm-up per throughput phase, s"
    )
    p.add_argument(
        "--connections",
        type=int,
        default=64,
        help="concurrent connections (throughput)",
    )
    p.add_argument(
        "--clients", type=int, default=1, help="client processes (throughput)"
    )
    p.add_argument("--streams", type=int, default=200, help="concurrent streams")
    p.add_argument(
        "--stream-clients", type=int, default=1, help="client processes (streaming)"
    )
    p.add_argument(
        "--stream-warmup",
        type=float,
        default=1.5,
        help="warm-up of the streaming phase, s",
    )
    p.add_argument(
        "--only", choices=["throughput", "streaming"], help="run one part only"
    )
    return p.parse_args(argv)  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    args = _parse(argv)
    prompt = long_prompt()
    messages = [{"role": "user", "content": prompt}]
    chat = {"model": CHAT_MODEL, "messages": messages, "max_tokens": 16}
    streamed = {
        "model": CHAT_MODEL,
        "messages": messages,
        "max_tokens": 50,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    reply = len(TextGenerator().generate(CHAT_MODEL, f"user: {prompt}", 0, 50).pieces)
    common = {"connections": args.connections, "clients": args.clients}
    procs = Processes()
    rps: list[Result] = []
    stream: Result | None = None
    with tempfile.TemporaryDirectory(prefix="qbtsuite-bench-") as tmp:
        folder = Path(tmp)
        try:
            if args.only != "streaming":
                with bare_server(procs, folder / "bare") as bare:
                    print("bare Starlette app ...", flush=True)
                    rps.append(
                        run_phase(procs, folder, "bare Starlette JSON", "rps", bare, "/bare",
                                  EMBED_BODY, warmup=args.warmup,
                                  duration=args.duration, **common)
                    )  # fmt: skip
                with reference_server(folder / "ref", 0.0, 0.0) as ref:
                    print("POST /v1/embeddings ...", flush=True)
                    rps.append(
                        run_phase(procs, folder, "POST /v1/embeddings (bge-m3)", "rps", ref,
                                  "/v1/embeddings", EMBED_BODY, warmup=args.warmup,
                                  duration=args.duration, **common)
                    )  # fmt: skip
                    print("POST /v1/chat/completions ...", flush=True)
                    rps.append(
                        run_phase(procs, folder, "POST /v1/chat/completions (16 tok)", "rps",
                                  ref, "/v1/chat/completions", chat,
                                  warmup=args.warmup, duration=args.duration,
                                  **common)
                    )  # fmt: skip
            if args.only != "throughput":
                with reference_server(folder / "stream", 0.05, 0.02) as ref:
                    print(f"{args.streams} streams ...", flush=True)
                    stream = run_phase(
                        procs, folder, "streaming chat", "stream", ref, "/v1/chat/completions",
                        streamed, connections=args.streams, clients=args.stream_clients,
                        warmup=args.stream_warmup, duration=args.duration,
                    )  # fmt: skip
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return
        finally:
            procs.stop_all()
    report(args, rps, stream, reply)


if __name__ == "__main__":
    main()
