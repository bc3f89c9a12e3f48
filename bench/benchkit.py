"""Process plumbing for ``server_throughput.py``: servers, load-generator runs, CPU sampling.

Every process started here is a child in its own session and is stopped through
:class:`Processes` or the server context managers, also on Ctrl-C or an error.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from qbtsuite.server.keys import generate_key
from qbtsuite.target.embedded import EmbeddedServer

__all__ = [
    "Endpoint",
    "Processes",
    "Result",
    "bare_server",
    "percentile",
    "reference_server",
    "run_phase",
]

HERE = Path(__file__).resolve().parent


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


def busy_seconds() -> float:
    """CPU seconds all cores spent busy so far (``/proc/stat``: all but idle, iowait)."""
    line = Path("/proc/stat").read_text().split("\n", 1)[0]
    ticks = [int(v) for v in line.split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


@dataclass(slots=True)
class Result:
    """One measured phase, merged over its client processes."""

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
    server_cpu: float = 0.0  # share of one core
    machine_cpu: float = 0.0  # busy cores, every process on the machine

    @property
    def rps(self) -> float:
        return self.count / self.duration

    @property
    def other_cpu(self) -> float:
        """Cores used by processes other than this benchmark's server and clients."""
        return max(0.0, self.machine_cpu - self.server_cpu - sum(self.client_cpu))

    @property
    def server_us(self) -> float:
        """Server CPU microseconds per completed request (or per content chunk)."""
        done = self.count or self.chunks
        return self.server_cpu * self.duration / max(done, 1) * 1e6

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


class Processes:
    """Child processes started by this run; :meth:`stop_all` ends every one."""

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
    """A server under test: its HTTPS origin, CA file, key file and process id."""

    url: str
    ca: str
    key_file: Path
    pid: int


@contextmanager
def bare_server(procs: Processes, folder: Path) -> Iterator[Endpoint]:
    """The bare Starlette app in its own process (``bench/bare_server.py``)."""
    folder.mkdir(parents=True, exist_ok=True)
    log = (folder / "bare.log").open("wb")
    command = [sys.executable, str(HERE / "bare_server.py"), str(folder)]
    proc = procs.spawn(command, stdout=log, stderr=subprocess.STDOUT)
    info_file = folder / "bare.json"
    deadline = time.monotonic() + 60
    while not info_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"bare server did not start: see {log.name}")
        time.sleep(0.02)
    info = json.loads(info_file.read_text())
    key_file = folder / "key"
    key_file.write_text("none", encoding="utf-8")
    try:
        yield Endpoint(info["origin"], info["ca"], key_file, info["pid"])
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)


@contextmanager
def reference_server(folder: Path, ttft: float, itl: float) -> Iterator[Endpoint]:
    """``qbtsuite serve`` as a child process with one key whose limit never binds.

    The default keys allow 100,000 requests a minute, which a throughput run of a
    few seconds can exceed; a 429 would measure the limiter, not the server.
    """
    folder.mkdir(parents=True, exist_ok=True)
    key = generate_key()
    key_file = folder / "key"  # keys never go on a command line
    key_file.touch(mode=0o600)
    key_file.write_text(key, encoding="utf-8")
    keys_toml = folder / "keys.toml"
    keys_toml.write_text(
        f'[[keys]]\nrole = "main"\nkey = "{key}"\nrpm = 1000000000\nbalance = 1e18\n',
        encoding="utf-8",
    )
    server = EmbeddedServer(
        args=["--ttft", str(ttft), "--itl", str(itl), "--keys", str(keys_toml)],
        state_dir=folder / "state",
    )
    target = server.start()
    try:
        pid = json.loads((folder / "state" / "server.json").read_text())["pid"]
        origin = target.https_url.rsplit("/v1", 1)[0]
        yield Endpoint(origin, target.ca, key_file, pid)
    finally:
        server.stop()


def run_phase(
    procs: Processes,
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
    """Run ``clients`` load-generator processes over one shared window and merge them.

    The clients connect first, then all start at one wall-clock instant; the server's
    and the machine's CPU are sampled at the window's edges.
    """
    origin = urlsplit(endpoint.url)
    start_at = time.time() + 1.0 + connections * 0.01
    shares = [
        connections // clients + (i < connections % clients) for i in range(clients)
    ]
    running = []
    for share in shares:
        command = [
            sys.executable, str(HERE / "loadgen.py"), mode,
            "--port", str(origin.port),
            "--path", origin.path + path,
            "--ca", endpoint.ca,
            "--key-file", str(endpoint.key_file),
            "--body", base64.b64encode(json.dumps(body).encode()).decode(),
            "--connections", str(share),
            "--start-at", str(start_at),
            "--warmup", str(warmup),
            "--duration", str(duration),
        ]  # fmt: skip
        running.append(procs.spawn(command, stdout=subprocess.PIPE))
    result = Result(label, duration)
    try:
        time.sleep(max(0.0, start_at + warmup - time.time()))
        cpu0, all0, wall0 = cpu_seconds(endpoint.pid), busy_seconds(), time.monotonic()
        time.sleep(max(0.0, start_at + warmup + duration - time.time()))
        cpu1, all1, wall1 = cpu_seconds(endpoint.pid), busy_seconds(), time.monotonic()
        result.server_cpu = (cpu1 - cpu0) / (wall1 - wall0)
        result.machine_cpu = (all1 - all0) / (wall1 - wall0)
        for proc in running:
            out, _ = proc.communicate(timeout=60)
            if proc.returncode != 0:
                raise RuntimeError(f"{label}: load generator exited {proc.returncode}")
            result.merge(json.loads(out))
    finally:
        for proc in running:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=5)
    return result
