"""``qbtsuite report DIR``: re-render a run folder's reports from its results.json.

A certified folder (one with ``certificate.json``) is verified first, as
``qbtsuite verify`` does: a tampered folder is refused and nothing is written. A
valid one keeps its certified reports: a report this suite would render otherwise
is left as it is (rewriting it would break the bundle).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qbtsuite import redact
from qbtsuite.certify.manifest import CERTIFICATE_FILE
from qbtsuite.certify.verify import verify_run
from qbtsuite.errors import ConfigError
from qbtsuite.exitcodes import ExitCode
from qbtsuite.reporting import render_reports, repros_of
from qbtsuite.reporting.reproduce import write_bodies
from qbtsuite.reporting.terminal import render_terminal_summary
from qbtsuite.requirements import load_catalogue
from qbtsuite.results.store import read_results

__all__ = ["register", "run"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "report",
        help="Re-render report.html and summary.md of a run folder",
        description=(
            "Re-render report.html and summary.md from DIR/results.json. A certified "
            "folder is verified first (as 'qbtsuite verify' does): a tampered one is "
            "refused (exit 1) and nothing is written; a valid one keeps its "
            "certified reports."
        ),
    )
    p.add_argument(
        "dir", type=Path, metavar="DIR", help="A run folder holding results.json"
    )
    p.set_defaults(func=run)


def _verified(run_dir: Path) -> bool:
    """Whether the certified folder ``run_dir`` is intact; its problems on stderr."""
    try:
        catalogue = load_catalogue()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return False
    verification = verify_run(run_dir, catalogue)
    for problem in verification.problems:
        print(redact.scrub(problem), file=sys.stderr)
    if not verification.valid:
        print(
            f"error: {run_dir} does not verify ({len(verification.problems)} "
            "problem(s)): nothing was rewritten",
            file=sys.stderr,
        )
    return verification.valid


def run(args: argparse.Namespace) -> int:
    folder: Path = args.dir
    run_dir = folder if folder.is_dir() else folder.parent
    certified = (run_dir / CERTIFICATE_FILE).is_file()
    if certified and not _verified(run_dir):
        return ExitCode.FAILED
    try:
        results = read_results(folder)
    except FileNotFoundError:
        print(f"error: no results.json in {folder}", file=sys.stderr)
        return ExitCode.USAGE
    except (OSError, ValueError) as exc:
        print(f"error: {folder}: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    print(redact.scrub(render_terminal_summary(results)))
    repros = repros_of(run_dir, results)
    if not certified:
        for path in write_bodies(run_dir, repros):
            print(f"wrote    {path}")
    for name, text in render_reports(results, repros).items():
        path = run_dir / name
        if certified:
            same = path.is_file() and path.read_text(encoding="utf-8") == text
            state = (
                "unchanged"
                if same
                else "kept as certified (this suite renders it otherwise)"
            )
            print(f"{state:<9} {path}")
            continue
        path.write_text(text, encoding="utf-8")
        print(f"wrote    {path}")
    if certified:
        print(f"certificate verified: {run_dir / CERTIFICATE_FILE}")
    return ExitCode.OK
