"""Reference-server benchmark: throughput against a bare Starlette app, and streaming pacing.

One run prints:

1. requests/s with concurrent keep-alive TLS clients for a bare Starlette JSON endpoint
   (``bench/bare_server.py``: the server's own uvicorn settings, event loop and TLS),
   for ``POST /v1/embeddings`` (bge-m3, one short input: 1024 floats come back) and
   for non-streamed ``POST /v1/chat/completions`` (gpt-oss-20b, ``max_tokens`` 16),
   with the ratio endpoint/bare (goal ≥ 0.7). The reference server runs with
   ``--ttft 0 --itl 0`` so only the server's own work is measured. A second bare
   route returning a prepared embeddings-sized body shows the cost of the bytes alone.
2. for concurrent streaming chat requests against a server started with
   ``--ttft 0.05 --itl 0.02``: the gap between content chunks as the client sees it
   (p50/p90/p99/max, goal p99 < 30 ms) and the time to first token.

Beside each figure: the server's CPU time per request and the ratio of those times
(bare/endpoint: throughput per server core, which other load on the machine hardly
moves), and the CPU share of the server, the client processes and everything else
on the machine over the window. Requests/s only mean something while the client
stays well below one core and "other" stays near zero: on 2 cores a busy neighbour
takes the server's core away. Everything runs on 127.0.0.1, every phase is
bounded in time, and every process started here is stopped on exit, Ctrl-C included.

Throughput runs in rounds (8 by default), each with freshly started servers and the
routes in alternating order; the best round of each route is shown with the range.

Run: ``python bench/server_throughput.py [--rounds 8] [--duration 2] [--streams 200]``
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvicorn

from benchkit import (
    Endpoint,
    Processes,
    Result,
    bare_server,
    percentile,
    reference_server,
    run_phase,
)
from qbtsuite.server.textgen import TextGenerator

__all__ = ["main"]

CHAT_MODEL = "gpt-oss-20b"
EMBED_BODY = {"model": "bge-m3", "input": "The quick brown fox jumps over the lazy dog"}
BARE, BARE_LARGE = "bare Starlette JSON", "bare, prepared 13 KB body"
EMBED, CHAT = "POST /v1/embeddings (bge-m3)", "POST /v1/chat/completions"


def long_prompt() -> str:
    """A user message whose reply is as long as the text generator makes them (29)."""
    gen = TextGenerator()
    texts = [f"Tell me about the benchmark, take {i}." for i in range(500)]
    return max(
        texts, key=lambda t: len(gen.generate(CHAT_MODEL, f"user: {t}", 0, None).pieces)
    )


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f}"


def _cpu(r: Result) -> str:
    clients = "+".join(f"{c * 100:.0f}" for c in r.client_cpu) + "%"
    return f"{r.server_cpu * 100:6.0f}%{clients:>9}{r.other_cpu * 100:6.0f}%"


def _notes(r: Result) -> str:
    notes = [f"HTTP {s}×{n}" for s, n in sorted(r.errors.items())]
    if r.lost:
        notes.append(f"{r.lost} connections lost")
    if r.late > 0.05:
        notes.append(f"connected {r.late:.2f} s late")
    return ", ".join(notes)


def _best(results: list[Result], label: str) -> Result:
    """The round with the most requests/s: other load on the machine only lowers it."""
    return max((r for r in results if r.label == label), key=lambda r: r.rps)


def _cheapest(results: list[Result], label: str) -> float:
    """The least server CPU per request over the rounds of ``label``, µs."""
    return min(r.server_us for r in results if r.label == label)


def report(
    args: argparse.Namespace,
    rounds: list[Result],
    stream: Result | None,
    reply: int,
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
    print(f"\nqbtsuite server benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, "
        f"uvicorn {uvicorn.__version__} (uvloop, httptools, TLS, access log off)"
    )
    verdicts = []
    if rounds:
        best_of = f", best of {args.rounds} rounds" if args.rounds > 1 else ""
        print(
            f"\nthroughput: {args.connections} keep-alive TLS connections, "
            f"{args.clients} client process(es), {args.warmup:g} s warm-up, "
            f"{args.duration:g} s window{best_of}"
        )
        print(
            f"{'endpoint':<31}{'req/s':>7}{'ratio':>6}{'p50 ms':>8}{'p99 ms':>8}"
            f"{'CPU µs':>7}{'ratio':>6}{'server':>7}{'client':>9}{'other':>7}  notes"
        )
        base = _best(rounds, BARE).rps or 1.0
        base_us = _cheapest(rounds, BARE)
        for label in (BARE, BARE_LARGE, EMBED, CHAT):
            r = _best(rounds, label)
            spread = [x.rps for x in rounds if x.label == label]
            per_cpu = base_us / _cheapest(rounds, label)
            print(
                f"{label:<31}{r.rps:7.0f}{r.rps / base:6.2f}"
                f"{_ms(percentile(r.latency, 50)):>8}{_ms(percentile(r.latency, 99)):>8}"
                f"{_cheapest(rounds, label):7.0f}{per_cpu:6.2f}{_cpu(r)}  {_notes(r)}"
                + (f" (rounds {min(spread):.0f}–{max(spread):.0f})" if len(spread) > 1 else "")
            )  # fmt: skip
            if label in (EMBED, CHAT):
                ok = r.rps / base >= 0.7
                verdicts.append(f"{label.split()[1]} ratio {r.rps / base:.2f} "
                                + ("ok" if ok else "BELOW 0.7")
                                + f" (per server CPU {per_cpu:.2f})")  # fmt: skip
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
            print(f"{name:<22}{cells}")  # fmt: skip
        print(
            f"streams completed {stream.streams}, content chunks {stream.chunks}, "
            f"gaps {len(stream.gaps)}, server CPU {stream.server_us:.0f} µs/chunk; "
            f"CPU server/client/other {_cpu(stream)}"
            + (f"; {_notes(stream)}" if _notes(stream) else "")
        )
        p99 = percentile(stream.gaps, 99) * 1000
        verdicts.append(
            f"gap p99 {p99:.1f} ms " + ("ok" if p99 < 30 else "NOT < 30 ms")
        )
    print("\ngoals: " + "; ".join(verdicts))


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Reference-server throughput and streaming benchmark"
    )
    p.add_argument(
        "--duration", type=float, default=2.0, help="measuring window per phase, s"
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
    p.add_argument(
        "--rounds",
        type=int,
        default=8,
        help="throughput rounds, each with fresh servers; the best is shown",
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


def _throughput(
    args: argparse.Namespace, procs: Processes, folder: Path
) -> list[Result]:
    chat = {"model": CHAT_MODEL, "max_tokens": 16,
            "messages": [{"role": "user", "content": long_prompt()}]}  # fmt: skip
    common: dict[str, Any] = {
        "connections": args.connections,
        "clients": args.clients,
        "warmup": args.warmup,
        "duration": args.duration,
    }
    results = []
    for n in range(args.rounds):
        # Fresh server processes every round: a process's memory layout and string
        # hashes are random, and one draw can make a process steadily faster or
        # slower than the next (why pyperf spreads a benchmark over many processes).
        with (
            bare_server(procs, folder / f"bare-{n}") as bare,
            reference_server(folder / f"ref-{n}", 0.0, 0.0) as ref,
        ):
            phases: list[tuple[str, Endpoint, str, dict[str, Any]]] = [
                (BARE, bare, "/bare", EMBED_BODY),
                (BARE_LARGE, bare, "/bare-large", EMBED_BODY),
                (EMBED, ref, "/v1/embeddings", EMBED_BODY),
                (CHAT, ref, "/v1/chat/completions", chat),
            ]
            if n % 2:  # alternate the order, so no route always runs last
                phases.reverse()
            for label, target, path, body in phases:
                print(f"round {n + 1}/{args.rounds}: {label} ...", flush=True)
                results.append(
                    run_phase(procs, label, "rps", target, path, body, **common)
                )
    return results


def _streaming(args: argparse.Namespace, procs: Processes, folder: Path) -> Result:
    body = {
        "model": CHAT_MODEL,
        "messages": [{"role": "user", "content": long_prompt()}],
        "max_tokens": 50,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    with reference_server(folder / "stream", 0.05, 0.02) as ref:
        print(f"{args.streams} concurrent streams ...", flush=True)
        return run_phase(
            procs, "streaming chat", "stream", ref, "/v1/chat/completions", body,
            connections=args.streams, clients=args.stream_clients,
            warmup=args.stream_warmup, duration=args.duration,
        )  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    args = _parse(argv)
    reply = len(
        TextGenerator().generate(CHAT_MODEL, f"user: {long_prompt()}", 0, 50).pieces
    )
    procs = Processes()
    rounds: list[Result] = []
    stream: Result | None = None
    with tempfile.TemporaryDirectory(prefix="qbtsuite-bench-") as tmp:
        try:
            if args.only != "streaming":
                rounds = _throughput(args, procs, Path(tmp))
            if args.only != "throughput":
                stream = _streaming(args, procs, Path(tmp))
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return
        finally:
            procs.stop_all()
    report(args, rounds, stream, reply)


if __name__ == "__main__":
    main()
