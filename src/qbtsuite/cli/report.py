"""``qbtsuite report DIR``: re-render a run folder's reports from its results.json."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qbtsuite import redact
from qbtsuite.exitcodes import ExitCode
from qbtsuite.reporting import write_reports
from qbtsuite.reporting.certificate import verify_certificate
from qbtsuite.reporting.terminal import render_terminal_summary
from qbtsuite.results.store import read_results

__all__ = ["register", "run"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "report",
        help="Re-render report.html and summary.md of a run folder",
        description=(
            "Re-render report.html and summary.md (and certificate.json for certify "
            "runs) from DIR/results.json, and check an existing certificate's seal."
        ),
    )
    p.add_argument(
        "dir", type=Path, metavar="DIR", help="A run folder holding results.json"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    folder: Path = args.dir
    try:
        results = read_results(folder)
    except FileNotFoundError:
        print(f"error: no results.json in {folder}", file=sys.stderr)
        return ExitCode.USAGE
    except (OSError, ValueError) as exc:
        print(f"error: {folder}: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    run_dir = folder if folder.is_dir() else folder.parent
    seal = verify_certificate(run_dir)
    written = [
        p for p in write_reports(run_dir, results) if p.name != "certificate.json"
    ]
    print(redact.scrub(render_terminal_summary(results)))
    for path in written:
        print(f"wrote    {path}")
    if seal is not None:
        print(seal)
        if "NOT" in seal or "unreadable" in seal:
            return ExitCode.FAILED
    return ExitCode.OK
