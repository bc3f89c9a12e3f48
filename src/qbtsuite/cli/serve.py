"""``qbtsuite serve``: run the reference server on loopback."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qbtsuite.exitcodes import ExitCode
from qbtsuite.process import shutdown
from qbtsuite.server.faults import load_faults
from qbtsuite.server.keys import KeysFileError
from qbtsuite.server.settings import UPLOAD_CAP_BYTES, LatencyModel, ServerSettings

__all__ = ["register"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "serve",
        help="Run the reference server (HTTPS + plain-HTTP redirect) on loopback",
        description="Run the Qubittron reference server on loopback.",
    )
    p.add_argument("--host", default="127.0.0.1", help="Loopback address to bind")
    p.add_argument(
        "--https-port", type=int, default=0, help="HTTPS port (0: a free one)"
    )
    p.add_argument(
        "--http-port", type=int, default=0, help="Plain-HTTP port (0: a free one)"
    )
    p.add_argument(
        "--state-dir",
        type=Path,
        default=Path("reports/server"),
        help="Where the CA, certificate and server.json are written",
    )
    p.add_argument(
        "--keys", type=Path, help="TOML file of keys (default: generated set)"
    )
    p.add_argument(
        "--ttft",
        type=float,
        default=LatencyModel().ttft,
        help="Simulated time to first token, seconds",
    )
    p.add_argument(
        "--itl",
        type=float,
        default=LatencyModel().itl,
        help="Simulated delay between tokens, seconds",
    )
    p.add_argument(
        "--rate-window",
        type=float,
        default=60.0,
        help="Rate-limit window in seconds (60 = per minute)",
    )
    p.add_argument(
        "--upload-cap",
        type=int,
        default=UPLOAD_CAP_BYTES,
        help="Largest accepted request body, bytes",
    )
    p.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME",
        help="Break one requirement on purpose (repeatable)",
    )
    p.add_argument(
        "--list-faults", action="store_true", help="List the faults and exit"
    )
    p.add_argument(
        "--no-hsts", action="store_true", help="Omit Strict-Transport-Security"
    )
    p.add_argument(
        "--quiet", action="store_true", help="Print nothing; write server.json only"
    )
    p.set_defaults(func=run)


def _loopback(host: str) -> bool:
    return host in {"localhost", "::1"} or host.startswith("127.")


def run(args: argparse.Namespace) -> int:
    catalogue = load_faults()
    if args.list_faults:
        for name, cls in sorted(catalogue.items()):
            print(f"{name:<40} {cls.area:<15} {cls.description}")
        return ExitCode.OK
    if not _loopback(args.host):
        print(
            f"error: --host must be a loopback address, not {args.host!r}",
            file=sys.stderr,
        )
        return ExitCode.USAGE
    unknown = [f for f in args.fault if f not in catalogue]
    if unknown:
        print(
            f"error: unknown fault(s): {', '.join(unknown)} "
            "(see 'qbtsuite serve --list-faults')",
            file=sys.stderr,
        )
        return ExitCode.USAGE
    if args.keys is not None and not args.keys.is_file():
        print(f"error: keys file not found: {args.keys}", file=sys.stderr)
        return ExitCode.USAGE
    settings = ServerSettings(
        host=args.host,
        https_port=args.https_port,
        http_port=args.http_port,
        state_dir=args.state_dir,
        keys_file=args.keys,
        latency=LatencyModel(args.ttft, args.itl),
        upload_cap=args.upload_cap,
        rate_window=args.rate_window,
        faults=tuple(args.fault),
        hsts=not args.no_hsts,
    )
    from qbtsuite.server.listeners import run as run_server

    try:
        stopped_by = run_server(settings, quiet=args.quiet)
    except KeysFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    except OSError as exc:
        print(f"error: cannot start the server: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    return ExitCode.OK if stopped_by is None else shutdown.exit_code_for(stopped_by)
