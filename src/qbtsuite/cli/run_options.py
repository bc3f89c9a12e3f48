"""The options of ``qbtsuite run`` and the checks done before anything is started."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from qbtsuite.errors import ConfigError
from qbtsuite.harness.options import add_cli_options

__all__ = ["add_run_options", "check_selection"]


def add_run_options(p: argparse.ArgumentParser) -> None:
    """Register every ``qbtsuite run`` option on ``p``: the run's table
    (:data:`~qbtsuite.harness.options.RUN_OPTIONS`) and what only the command has."""
    groups = add_cli_options(p)
    sel, run, out = groups["selection"], groups["execution"], groups["output"]
    sel.add_argument("-k", dest="keyword", metavar="EXPR", help="pytest -k expression")
    sel.add_argument(
        "-m", dest="markexpr", metavar="EXPR", help="pytest -m marker expression"
    )
    run.add_argument(
        "-n",
        dest="numprocesses",
        type=_workers,
        default=0,
        metavar="N",
        help="Run in N parallel processes, or 'auto' (one per CPU; pytest-xdist)",
    )
    out.add_argument(
        "--reports-dir",
        type=Path,
        default=Path("reports"),
        help="Parent of the run folder, and home of pytest's cache for --lf/--ff "
        "(default: reports/)",
    )
    out.add_argument(
        "--output",
        type=Path,
        metavar="DIR",
        help="Exact run folder (default: <reports-dir>/<UTC time>-<profile>); one "
        "that already holds a run is refused unless --overwrite",
    )
    out.add_argument(
        "--overwrite",
        action="store_true",
        help="Replace the run an existing --output folder holds (its results, "
        "reports and Allure results)",
    )
    out.add_argument(
        "--no-allure",
        dest="allure",
        action="store_false",
        help="Write no allure-results/ (about 2,000 files per full run)",
    )
    p.add_argument(
        "pytest_args",
        nargs="*",
        metavar="-- PYTEST_OPTION",
        help="pytest's own options, after '--': qbtsuite run -- -x --maxfail 3 --lf "
        "-p myplugin",
    )


def _workers(text: str) -> int | str:
    """``-n``: a number of processes (0 or 1: none) or ``auto``."""
    if text == "auto":
        return text
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number of processes or 'auto', got {text!r}"
        ) from None
    if number < 0:
        raise argparse.ArgumentTypeError(
            f"expected 0 or more processes (or 'auto'), got {number}"
        )
    return number


def check_selection(areas: Sequence[str], requirements: Sequence[str]) -> None:
    """Unknown areas or requirement ids (to select or to leave out) are usage
    errors, found before any request."""
    from qbtsuite.requirements import AREAS, load_catalogue

    catalogue = load_catalogue()
    wanted_areas = {a.strip() for v in areas for a in v.split(",") if a.strip()}
    bad = sorted(wanted_areas - set(AREAS))
    if bad:
        raise ConfigError(
            f"unknown area(s): {', '.join(bad)} (known: {', '.join(AREAS)})"
        )
    wanted = {r.strip() for v in requirements for r in v.split(",") if r.strip()}
    missing = sorted(r for r in wanted if r not in catalogue)
    if missing:
        raise ConfigError(
            f"unknown requirement id(s): {', '.join(missing)} (see 'qbtsuite requirements')"
        )
