"""The options of ``qbtsuite run`` and the checks done before anything is started."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from qbtsuite.errors import ConfigError
from qbtsuite.harness.options import add_cli_options
from qbtsuite.rundir import fresh_run_dir

__all__ = ["add_run_options", "check_selection", "new_run_dir"]


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
        type=int,
        default=0,
        metavar="N",
        help="Run in N parallel processes (pytest-xdist)",
    )
    out.add_argument(
        "--reports-dir",
        type=Path,
        default=Path("reports"),
        help="Parent of the run folder (default: reports/)",
    )
    out.add_argument(
        "--output",
        type=Path,
        metavar="DIR",
        help="Exact run folder (default: <reports-dir>/<UTC time>-<profile>)",
    )


def check_selection(areas: Sequence[str], requirements: Sequence[str]) -> None:
    """Unknown areas or requirement ids are usage errors, found before any request."""
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


def new_run_dir(output: Path | None, reports_dir: Path, profile: str) -> Path:
    """The run folder: ``output`` if given, else a fresh ``<UTC time>-<profile>``
    under ``reports_dir`` (:mod:`qbtsuite.rundir`, shared with ``qbtsuite load``)."""
    if output is None:
        return fresh_run_dir(reports_dir, profile)
    folder = output
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot create the run folder {folder}: {exc.strerror}"
        ) from None
    return folder.resolve()
