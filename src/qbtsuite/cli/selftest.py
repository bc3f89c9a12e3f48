"""``qbtsuite selftest``: the fault matrix (does every fault get caught?)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from qbtsuite.exitcodes import ExitCode
from qbtsuite.selftest.matrix import RunResult, plan_faults, run_matrix
from qbtsuite.selftest.report import matrix_markdown, matrix_summary, matrix_table
from qbtsuite.server.faults import load_faults

__all__ = ["register"]

README_START = "<!-- fault-matrix:start -->"
README_END = "<!-- fault-matrix:end -->"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "selftest",
        help="Run the suite against the reference server with each fault (fault matrix)",
        description="Prove the verdicts: the clean reference server must pass, and "
        "each fault must fail exactly the requirements it declares.",
    )
    p.add_argument(
        "--fault", action="append", metavar="NAME", help="Only this fault (repeatable)"
    )
    p.add_argument(
        "--jobs", type=int, default=0, help="Runs at a time (default: one per CPU)"
    )
    p.add_argument(
        "--output",
        type=Path,
        help="Folder for the runs (default: reports/<time>-selftest)",
    )
    p.add_argument(
        "--markdown", type=Path, help="Also write the matrix as Markdown to this file"
    )
    p.add_argument(
        "--update-readme",
        type=Path,
        metavar="README",
        help="Replace the fault-matrix section (between its HTML comment markers) "
        "in this file",
    )
    p.set_defaults(func=run)


def _progress(result: RunResult) -> None:
    label = result.fault or "clean server"
    failing = ", ".join(sorted(result.failing)) or "nothing failed"
    print(f"  {label:<40} {result.seconds:5.1f} s  {failing}", flush=True)


def run(args: argparse.Namespace) -> int:
    known = load_faults()
    unknown = [f for f in args.fault or [] if f not in known]
    if unknown:
        print(f"error: unknown fault(s): {', '.join(unknown)}", file=sys.stderr)
        return ExitCode.USAGE
    if args.update_readme is not None and not args.update_readme.is_file():
        print(f"error: no such file: {args.update_readme}", file=sys.stderr)
        return ExitCode.USAGE
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = args.output or Path("reports") / f"{stamp}-selftest"
    plans = plan_faults(args.fault)
    print(f"fault matrix: {len(plans)} faults + the clean server; runs in {out}")
    finished: list[RunResult] = []

    def progress(result: RunResult) -> None:
        finished.append(result)
        _progress(result)

    try:
        matrix = run_matrix(plans, out, jobs=args.jobs, on_done=progress)
    except KeyboardInterrupt:  # the runs under way stop and report as interrupted
        print(
            f"selftest interrupted: {len(finished)} of {len(plans) + 1} runs finished; "
            f"every run's folder is in {out}",
            file=sys.stderr,
        )
        raise
    print()
    print(matrix_table(matrix))
    print()
    print(matrix_summary(matrix))
    markdown = matrix_markdown(matrix)
    if args.markdown is not None:
        args.markdown.write_text(markdown, encoding="utf-8")
    if args.update_readme is not None:
        _update_readme(args.update_readme, markdown)
    return ExitCode.OK if matrix.ok else 1


def _update_readme(path: Path, markdown: str) -> None:
    text = path.read_text(encoding="utf-8")
    if README_START not in text or README_END not in text:
        print(
            f"warning: {path} has no {README_START} … {README_END} section",
            file=sys.stderr,
        )
        return
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    path.write_text(
        f"{head}{README_START}\n{markdown}{README_END}{tail}", encoding="utf-8"
    )
