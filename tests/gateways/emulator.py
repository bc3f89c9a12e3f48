"""``python -m tests.gateways.emulator``: a gateway in front of a running reference
server (``qbtsuite serve``), with switchable, composable behaviours.

Bad input is one line on stderr and exit 2. SIGINT/SIGTERM stop it.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from tests.gateways.listeners import GatewayInfo, check_loopback, serve
from tests.gateways.options import GatewayOptions, ModelMap, parse_renames
from tests.gateways.upstream import UpstreamInfoError, read_upstream_info

__all__ = ["main", "parse_options"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m tests.gateways.emulator",
        description="A gateway emulator in front of a running reference server.",
    )
    p.add_argument(
        "--upstream-info",
        type=Path,
        required=True,
        metavar="PATH",
        help="server.json written by 'qbtsuite serve'",
    )
    p.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    p.add_argument("--port", type=int, default=0, help="API port (0: a free one)")
    p.add_argument(
        "--http-port",
        type=int,
        default=0,
        help="redirecting plain-HTTP port (0: a free one)",
    )
    p.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="where the CA, certificate and gateway.json go (default: a temporary folder)",
    )
    p.add_argument(
        "--throttle-rpm",
        type=int,
        default=None,
        metavar="N",
        help="N requests per window for every key, the main key too",
    )
    p.add_argument(
        "--throttle-window",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="the throttle's sliding window (default 60)",
    )
    p.add_argument(
        "--plain-http",
        action="store_true",
        help="serve the API on plain HTTP only, without a redirect listener",
    )
    p.add_argument(
        "--rename-models",
        default=None,
        metavar="OLD=NEW,...",
        help="serve these upstream models under other names, and no others",
    )
    p.add_argument(
        "--unknown-model-status",
        type=int,
        choices=(400, 404),
        default=400,
        help="status for a POST naming an unknown model (default 400, the docs' table)",
    )
    p.add_argument(
        "--fastapi-errors",
        action="store_true",
        help='errors as {"detail": message}, status kept',
    )
    p.add_argument(
        "--drop-param",
        action="store_true",
        help="errors in the envelope without the optional param",
    )
    p.add_argument(
        "--embellish",
        action="store_true",
        help="null optional fields, system_fingerprint, extra headers, gzip, CRLF SSE",
    )
    p.add_argument(
        "--image-url-host",
        default=None,
        metavar="HOST",
        help="put HOST in the image URLs the gateway hands out",
    )
    p.add_argument(
        "--upstream-timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="read timeout of every upstream call (default 60)",
    )
    return p


def parse_options(args: argparse.Namespace) -> GatewayOptions:
    """The options, or ValueError with a one-line reason."""
    if args.throttle_rpm is not None and args.throttle_rpm < 1:
        raise ValueError("--throttle-rpm needs at least 1")
    if args.throttle_window <= 0 or args.upstream_timeout <= 0:
        raise ValueError("--throttle-window and --upstream-timeout must be positive")
    host = args.image_url_host
    if host is not None and (
        not host or "/" in host or urlsplit(f"//{host}").hostname is None
    ):
        raise ValueError(f"--image-url-host {host!r} is not a host name")
    renames = parse_renames(args.rename_models) if args.rename_models else ModelMap()
    return GatewayOptions(
        throttle_rpm=args.throttle_rpm,
        throttle_window=args.throttle_window,
        plain_http=args.plain_http,
        renames=renames,
        unknown_model_status=args.unknown_model_status,
        fastapi_errors=args.fastapi_errors,
        drop_param=args.drop_param,
        embellish=args.embellish,
        image_url_host=host,
        upstream_timeout=args.upstream_timeout,
    )


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop where it is installed (a dependency off Windows): fewer, shorter pauses
    between a stream's events."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def _announce(info: GatewayInfo) -> None:
    behaviours = ", ".join(info.behaviours) or "transparent"
    sys.stdout.write(f"gateway {info.base_url}  ({behaviours})\n")
    if info.http_url:
        sys.stdout.write(f"redirect {info.http_url}  CA {info.ca}\n")
    sys.stdout.flush()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        options = parse_options(args)
        check_loopback(args.host)
        upstream = read_upstream_info(args.upstream_info)
        upstream_host = urlsplit(upstream.https_url).hostname or ""
        check_loopback(upstream_host)
    except (ValueError, UpstreamInfoError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    try:
        with tempfile.TemporaryDirectory(prefix="gateway-") as scratch:
            state_dir = args.state_dir or Path(scratch)
            ready = serve(
                options,
                upstream,
                state_dir,
                args.host,
                args.port,
                args.http_port,
                on_ready=_announce,
            )
            with asyncio.Runner(loop_factory=_loop_factory()) as runner:
                runner.run(ready)
    except OSError as exc:
        sys.stderr.write(f"error: cannot listen on {args.host}: {exc.strerror}\n")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
