"""The options of ``qbtsuite run`` and the checks done before anything is started."""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

from qbtsuite.errors import ConfigError
from qbtsuite.harness.selection import PROFILES

__all__ = ["add_run_options", "check_selection", "new_run_dir"]


def add_run_options(p: argparse.ArgumentParser) -> None:
    """Register every ``qbtsuite run`` option on ``p``."""
    target = p.add_argument_group("target")
    target.add_argument(
        "--base-url",
        help="Base URL of the target, e.g. https://api.qubittron.ai/v1 (env QUBITTRON_BASE_URL)",
    )
    target.add_argument(
        "--http-url",
        help="Plain-HTTP URL to probe for the redirect (default: derived from the base URL)",
    )
    target.add_argument(
        "--config",
        help="TOML file of target settings (see target.example.toml; env QBTSUITE_CONFIG)",
    )
    target.add_argument(
        "--api-key", help="Main API key (discouraged: use QUBITTRON_API_KEY)"
    )
    target.add_argument(
        "--ca-bundle", help="CA bundle to trust for the target (env QBTSUITE_CA_BUNDLE)"
    )
    target.add_argument(
        "--insecure",
        action="store_true",
        help="Do not verify the target's TLS certificate",
    )
    target.add_argument(
        "--timeout", type=float, help="Read timeout per request, seconds (default 60)"
    )
    target.add_argument(
        "--capabilities",
        help="Optional capabilities the target offers, comma-separated, or 'none'",
    )
    target.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME",
        help="Embedded server only: break one requirement on purpose (repeatable)",
    )
    sel = p.add_argument_group("selection")
    sel.add_argument(
        "--profile",
        choices=PROFILES,
        default="full",
        help="smoke (cheap, production-safe), full, or certify (default: full)",
    )
    sel.add_argument(
        "--area", action="append", default=[], help="Only this area (repeatable)"
    )
    sel.add_argument(
        "--requirement",
        action="append",
        default=[],
        metavar="ID",
        help="Only tests of this requirement id (repeatable)",
    )
    sel.add_argument("-k", dest="keyword", metavar="EXPR", help="pytest -k expression")
    sel.add_argument(
        "-m", dest="markexpr", metavar="EXPR", help="pytest -m marker expression"
    )
    run = p.add_argument_group("execution")
    run.add_argument(
        "-n",
        dest="numprocesses",
        type=int,
        default=0,
        metavar="N",
        help="Run in N parallel processes (pytest-xdist)",
    )
    run.add_argument(
        "--retries",
        type=int,
        help="Retry 5xx and network errors up to N times (0-3; 1 s/2 s/4 s backoff); each retry is reported",
    )
    run.add_argument(
        "--request-budget",
        type=int,
        help="Most requests the run may send (default 1000)",
    )
    run.add_argument(
        "--strict", action="store_true", help="SHOULD failures also fail the run"
    )
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="Print the planned requests and spend; send nothing",
    )
    out = p.add_argument_group("output")
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
    """The run folder: ``output`` if given, else a fresh ``<UTC time>-<profile>``."""
    if output is not None:
        folder = output
    else:
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        folder = reports_dir / f"{stamp}-{profile}"
        suffix = 2
        while folder.exists():
            folder = reports_dir / f"{stamp}-{profile}-{suffix}"
            suffix += 1
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot create the run folder {folder}: {exc.strerror}"
        ) from None
    return folder.resolve()
