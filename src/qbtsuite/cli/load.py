"""``qbtsuite load PROFILE``: drive a target with a Locust load profile, gated by SLOs.

Exit codes (documented in ``load/README.md``; distinct from the conformance run):
0 every SLO met (and every rate-limit check passed), 2 usage or configuration error,
3 target unreachable, 4 internal error (the load generator failed), 5 an SLO was
breached, 6 a rate-limit check failed (``ratelimit`` profile).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qbtsuite.errors import ConfigError
from qbtsuite.exitcodes import ExitCode
from qbtsuite.loadtest.durations import parse_duration
from qbtsuite.loadtest.profile import Overrides, profile_names
from qbtsuite.loadtest.report import EXIT_CODES
from qbtsuite.loadtest.run import LoadRequest, LoadResult, WebUI, analyse, run_load
from qbtsuite.loadtest.terminal import marks_for, render_summary

__all__ = ["register", "run"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    try:
        names = ", ".join(profile_names())
    except FileNotFoundError:
        names = "none installed"
    codes = "; ".join(f"{k} {v}" for k, v in EXIT_CODES.items())
    p = sub.add_parser(
        "load",
        help="Run a load profile (Locust, headless unless --web) and judge it against SLOs",
        description=f"Run a load profile against the target. Profiles: {names}.",
        epilog=f"Exit codes: {codes}.",
    )
    p.add_argument(
        "profile",
        metavar="PROFILE",
        nargs="?",
        help=f"one of: {names}; or a path to a .toml",
    )
    p.add_argument(
        "--analyse",
        metavar="DIR",
        type=Path,
        help="no load: report on a run folder holding plan.json and samples.jsonl "
        "(e.g. from a master whose workers ran on other machines)",
    )
    p.add_argument(
        "--base-url",
        help="target base URL, e.g. https://api.example.com/v1 "
        "(default: the embedded reference server); key from QUBITTRON_API_KEY",
    )
    p.add_argument("--ca", help="CA bundle to trust for --base-url")
    p.add_argument(
        "--confirm-target",
        metavar="HOST",
        help="required for a non-loopback --base-url: the same host again",
    )
    p.add_argument("--users", type=int, help="peak users (closed loop) or cap")
    p.add_argument("--rate", type=float, help="peak arrivals per second (open loop)")
    p.add_argument(
        "-t",
        "--duration",
        metavar="DURATION",
        help="the whole timeline, every stage scaled: 90s, 1m30s, 2h, 500ms "
        "(a plain number is seconds)",
    )
    p.add_argument(
        "--warmup",
        metavar="DURATION",
        help="the start excluded from figures, e.g. 5s",
    )
    p.add_argument("--max-requests", type=int, help="hard cap on requests")
    p.add_argument(
        "--retries", type=int, help="client retries of a 429 (default 0: none)"
    )
    limiter = p.add_argument_group("ratelimit profile")
    limiter.add_argument(
        "--keys",
        type=_roles,
        metavar="ROLE,ROLE",
        help="key roles under test (default low_limit,low_limit_2); with --base-url "
        "from QBTSUITE_<ROLE>_KEY (low_limit: QBTSUITE_LOW_LIMIT_KEY); 'second' "
        "(QBTSUITE_SECOND_KEY) is the witness of isolation",
    )
    limiter.add_argument(
        "--declared-limit",
        type=int,
        metavar="N",
        help="requests per window each key under test is declared to admit "
        "(default 30 on the embedded server; required with --base-url)",
    )
    limiter.add_argument(
        "--window",
        metavar="DURATION",
        help="the limit's window (default 6s on the embedded server, which is started "
        "with it; 1m with --base-url)",
    )
    limiter.add_argument(
        "--windows",
        type=int,
        metavar="K",
        help="steady-state windows measured while driving each key (default 2)",
    )
    p.add_argument(
        "--slo",
        action="append",
        default=[],
        metavar="SPEC",
        help="objective, e.g. 'ttft_p95<800ms', 'chat.e2e_p99<2s', "
        "'error_rate<1%%' (repeatable; replaces the profile's on the same metric)",
    )
    p.add_argument(
        "--slo-abort",
        action="store_true",
        help="stop the run as soon as an SLO can no longer be met, whatever the "
        "remaining requests do (never during the warm-up); exit code 5",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=0,
        help="run a Locust master with N local worker processes (default: one process)",
    )
    p.add_argument(
        "--web",
        action="store_true",
        help="show Locust's web UI on 127.0.0.1 while the run goes (it still ends "
        "by itself); default: headless",
    )
    p.add_argument(
        "--web-port",
        type=int,
        metavar="PORT",
        help="port of the web UI (default: a free one; implies --web)",
    )
    p.add_argument(
        "--reports-dir",
        type=Path,
        default=Path("reports"),
        metavar="DIR",
        help="parent of the run folder (default: reports/)",
    )
    p.add_argument(
        "--output",
        type=Path,
        metavar="DIR",
        help="exact run folder, new or empty "
        "(default: <reports-dir>/<UTC time>-load-<profile>)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if (args.profile is None) == (args.analyse is None):
        print("error: give a PROFILE, or --analyse DIR (not both)", file=sys.stderr)
        return ExitCode.USAGE
    try:
        if args.analyse is not None:
            _only_for_a_run(args)
            return _print(analyse(args.analyse, tuple(args.slo)))
        request = _request(args)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    return _print(run_load(request, say=_say))


def _only_for_a_run(args: argparse.Namespace) -> None:
    """``--analyse`` reads a folder: the options of a run have no meaning there."""
    given = [
        flag
        for flag, value in (
            ("--web", args.web or args.web_port is not None),
            ("--slo-abort", args.slo_abort),
            ("--output", args.output is not None),
        )
        if value
    ]
    if given:
        raise ConfigError(f"{', '.join(given)} apply to a load run, not to --analyse")


def _duration(text: str | None, flag: str) -> float | None:
    return None if text is None else parse_duration(text, flag)


def _request(args: argparse.Namespace) -> LoadRequest:
    web = None
    if args.web or args.web_port is not None:
        web = WebUI(port=args.web_port or 0)
    return LoadRequest(
        profile=args.profile,
        base_url=args.base_url,
        ca=args.ca,
        confirm_target=args.confirm_target,
        overrides=Overrides(
            users=args.users,
            rate=args.rate,
            duration=_duration(args.duration, "--duration"),
            warmup=_duration(args.warmup, "--warmup"),
            max_requests=args.max_requests,
            retries=args.retries,
            keys=args.keys,
            declared_limit=args.declared_limit,
            window=_duration(args.window, "--window"),
            windows=args.windows,
        ),
        slo=tuple(args.slo),
        workers=args.workers,
        output=args.output,
        reports_dir=args.reports_dir,
        web=web,
        slo_abort=args.slo_abort,
    )


def _say(text: str) -> None:
    print(text, flush=True)


def _roles(text: str) -> tuple[str, ...]:
    roles = tuple(r.strip() for r in text.split(",") if r.strip())
    if not roles:
        raise argparse.ArgumentTypeError("name at least one key role")
    return roles


def _print(result: LoadResult) -> int:
    if result.report is not None:
        print(render_summary(result.report, marks_for(sys.stdout.encoding)))
    if result.run_dir is not None:
        print(f"run folder: {result.run_dir}")
    stream = sys.stdout if result.exit_code == 0 else sys.stderr
    print(result.message, file=stream)
    return result.exit_code
