"""``qbtsuite rejudge RUN_DIR``: the current checks over a run's recorded traffic.

Nothing is sent: every request is answered from ``RUN_DIR/exchanges``. The outcomes
go into a new run folder (reports included) and the diff against the original is
printed. Exit 1 if a requirement newly fails (as ``qbtsuite diff``), else 0.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qbtsuite import redact
from qbtsuite.cli.run_folder import claim
from qbtsuite.errors import ConfigError, RunFileError
from qbtsuite.exitcodes import ExitCode
from qbtsuite.harness.rejudge import NOT_REJUDGED, rejudge
from qbtsuite.reporting import write_reports
from qbtsuite.reporting.diff import diff_results, render_diff
from qbtsuite.results.store import read_results
from qbtsuite.target.wirelog import read_exchanges

__all__ = ["register", "run"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "rejudge",
        help="Re-judge a run's recorded traffic with the current checks (no network)",
        description=(
            "Run the conformance tests again, answering every request from the "
            "exchanges RUN_DIR recorded (matched on method, path, body and the header "
            "fields that shape an answer), so the current checks judge that traffic "
            "without sending anything. A test that judges live timing (rate limits) "
            "or needs a request the recording lacks keeps its recorded outcome, "
            "marked 'not re-judged'. Writes a new run folder and prints the diff "
            "against RUN_DIR. Exit 1 if a requirement newly fails, else 0."
        ),
    )
    p.add_argument(
        "run_dir", type=Path, metavar="RUN_DIR", help="A recorded run folder"
    )
    p.add_argument(
        "--output", type=Path, default=None, help="The new run folder (exact path)"
    )
    p.add_argument(
        "--reports-dir",
        type=Path,
        default=Path("reports"),
        help="Where the new run folder is made without --output (default reports/)",
    )
    p.add_argument(
        "--overwrite", action="store_true", help="Replace a run already in --output"
    )
    p.set_defaults(func=run)


def _say(text: str) -> None:
    print(redact.scrub(text), flush=True)


def run(args: argparse.Namespace) -> int:
    try:
        original = read_results(args.run_dir)
        exchanges = read_exchanges(args.run_dir)
    except FileNotFoundError as exc:
        print(f"error: not found: {exc.filename}", file=sys.stderr)
        return ExitCode.USAGE
    except (OSError, ValueError, RunFileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    if not exchanges:
        print(
            f"error: {args.run_dir} holds no recorded exchanges (exchanges/*.jsonl): "
            "it was made by a suite that did not record its traffic",
            file=sys.stderr,
        )
        return ExitCode.USAGE
    if original.run.target is None:
        raise ConfigError(f"{args.run_dir}/results.json names no target")
    folder = claim(args.output, args.reports_dir, "rejudge", overwrite=args.overwrite)
    with folder:
        _say(f"rejudge  {args.run_dir} ({len(exchanges)} recorded exchanges)")
        _say(f"results  {folder.path}")
        done = rejudge(original, exchanges, folder.path, _say)
        write_reports(folder.path, done.results)
    _say("")
    _say(
        f"re-judged {len(done.rejudged)} tests; {NOT_REJUDGED}: {len(done.kept)} "
        "(their recorded outcomes stand)"
        + (
            f"; {len(done.dropped)} new tests need unrecorded requests"
            if done.dropped
            else ""
        )
    )
    for nodeid, why in sorted(done.kept.items()):
        _say(f"  {NOT_REJUDGED}  {nodeid}: {why}")
    diff = diff_results(original, done.results)
    _say("")
    _say(render_diff(diff, str(args.run_dir), str(folder.path)))
    _say(f"report   {folder.path / 'report.html'}")
    return ExitCode.FAILED if diff.regressed(strict=False) else ExitCode.OK
