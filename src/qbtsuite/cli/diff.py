"""``qbtsuite diff OLD NEW``: what changed between two runs (exit 1 if newly failing;
with ``--strict`` also if newly warning); ``--markdown`` for a CI job summary."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qbtsuite import redact
from qbtsuite.exitcodes import ExitCode
from qbtsuite.reporting.diff import diff_results, render_diff, render_diff_markdown
from qbtsuite.results.store import read_results

__all__ = ["register", "run"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "diff",
        help="Compare two runs: newly failing, newly warning, newly passing, changed",
        description=(
            "Compare the per-requirement outcomes of two run folders (or results.json "
            "files), and say when the runs differ in profile, selection, target or "
            "faults. Exit 1 if any requirement newly fails (a MUST; with --strict "
            "also a SHOULD newly warning), else 0."
        ),
    )
    p.add_argument("old", type=Path, help="The earlier run folder or results.json")
    p.add_argument("new", type=Path, help="The later run folder or results.json")
    p.add_argument(
        "--strict",
        action="store_true",
        help="A requirement newly warning (pass → warn) also exits 1",
    )
    p.add_argument(
        "--markdown",
        action="store_true",
        help="Print Markdown (for a CI job summary) instead of plain text",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        old = read_results(args.old)
        new = read_results(args.new)
    except FileNotFoundError as exc:
        print(f"error: not found: {exc.filename}", file=sys.stderr)
        return ExitCode.USAGE
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    diff = diff_results(old, new)
    if args.markdown:
        text = render_diff_markdown(
            diff, str(args.old), str(args.new), strict=args.strict
        )
    else:
        text = render_diff(diff, str(args.old), str(args.new))
    print(redact.scrub(text))
    return ExitCode.FAILED if diff.regressed(strict=args.strict) else ExitCode.OK
