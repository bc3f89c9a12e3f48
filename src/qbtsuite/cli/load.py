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
from typing import Any

from qbtsuite.exitcodes import ExitCode
from qbtsuite.loadtest.profile import Overrides, profile_names
from qbtsuite.loadtest.ratelimit.verdict import CheckVerdict
from qbtsuite.loadtest.report import EXIT_CODES
from qbtsuite.loadtest.run import LoadRequest, LoadResult, analyse, run_load

__all__ = ["register", "run"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    try:
        names = ", ".join(profile_names())
    except FileNotFoundError:
        names = "none installed"
    codes = "; ".join(f"{k} {v}" for k, v in EXIT_CODES.items())
    p = sub.add_parser(
        "load",
        help="Run a load profile (Locust, headless) and judge it against SLOs",
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
    p.add_argument("--duration", type=float, help="seconds of the whole timeline")
    p.add_argument("--warmup", type=float, help="seconds excluded from figures")
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
        type=float,
        metavar="SECONDS",
        help="the limit's window (default 6 on the embedded server, which is started "
        "with it; 60 with --base-url)",
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
        "--workers",
        type=int,
        default=0,
        help="run a Locust master with N local worker processes (default: one process)",
    )
    p.add_argument(
        "--output",
        type=Path,
        default=Path("reports"),
        help="folder for the run folder <timestamp>-load-<profile> (default: reports)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if (args.profile is None) == (args.analyse is None):
        print("error: give a PROFILE, or --analyse DIR (not both)", file=sys.stderr)
        return ExitCode.USAGE
    if args.analyse is not None:
        return _print(analyse(args.analyse, tuple(args.slo)))
    request = LoadRequest(
        profile=args.profile,
        base_url=args.base_url,
        ca=args.ca,
        confirm_target=args.confirm_target,
        overrides=Overrides(
            users=args.users,
            rate=args.rate,
            duration=args.duration,
            warmup=args.warmup,
            max_requests=args.max_requests,
            retries=args.retries,
            keys=args.keys,
            declared_limit=args.declared_limit,
            window=args.window,
            windows=args.windows,
        ),
        slo=tuple(args.slo),
        workers=args.workers,
        output=args.output,
    )
    return _print(run_load(request))


def _roles(text: str) -> tuple[str, ...]:
    roles = tuple(r.strip() for r in text.split(",") if r.strip())
    if not roles:
        raise argparse.ArgumentTypeError("name at least one key role")
    return roles


def _print(result: LoadResult) -> int:
    if result.report is not None:
        _summary(result.report)
    if result.run_dir is not None:
        print(f"run folder: {result.run_dir}")
    stream = sys.stdout if result.exit_code == 0 else sys.stderr
    print(result.message, file=stream)
    return result.exit_code


def _summary(report: dict[str, Any]) -> None:
    w = report["window"]
    print(
        f"load {report['profile']}: {report['target']['base_url']}, "
        f"{w['measured_s']:.1f} s measured after {w['warmup_s']:.1f} s warm-up"
    )
    for name, ep in report["endpoints"].items():
        o = ep["outcomes"]
        line = (
            f"  {name:<19} {ep['requests']:>6} req  ok {o['ok']}  429 "
            f"{o['rate-limited']}  failed {o['failed']}  error {o['error']}  "
            f"{ep['requests_per_s']:.1f} req/s"
        )
        for label, key in (("TTFT", "ttft_ms"), ("ITL", "itl_ms"), ("e2e", "e2e_ms")):
            if ep[key].get("count"):
                line += f"  {label} p50 {ep[key]['p50']:.1f} ms"
        print(line)
    arrival = report["arrival"]
    if arrival.get("open_loop"):
        print(
            f"  offered {arrival['offered_rps']:.2f} req/s, "
            f"achieved {arrival['achieved_rps']:.2f} req/s"
        )
    for v in report["slo"]:
        state = "met" if v["passed"] else "BREACHED"
        print(f"  SLO {v['slo']}: {state} (measured {v['value']})")
    limiter = report.get("ratelimit")
    if limiter is not None:
        _limiter_summary(limiter)


def _limiter_summary(limiter: dict[str, Any]) -> None:
    declared = limiter["settings"]["declared_limit"]
    for subject, key in limiter["keys"].items():
        verdicts = ", ".join(
            f"{name} {'FAIL' if check['verdict'] == CheckVerdict.FAIL else check['verdict']}"
            for name, check in key["checks"].items()
            if check["verdict"] != CheckVerdict.INFO
        )
        rate = key["checks"]["limit"]["figures"].get("admitted_per_window")
        shown = f"{rate:.1f}" if rate is not None else "–"
        print(
            f"  rate limit {subject}: {shown} admitted per window (declared "
            f"{declared}); {verdicts}"
        )
