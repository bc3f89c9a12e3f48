"""The options of ``qbtsuite run`` and the checks done before anything is started."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from qbtsuite.certify.product import identity_from
from qbtsuite.certify.reproduce import Invocation
from qbtsuite.certify.signing import SigningKey, load_signing_key, readable_by_others
from qbtsuite.errors import ConfigError
from qbtsuite.harness.options import IDENTITY_OPTIONS, RUN_OPTIONS, add_cli_options
from qbtsuite.harness.selection import partial_refusal
from qbtsuite.results.model import Identity, Selection
from qbtsuite.results.records import CERTIFY
from qbtsuite.target.sources import ENV_VARIABLES
from qbtsuite.target.values import SECRET_SETTINGS

__all__ = [
    "Certify",
    "add_run_options",
    "certify_preflight",
    "check_selection",
    "invocation_of",
    "selection_of",
]

# The options that only a certify run takes.
_CERTIFY_ONLY = ("product", *IDENTITY_OPTIONS.values(), "allow_partial", "sign_key")
# How the reproduced command names a secret option's value.
_SECRET_VALUES = {"api_key": "$QUBITTRON_API_KEY", "sign_key": "$SIGNING_KEY"}


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
        "-v",
        "--verbose",
        action="store_true",
        help="After the summary, print a curl line and a qbtsuite run line for each "
        "failing or warning test",
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


def selection_of(args: argparse.Namespace) -> Selection:
    """The run's selection, as the plugin records it (departures refuse certify)."""
    return Selection(
        areas=tuple(args.area),
        requirements=tuple(args.requirement),
        keyword=args.keyword or None,
        markers=args.markexpr or None,
        skip_areas=tuple(args.skip_area),
        skip_requirements=tuple(args.skip_requirement),
        pytest_args=tuple(args.pytest_args),
        faults=tuple(args.fault),
    )


@dataclass(frozen=True)
class Certify:
    """What a certify run needs before it starts: the identity and the signing key."""

    identity: Identity
    key: SigningKey | None

    def plugin_options(self, args: argparse.Namespace) -> Mapping[str, object]:
        """The plugin's certify options (the identity as flags, --allow-partial)."""
        options: dict[str, object] = {
            option: getattr(self.identity, name)
            for name, option in IDENTITY_OPTIONS.items()
        }
        options["allow_partial"] = bool(args.allow_partial)
        return options


def certify_preflight(args: argparse.Namespace) -> Certify | None:
    """For the certify profile: refuse a selection that leaves tests out (unless
    --allow-partial), read the identity and the signing key; outside it, refuse
    the certify options. All before anything is started."""
    if args.profile != CERTIFY:
        given = [
            o.flag
            for o in RUN_OPTIONS
            if o.name in _CERTIFY_ONLY and getattr(args, o.name, None)
        ]
        if given:
            raise ConfigError(
                f"{', '.join(given)}: for the certify profile only (--profile certify)"
            )
        return None
    departures = selection_of(args).departures()
    if departures and not args.allow_partial:
        raise ConfigError(partial_refusal(departures))
    output: Path | None = args.output
    if output is not None and output.is_dir() and any(output.iterdir()):
        # the certificate seals every file of the folder: none may be left over
        raise ConfigError(
            f"the certify profile seals every file of its run folder: {output} is "
            "not empty (give a new --output, or none)"
        )
    flags = {name: getattr(args, option) for name, option in IDENTITY_OPTIONS.items()}
    identity = identity_from(Path(args.product) if args.product else None, flags)
    key = None
    if args.sign_key:
        path = Path(args.sign_key)
        key = load_signing_key(path)
        if readable_by_others(path):
            print(
                f"warning: {path} is readable by other users; chmod 600 {path}",
                file=sys.stderr,
            )
    return Certify(identity, key)


def invocation_of(
    args: argparse.Namespace, env: Mapping[str, str] | None = None
) -> Invocation:
    """The command as it was given, every secret as the variable that holds it, and
    the environment the settings came from (secrets by name only)."""
    env = os.environ if env is None else env
    words: list[str] = ["run"]
    for option in RUN_OPTIONS:
        if not option.cli:
            continue
        value = getattr(args, option.name, None)
        if value in (None, False, [], option.default):
            continue
        if option.action == "store_true":
            words.append(option.flag)
            continue
        values = value if isinstance(value, list) else [value]
        for one in values:
            words += [option.flag, _SECRET_VALUES.get(option.name, str(one))]
    for flag, name in (("-k", "keyword"), ("-m", "markexpr")):
        if getattr(args, name, None):
            words += [flag, str(getattr(args, name))]
    if args.numprocesses:
        words += ["-n", str(args.numprocesses)]
    if args.output is not None:
        words += ["--output", str(args.output)]
    elif args.reports_dir != Path("reports"):
        words += ["--reports-dir", str(args.reports_dir)]
    environment = tuple(
        (variable, None if setting in SECRET_SETTINGS else env[variable])
        for variable, setting in ENV_VARIABLES.items()
        if env.get(variable)
    )
    config = args.config or env.get("QBTSUITE_CONFIG") or None
    return Invocation(tuple(words), environment, config)
