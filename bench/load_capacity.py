"""Capacity benchmark: what one Locust process costs per request, against its floor.

Against one reference server (latency model 0/0, so every answer is pure overhead) it
sends a tiny non-streamed chat request (``max_tokens`` 1) from three clients:

1. ONE Locust process running ``qbtsuite load`` with our ``ChatUser`` (FastHttpUser
   + exact per-request samples), closed loop, no think time;
2. ONE Locust process running ``bare_locustfile.py``: a bare ``FastHttpUser`` posting
   the same request (same path, body bytes and headers) with the same number of
   users, keeping only Locust's own statistics;
3. (last round only) raw asyncio keep-alive HTTP/1.1 over TLS in this process,
   pre-built request bytes, answers framed by Content-Length and never parsed: what
   the server sustains against a much lighter client.

The Locust clients are measured by their **marginal** CPU time per request: each runs
once for ``--short`` and once for ``--long`` seconds, and the difference of the two
processes' CPU time (the kernel's accounting of each finished child) over the
difference of their request counts is what one more request costs, start-up, spawn and
report writing cancelling out. A full core divided by it is the req/s that client could
sustain on one dedicated core ("req/s per core"). ``--rounds`` repeats the four runs,
alternating which client goes first, with a fresh server per round; the ratio is taken
within each round. Figures are printed, never asserted.

    python bench/load_capacity.py [--rounds 3] [--short 3] [--long 13] [--users 16]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import resource
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from benchkit import Endpoint, busy_seconds, cpu_seconds, reference_server
from qbtsuite.loadtest.bodies import prepare
from qbtsuite.loadtest.plan import RequestSettings
from qbtsuite.loadtest.run import LoadRequest, LoadResult, run_load
from qbtsuite.loadtest.samples import SampleOutcome, read_samples

HERE = Path(__file__).resolve().parent
CHAT = prepare("chat", RequestSettings(max_tokens=1))  # what ChatUser sends
CLIENTS = ("ChatUser", "bare")


@dataclass(frozen=True, slots=True)
class RunCost:
    """One finished Locust process: its CPU seconds, requests and the server's CPU."""

    cpu: float
    requests: int
    not_ok: int
    server_cpu: float


@dataclass(frozen=True, slots=True)
class Marginal:
    """One client between a short and a long run: the cost of one more request."""

    client_us: float  # client CPU µs per request
    server_us: float  # server CPU µs per request
    rps: float  # requests/s the client achieved in the extra seconds
    client_share: float  # cores the client used meanwhile
    not_ok: int

    @property
    def per_core(self) -> float:
        return 1e6 / self.client_us


def marginal(short: RunCost, long: RunCost, extra_seconds: float) -> Marginal:
    requests = long.requests - short.requests
    cpu = long.cpu - short.cpu
    if requests <= 0:
        raise SystemExit("the long run sent no more requests than the short one")
    return Marginal(
        client_us=cpu / requests * 1e6,
        server_us=(long.server_cpu - short.server_cpu) / requests * 1e6,
        rps=requests / extra_seconds,
        client_share=cpu / extra_seconds,
        not_ok=short.not_ok + long.not_ok,
    )


def _children_cpu() -> float:
    """CPU seconds of this process's finished (reaped) children so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _chat_request(
    server: Endpoint, seconds: float, users: int, folder: Path
) -> LoadRequest:
    """``qbtsuite load`` with ``ChatUser`` for ``seconds``: one Locust process."""
    folder.mkdir(parents=True, exist_ok=True)
    profile = folder / "capacity.toml"
    profile.write_text(
        f"""
user = "chat"
warmup = 1.0
drain = 2.0
timeout = 10.0
max_requests = 100000000
[[stages]]
duration = {seconds}
users = {users}
[request]
max_tokens = 1
"""
    )
    os.environ["QUBITTRON_API_KEY"] = server.key_file.read_text().strip()
    return LoadRequest(
        profile=str(profile),
        base_url=server.url + "/v1",
        ca=server.ca,
        reports_dir=folder,
    )


def _chat_counts(result: LoadResult) -> tuple[int, int]:
    """(requests, not ok) of a ChatUser run, from its exact samples."""
    if result.run_dir is None or result.report is None:
        raise SystemExit(f"ChatUser run failed: {result.message}")
    samples = read_samples(result.run_dir / "samples.jsonl").samples
    return len(samples), sum(1 for s in samples if s.get("outcome") != SampleOutcome.OK)


def _bare_start(
    server: Endpoint, seconds: float, users: int, folder: Path
) -> subprocess.Popen[bytes]:
    """``bare_locustfile.py`` for ``seconds``: one Locust process, its statistics only."""
    folder.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update(
        QBT_BENCH_URL=server.url + "/v1",
        QBT_BENCH_PATH=CHAT.path,
        QBT_BENCH_BODY=CHAT.body.decode(),
        QBT_BENCH_CA=server.ca,
        QBT_BENCH_KEY=server.key_file.read_text().strip(),
    )
    command = [
        sys.executable, "-m", "locust",
        "-f", str(HERE / "bare_locustfile.py"),
        "--headless", "--loglevel=INFO",
        "-u", str(users), "-r", str(4 * users),  # as ProfileShape: all in 0.25 s
        "-t", f"{seconds:g}s", "--stop-timeout", "10",
        "--csv", str(folder / "locust"), "--html", str(folder / "locust.html"),
        "--logfile", str(folder / "locust.log"),
        "BareChatUser",
    ]  # fmt: skip
    with (folder / "locust.out").open("wb") as out:
        return subprocess.Popen(
            command,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def _bare_wait(proc: subprocess.Popen[bytes], seconds: float) -> float:
    """Reap the bare Locust process; its own CPU seconds (the kernel's account)."""
    deadline = time.monotonic() + seconds + 60
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return usage.ru_utime + usage.ru_stime
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise SystemExit("bare Locust run did not end in time")
        time.sleep(0.05)


def _bare_counts(folder: Path) -> tuple[int, int]:
    """(requests, failures) of a bare run, from Locust's statistics."""
    with (folder / "locust_stats.csv").open() as f:
        total = next(r for r in csv.DictReader(f) if r["Name"] == "Aggregated")
    return int(total["Request Count"]), int(total["Failure Count"])


def run_apart(
    server: Endpoint, seconds: float, users: int, folder: Path, first: str
) -> dict[str, RunCost]:
    """ChatUser, then the bare user (or the other way round): one at a time."""
    costs: dict[str, RunCost] = {}
    for name in (first, *(c for c in CLIENTS if c != first)):
        server0 = cpu_seconds(server.pid)
        if name == "ChatUser":
            cpu0 = _children_cpu()
            result = run_load(_chat_request(server, seconds, users, folder / name))
            cpu = _children_cpu() - cpu0  # the Locust process: the only child reaped
            requests, not_ok = _chat_counts(result)
        else:
            proc = _bare_start(server, seconds, users, folder / name)
            cpu = _bare_wait(proc, seconds)
            requests, not_ok = _bare_counts(folder / name)
        costs[name] = RunCost(cpu, requests, not_ok, cpu_seconds(server.pid) - server0)
    return costs


def run_together(
    server: Endpoint, seconds: float, users: int, folder: Path
) -> dict[str, RunCost]:
    """ChatUser and the bare user at the same time, so that both meet the same
    neighbours; the server's CPU is shared out by requests."""
    request = _chat_request(server, seconds, users, folder / "ChatUser")
    done: list[LoadResult] = []
    thread = threading.Thread(target=lambda: done.append(run_load(request)))
    cpu0, server0 = _children_cpu(), cpu_seconds(server.pid)
    thread.start()
    proc = _bare_start(server, seconds, users, folder / "bare")
    bare_cpu = _bare_wait(proc, seconds)
    thread.join(timeout=seconds + 120)
    if thread.is_alive() or not done:
        raise SystemExit("ChatUser run did not end in time")
    # Both Locust processes are reaped now; the server is still running.
    chat_cpu = _children_cpu() - cpu0 - bare_cpu
    server_cpu = cpu_seconds(server.pid) - server0
    chat, bare = _chat_counts(done[0]), _bare_counts(folder / "bare")
    share = chat[0] / max(1, chat[0] + bare[0])
    return {
        "ChatUser": RunCost(chat_cpu, chat[0], chat[1], server_cpu * share),
        "bare": RunCost(bare_cpu, bare[0], bare[1], server_cpu * (1 - share)),
    }


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
    server: Endpoint, seconds: float, connections: int
) -> tuple[int, int, float, float]:
    url = urlsplit(server.url)
    host, port = url.hostname or "127.0.0.1", url.port or 443
    request = (
        f"POST /v1{CHAT.path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Authorization: Bearer {server.key_file.read_text().strip()}\r\n"
        f"Content-Type: {CHAT.content_type}\r\n"
        f"Content-Length: {len(CHAT.body)}\r\n\r\n"
    ).encode() + CHAT.body
    context = ssl.create_default_context(cafile=server.ca)
    loop = asyncio.get_running_loop()
    start = loop.time() + 2.0  # warm-up
    counts = [0, 0]
    window = (start, start + seconds)
    tasks = [
        asyncio.create_task(_connection(host, port, context, request, window, counts))
        for _ in range(connections)
    ]
    await asyncio.sleep(max(0.0, start - loop.time()))
    c0, s0 = time.process_time(), cpu_seconds(server.pid)
    await asyncio.sleep(max(0.0, start + seconds - loop.time()))
    c1, s1 = time.process_time(), cpu_seconds(server.pid)
    await asyncio.gather(*tasks)
    return counts[0], counts[1], c1 - c0, s1 - s0


def raw_phase(server: Endpoint, seconds: float, connections: int) -> None:
    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:
        runner = asyncio.run
    ok, bad, client, srv = runner(_raw(server, seconds, connections))
    if not ok:
        print("raw asyncio client: no answer counted")
        return
    print(
        f"raw asyncio keep-alive client ({connections} connections, {seconds:g} s): "
        f"{ok / seconds:.0f} req/s, client {client / ok * 1e6:.0f} µs/req, "
        f"server {srv / ok * 1e6:.0f} µs/req (server ≈ {ok / srv:.0f} req/s on one "
        f"core)" + (f"; {bad} non-200 answers" if bad else "")
    )


def _spread(values: list[float], digits: int = 0) -> str:
    lo, mid, hi = min(values), statistics.median(values), max(values)
    return f"{lo:.{digits}f} / {mid:.{digits}f} / {hi:.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--short", type=float, default=3.0)
    parser.add_argument("--long", type=float, default=13.0)
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument(
        "--mode",
        choices=("together", "apart"),
        default="together",
        help="run the two Locust processes at the same time (default) or in turn",
    )
    parser.add_argument(
        "--raw-seconds", type=float, default=5.0, help="0 skips the raw client"
    )
    args = parser.parse_args()
    if not (1 <= args.rounds <= 50 and 0 < args.short < args.long <= 600):
        parser.error("need 1 ≤ --rounds ≤ 50 and 0 < --short < --long ≤ 600")
    extra = args.long - args.short
    print(
        f"capacity: POST /v1{CHAT.path} max_tokens 1, non-streamed; server latency "
        f"model 0/0; {args.users} users; marginal cost between a {args.short:g} s and "
        f"a {args.long:g} s run; clients {args.mode}; {args.rounds} round(s); "
        f"{os.cpu_count()} CPUs; "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    found: dict[str, list[Marginal]] = {name: [] for name in CLIENTS}
    ratios: list[float] = []
    busy0, wall0 = busy_seconds(), time.monotonic()
    ours0 = _children_cpu() + time.process_time()
    with tempfile.TemporaryDirectory(prefix="qbt-capacity-") as tmp:
        for n in range(args.rounds):
            folder = Path(tmp) / f"round-{n}"
            with reference_server(folder / "server", 0.0, 0.0) as server:
                runs = []
                for seconds, part in ((args.short, "short"), (args.long, "long")):
                    if args.mode == "together":
                        runs.append(
                            run_together(server, seconds, args.users, folder / part)
                        )
                    else:
                        first = CLIENTS[n % 2]  # alternate which client goes first
                        runs.append(
                            run_apart(server, seconds, args.users, folder / part, first)
                        )
                for name in CLIENTS:
                    found[name].append(marginal(runs[0][name], runs[1][name], extra))
                if n == args.rounds - 1 and args.raw_seconds > 0:
                    raw_phase(server, args.raw_seconds, args.users)
            ours, bare = found["ChatUser"][-1], found["bare"][-1]
            ratios.append(ours.client_us / bare.client_us)
            print(
                f"round {n + 1}: ChatUser {ours.client_us:.0f} µs/req "
                f"({ours.rps:.0f} req/s, {ours.client_share:.0%} of a core), bare "
                f"{bare.client_us:.0f} µs/req ({bare.rps:.0f} req/s, "
                f"{bare.client_share:.0%}), ratio {ratios[-1]:.2f}; load average "
                f"{os.getloadavg()[0]:.2f}"
            )
            if ours.not_ok or bare.not_ok:
                print(f"  not ok: ChatUser {ours.not_ok}, bare {bare.not_ok}")
    wall = time.monotonic() - wall0
    # Servers and Locust processes are reaped children by now: what is left is others'.
    spent = _children_cpu() + time.process_time() - ours0
    other = max(0.0, busy_seconds() - busy0 - spent) / wall
    print()
    print(f"{'min / median / max':<34} {'client µs/req':>18} {'req/s per core':>22}")
    for name, label in (
        ("ChatUser", "ChatUser (exact samples)"),
        ("bare", "bare FastHttpUser"),
    ):
        rows = found[name]
        print(
            f"{label:<34} {_spread([m.client_us for m in rows]):>18} "
            f"{_spread([m.per_core for m in rows]):>22}"
        )
        print(
            f"{'':<34} achieved {_spread([m.rps for m in rows])} req/s, server "
            f"{_spread([m.server_us for m in rows])} µs/req"
        )
    print(f"{'ratio ChatUser / bare (per round)':<34} {_spread(ratios, 2):>18}")
    print(
        f"machine: load average {' '.join(f'{v:.2f}' for v in os.getloadavg())} at "
        f"the end; cores busy meanwhile with other jobs than this benchmark's: "
        f"{other:.2f} of {os.cpu_count()}"
    )


if __name__ == "__main__":
    main()
