"""The suite against every hostile mode: how each run ends, what it costs, what it leaks.

    python -m tests.hostile.matrix                       # every mode, run and load
    python -m tests.hostile.matrix --modes trickle reset --command run

For each mode a hostile server starts (a child process); then ``qbtsuite run
--profile full`` and ``qbtsuite load smoke`` run against it, each supervised under a
wall-clock cap (then SIGTERM, then SIGKILL) and a memory cap, with a freshly generated
key (``QUBITTRON_API_KEY``), the server's CA (``QBTSUITE_CA_BUNDLE``), its plain-HTTP
listener (``QBTSUITE_HTTP_URL``) and a private ``TMPDIR``. Measured per command: exit
code, wall time, peak RSS of the whole process tree, processes still alive after it
ended, files left in its ``TMPDIR``, occurrences of the key in any encoding in any file
of its run folder and in its terminal output, and its last stderr line (key redacted).
The table is printed and written as ``matrix.json`` in the output folder.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from tests.hostile.child import ServerChild, ServerLocation
from tests.hostile.leakscan import Hit, redact, scan_file, scan_folder
from tests.hostile.modes import MODES, Target
from tests.hostile.secret_forms import Needle, needles
from tests.hostile.supervise import MIB, Limits, Outcome, supervise

__all__ = ["Row", "main"]

_REPO = Path(__file__).resolve().parents[2]
_COMMANDS = ("run", "load")
_SCRUBBED_PREFIXES = ("QUBITTRON_", "QBTSUITE_")


@dataclass(frozen=True, slots=True)
class Leftover:
    """A process still alive after its command ended."""

    pid: int
    command: str


@dataclass(frozen=True, slots=True)
class Row:
    """One command against one mode."""

    mode: str
    command: str
    exit_code: int
    wall: float
    peak_rss_mb: float
    stopped_by: str
    sigkill_needed: bool
    processes: int
    leftovers: tuple[Leftover, ...]
    tmp_left: int
    key_hits: int  # in the run folder
    key_hits_by_form: dict[str, int]
    files_with_key: tuple[str, ...]
    terminal_key_hits: int
    run_folder_mb: float
    artifacts: tuple[
        str, ...
    ]  # report files written (top two levels, no allure-results)
    last_line: str
    server_survived: bool


def _suite_command() -> list[str]:
    beside = Path(sys.executable).with_name("qbtsuite")
    return [str(beside)] if beside.exists() else ["qbtsuite"]


def _argv(command: str, where: ServerLocation, folder: Path) -> list[str]:
    if command == "run":
        return [
            *_suite_command(),
            "run",
            "--profile",
            "full",
            "--base-url",
            where.url,
            "--output",
            str(folder),
        ]
    return [
        *_suite_command(),
        "load",
        "smoke",
        "--base-url",
        where.url,
        "--output",
        str(folder),
    ]


def _environment(
    where: ServerLocation, key: str, tmp: Path, extra: dict[str, str]
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUBBED_PREFIXES)}
    env.update(extra)
    env.update(QUBITTRON_API_KEY=key, QBTSUITE_HTTP_URL=where.http_url, TMPDIR=str(tmp))
    if where.ca:
        env["QBTSUITE_CA_BUNDLE"] = where.ca
    return env


def _last_line(path: Path, found: Sequence[Needle]) -> str:
    with path.open("rb") as stream:
        stream.seek(max(0, path.stat().st_size - 64 * 1024))
        tail = stream.read().decode("utf-8", "replace")
    lines = [line.strip() for line in tail.splitlines() if line.strip()]
    return redact(lines[-1], found)[:300] if lines else ""


def _folder_size(root: Path) -> int:
    total = 0
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            if not path.is_symlink():
                total += path.stat().st_size
    return total


def _artifacts(folder: Path) -> tuple[str, ...]:
    if not folder.exists():
        return ()
    names = [p.relative_to(folder) for p in (*folder.glob("*"), *folder.glob("*/*"))]
    return tuple(
        sorted(
            str(n)
            for n in names
            if (folder / n).is_file() and n.parts[0] != "allure-results"
        )
    )


def _by_form(hits: Sequence[Hit]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for hit in hits:
        counts[hit.form] = counts.get(hit.form, 0) + hit.count
    return counts


def _measure(
    mode: str,
    command: str,
    where: ServerLocation,
    base: Path,
    limits: Limits,
    cancel: threading.Event,
    server: ServerChild,
    extra: dict[str, str],
) -> Row:
    folder = base / command
    tmp = base / f"{command}.tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    key = "qbt_" + secrets.token_urlsafe(24)
    found = needles(key)
    stdout, stderr = base / f"{command}.stdout", base / f"{command}.stderr"
    outcome: Outcome = supervise(
        _argv(command, where, folder),
        env=_environment(where, key, tmp, extra),
        cwd=_REPO,
        stdout=stdout,
        stderr=stderr,
        limits=limits,
        marker=f"QBT_HOSTILE_MARK={secrets.token_hex(8)}",
        cancel=cancel,
    )
    hits = scan_folder(folder, found) if folder.exists() else []
    terminal = sum(sum(scan_file(p, found).values()) for p in (stdout, stderr))
    last = _last_line(stderr, found)
    if not last:
        out = _last_line(stdout, found)
        last = f"stdout: {out}" if out else "(no output)"
    left = sorted(p.name for p in tmp.iterdir())
    return Row(
        mode=mode,
        command=command,
        exit_code=outcome.exit_code,
        wall=round(outcome.wall, 1),
        peak_rss_mb=round(outcome.peak_rss / MIB, 1),
        stopped_by=outcome.stopped_by,
        sigkill_needed=outcome.sigkill_needed,
        processes=outcome.processes,
        leftovers=tuple(
            Leftover(m.pid, redact(m.command, found)) for m in outcome.leftovers
        ),
        tmp_left=len(left),
        key_hits=sum(h.count for h in hits),
        key_hits_by_form=_by_form(hits),
        files_with_key=tuple(sorted({h.path for h in hits})),
        terminal_key_hits=terminal,
        run_folder_mb=round(_folder_size(folder) / MIB, 1) if folder.exists() else 0.0,
        artifacts=_artifacts(folder),
        last_line=last,
        server_survived=server.running,
    )


def _mode_rows(
    large: threading.Lock,
    mode: str,
    commands: Sequence[str],
    out: Path,
    limits: dict[str, Limits],
    cancel: threading.Event,
    plain: bool,
    scope: str,
    extra: dict[str, str],
) -> list[Row]:
    base = out / mode
    rows = []
    for command in commands:
        if cancel.is_set():
            break
        server = ServerChild(mode, base / f"{command}.server", plain=plain, scope=scope)
        with large if MODES[mode].large else contextlib.nullcontext(), server as where:
            row = _measure(
                mode, command, where, base, limits[command], cancel, server, extra
            )
        rows.append(row)
        sys.stderr.write(f"  {_line(row)}\n")
        sys.stderr.flush()
    return rows


def _exit_text(row: Row) -> str:
    if row.exit_code < 0:
        return f"sig{-row.exit_code}"
    return str(row.exit_code)


def _line(row: Row) -> str:
    stopped = row.stopped_by or "ended"
    left = f"{len(row.leftovers)}" + (f"+{row.tmp_left}tmp" if row.tmp_left else "")
    keys = f"{row.key_hits}" + (
        f"+{row.terminal_key_hits}term" if row.terminal_key_hits else ""
    )
    return (
        f"{row.mode:<20} {row.command:<4} {_exit_text(row):>5} {row.wall:>7.1f} "
        f"{row.peak_rss_mb:>8.0f} {stopped:<24} {left:>9} {keys:>9}  {row.last_line[:70]}"
    )


def table(rows: Sequence[Row]) -> str:
    """The matrix as fixed-width text, with the worst figure of each column."""
    header = (
        f"{'mode':<20} {'cmd':<4} {'exit':>5} {'wall s':>7} {'peak MB':>8} "
        f"{'stopped':<24} {'leftover':>9} {'key hits':>9}  last line"
    )
    lines = [header, "-" * len(header)] + [_line(r) for r in rows]
    if rows:
        slowest = max(rows, key=lambda r: r.wall)
        biggest = max(rows, key=lambda r: r.peak_rss_mb)
        leaky = max(rows, key=lambda r: r.key_hits + r.terminal_key_hits)
        lines += [
            "",
            f"worst wall      {slowest.wall:.1f} s ({slowest.mode} {slowest.command})",
            f"worst peak RSS  {biggest.peak_rss_mb:.0f} MB ({biggest.mode} {biggest.command})",
            f"most key hits   {leaky.key_hits + leaky.terminal_key_hits} ({leaky.mode} {leaky.command})",
            f"leftovers       {sum(len(r.leftovers) for r in rows)} processes, "
            f"{sum(r.tmp_left for r in rows)} temp entries",
        ]
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tests.hostile.matrix",
        description="Run qbtsuite against each hostile mode and measure how each run ends.",
    )
    parser.add_argument(
        "--modes",
        nargs="+",
        default=list(MODES),
        metavar="MODE",
        help="modes to try (default: all)",
    )
    parser.add_argument(
        "--command",
        action="append",
        choices=_COMMANDS,
        help="run and/or load (repeatable; default both)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="folder for the results (default reports/hostile-matrix/<UTC time>)",
    )
    parser.add_argument(
        "--run-cap",
        type=float,
        default=300.0,
        help="seconds before `run` gets SIGTERM (default 300)",
    )
    parser.add_argument(
        "--load-cap",
        type=float,
        default=120.0,
        help="seconds before `load` gets SIGTERM (default 120)",
    )
    parser.add_argument(
        "--rss-cap-mb",
        type=int,
        default=3072,
        help="summed RSS at which a command is killed (default 3072)",
    )
    parser.add_argument(
        "--jobs", type=int, default=1, help="modes measured at once (default 1)"
    )
    parser.add_argument(
        "--plain", action="store_true", help="serve plain HTTP instead of HTTPS"
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for the suite, e.g. QBTSUITE_DEADLINE=5 (repeatable)",
    )
    parser.add_argument(
        "--scope",
        choices=("endpoints", "all"),
        default="endpoints",
        help="'all': discovery misbehaves too",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    unknown = [m for m in args.modes if m not in MODES]
    if unknown:
        sys.stderr.write(
            f"error: unknown mode(s) {', '.join(unknown)}; see python -m tests.hostile.server --list-modes\n"
        )
        return 2
    extra = dict(item.split("=", 1) for item in args.env if "=" in item)
    if len(extra) != len(args.env):
        sys.stderr.write("error: --env takes NAME=VALUE\n")
        return 2
    modes = [m for m in args.modes if not (args.plain and MODES[m].tls_only)]
    commands = tuple(args.command or _COMMANDS)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out: Path = args.output or _REPO / "reports" / "hostile-matrix" / stamp
    out.mkdir(parents=True, exist_ok=True)
    rss = args.rss_cap_mb * MIB
    limits = {"run": Limits(args.run_cap, rss), "load": Limits(args.load_cap, rss)}
    cancel = threading.Event()
    large = threading.Lock()  # modes sending a GiB or more run one at a time
    sys.stderr.write(
        f"hostile matrix: {len(modes)} modes × {', '.join(commands)} → {out}\n"
    )
    rows: dict[str, list[Row]] = {}
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {
            m: pool.submit(
                _mode_rows,
                large,
                m,
                commands,
                out,
                limits,
                cancel,
                args.plain,
                args.scope,
                extra,
            )
            for m in modes
        }
        try:
            for mode, future in futures.items():
                rows[mode] = future.result()
        except KeyboardInterrupt:
            cancel.set()
            sys.stderr.write("interrupted: stopping the runs in progress\n")
            for mode, future in futures.items():
                if mode not in rows and not future.cancel():
                    rows[mode] = future.result()
    ordered = [row for m in modes for row in rows.get(m, [])]
    document = {
        "limits": {c: asdict(lim) for c, lim in limits.items()},
        "scope": args.scope,
        "env": extra,
        "tls": not args.plain,
        "connection_modes": [
            m for m in modes if MODES[m].target in (Target.CONNECTION, Target.LISTENER)
        ],
        "rows": [asdict(r) for r in ordered],
    }
    (out / "matrix.json").write_text(
        json.dumps(document, indent=2) + "\n", encoding="utf-8"
    )
    text = table(ordered)
    (out / "matrix.txt").write_text(text + "\n", encoding="utf-8")
    sys.stdout.write(text + f"\n\nwritten: {out / 'matrix.json'}\n")
    for mode in modes:
        for command in commands:
            shutil.rmtree(out / mode / f"{command}.tmp", ignore_errors=True)
    return 130 if cancel.is_set() else 0


if __name__ == "__main__":
    raise SystemExit(main())
