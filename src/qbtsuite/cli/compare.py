"""``qbtsuite compare RUN_DIR...``: requirement × run, differing rows first, into
``compare.html`` and ``compare.md``. Exit 0; with ``--fail-on-regression`` exit 1
when the last run regressed against the one before (pass → fail or warn)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qbtsuite import redact
from qbtsuite.errors import RunFileError
from qbtsuite.exitcodes import ExitCode
from qbtsuite.reporting.compare import compare_runs
from qbtsuite.reporting.compare_html import render_compare_html
from qbtsuite.reporting.compare_md import render_compare_md
from qbtsuite.results.model import RunResults
from qbtsuite.results.store import read_results

__all__ = ["register", "run"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "compare",
        help="Requirement × run over several runs: compare.html and compare.md",
        description=(
            "Put two or more run folders side by side, in time order: a header per "
            "run (target, identity, suite version, catalogue digest, date), then "
            "every requirement by area, the rows that differ first, with the trend "
            "of one target (first failing, last passing, flapping). Runs of "
            "different catalogues are compared on the requirements they share. "
            "Writes compare.html and compare.md into --output. Exit 0; with "
            "--fail-on-regression 1 when the last run regressed against the one "
            "before (pass → fail or warn)."
        ),
    )
    p.add_argument(
        "run_dirs",
        type=Path,
        nargs="+",
        metavar="RUN_DIR",
        help="Run folders or results.json files",
    )
    p.add_argument(
        "--output",
        type=Path,
        default=Path("reports/compare"),
        help="Folder for compare.html and compare.md (default reports/compare)",
    )
    p.add_argument(
        "--fail-on-regression",
        action="store_true",
        help="Exit 1 when the last run regressed against the one before",
    )
    p.add_argument(
        "--markdown", action="store_true", help="Also print compare.md to the terminal"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if len(args.run_dirs) < 2:
        print("error: compare needs at least two run folders", file=sys.stderr)
        return ExitCode.USAGE
    runs: list[tuple[Path, RunResults]] = []
    for path in args.run_dirs:
        try:
            runs.append((path.resolve(), read_results(path)))
        except FileNotFoundError as exc:
            print(f"error: not found: {exc.filename}", file=sys.stderr)
            return ExitCode.USAGE
        except (OSError, ValueError, RunFileError) as exc:
            print(f"error: {path}: {exc}", file=sys.stderr)
            return ExitCode.USAGE
    comparison = compare_runs(runs)
    out = args.output.resolve()
    try:
        out.mkdir(parents=True, exist_ok=True)
        html = out / "compare.html"
        md = out / "compare.md"
        html.write_text(
            redact.scrub(render_compare_html(comparison, out)), encoding="utf-8"
        )
        text = redact.scrub(render_compare_md(comparison))
        md.write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"error: cannot write into {out}: {exc.strerror}", file=sys.stderr)
        return ExitCode.USAGE
    if args.markdown:
        print(text)
    regressed = comparison.regressions()
    print(
        f"compare  {len(comparison.runs)} runs: {len(comparison.differing)} of "
        f"{len(comparison.rows)} requirements differ"
        + (
            " (catalogues differ: common requirements only)"
            if comparison.catalogues_differ
            else ""
        )
    )
    if regressed:
        print(
            f"regressed {', '.join(r.id for r in regressed)} (last run vs the one before)"
        )
    print(f"report   {html}")
    print(f"markdown {md}")
    if args.fail_on_regression and regressed:
        return ExitCode.FAILED
    return ExitCode.OK
