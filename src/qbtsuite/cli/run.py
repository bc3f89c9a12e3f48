"""``qbtsuite run``: run the conformance suite against a target and report.

Exit codes (DESIGN.md §4): 0 conformant, 1 a MUST failed (or a SHOULD with
``--strict``), 2 usage or configuration error, 3 target unreachable, 4 internal error
(or a run that could not finish). Bad input gets one line, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from qbtsuite import redact
from qbtsuite.cli.run_options import add_run_options, check_selection, new_run_dir
from qbtsuite.errors import ConfigError, TargetUnreachable
from qbtsuite.harness.invoke import RunOutcome, RunRequest, run_suite
from qbtsuite.reporting import write_reports
from qbtsuite.reporting.plan import render_plan
from qbtsuite.reporting.terminal import render_terminal_summary
from qbtsuite.results.records import exit_code_for
from qbtsuite.target.config import (
    EMBEDDED_RATE_WINDOW,
    Settings,
    TargetConfig,
    load_settings,
)
from qbtsuite.target.discovery import complete_models, probe
from qbtsuite.target.embedded import EmbeddedServer, ServerStartError

__all__ = ["register", "run"]

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_UNREACHABLE, EXIT_INTERNAL = 0, 1, 2, 3, 4


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "run",
        help="Run the conformance suite against a target (default: embedded server)",
        description=(
            "Run the conformance suite. Without --base-url (or QUBITTRON_BASE_URL) "
            "the embedded reference server is started on loopback and tested. "
            "Exit codes: 0 conformant, 1 a MUST failed (or a SHOULD with --strict), "
            "2 usage or configuration error, 3 target unreachable, 4 internal error."
        ),
    )
    add_run_options(p)
    p.set_defaults(func=run)


def _say(text: str, stream: TextIO | None = None) -> None:
    print(redact.scrub(text), file=stream or sys.stdout, flush=True)


def _terminal() -> Callable[[str], None]:
    """A writer bound to the terminal now (pytest's own output is redirected later)."""
    stream = sys.stdout
    return lambda text: _say(text, stream)


def _error(text: str) -> None:
    print(redact.scrub(f"error: {text}"), file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except ConfigError as exc:
        _error(str(exc))
        return EXIT_USAGE
    except TargetUnreachable as exc:
        _error(f"target unreachable: {exc}")
        return EXIT_UNREACHABLE
    except ServerStartError as exc:
        _error(f"cannot start the embedded reference server: {exc}")
        return EXIT_INTERNAL
    except Exception as exc:
        _error(f"internal error: {type(exc).__name__}: {exc}")
        if os.environ.get("QBTSUITE_DEBUG"):
            print(redact.scrub(traceback.format_exc()), file=sys.stderr)
        return EXIT_INTERNAL


def _cli_values(args: argparse.Namespace) -> dict[str, Any]:
    if args.api_key:
        print(
            "warning: --api-key is visible to other users of this machine; "
            "prefer the QUBITTRON_API_KEY environment variable",
            file=sys.stderr,
        )
    return {
        "base_url": args.base_url,
        "http_url": args.http_url,
        "api_key": args.api_key,
        "retries": args.retries,
        "request_budget": args.request_budget,
        "ca_bundle": args.ca_bundle,
        "insecure": True if args.insecure else None,
        "capabilities": args.capabilities,
        "read_timeout": args.timeout,
    }


def _request(
    args: argparse.Namespace, target: TargetConfig | None, run_dir: Path
) -> RunRequest:
    return RunRequest(
        target=target,
        run_dir=run_dir,
        profile=args.profile,
        areas=tuple(args.area),
        requirements=tuple(args.requirement),
        keyword=args.keyword,
        markexpr=args.markexpr,
        workers=args.numprocesses,
        strict=args.strict,
        dry_run=args.dry_run,
    )


def _run(args: argparse.Namespace) -> int:
    settings = load_settings(_cli_values(args), os.environ, args.config)
    if args.profile == "certify" and settings.values.get("capabilities") is None:
        raise ConfigError(
            "the certify profile needs the optional capabilities declared up front: "
            "--capabilities images,transcriptions (or 'none'), QBTSUITE_CAPABILITIES "
            "or capabilities = [...] in the config file"
        )
    if args.fault:
        _check_faults(args.fault, settings)
    check_selection(args.area, args.requirement)
    run_dir = new_run_dir(args.output, args.reports_dir, args.profile)
    if args.dry_run:
        return _dry_run(args, settings, run_dir)
    server: EmbeddedServer | None = None
    try:
        if settings.needs_embedded:
            server = EmbeddedServer(
                faults=args.fault, args=["--rate-window", str(EMBEDDED_RATE_WINDOW)]
            )
            target = settings.embedded(server.start())
        else:
            target = settings.target()
            probe(target)
        target = complete_models(target)
        _say(
            f"target   {target.base_url}"
            + (" (embedded reference server)" if target.embedded else "")
        )
        _say(f"profile  {args.profile}    results {run_dir}")
        outcome = run_suite(_request(args, target, run_dir), _terminal())
    finally:
        if server is not None:
            server.stop()
    return _finish(outcome, run_dir)


def _check_faults(names: list[str], settings: Settings) -> None:
    if not settings.needs_embedded:
        raise ConfigError("--fault applies to the embedded server only (no --base-url)")
    from qbtsuite.server.faults import load_faults

    unknown = sorted(set(names) - set(load_faults()))
    if unknown:
        raise ConfigError(
            f"unknown fault(s): {', '.join(unknown)} (see 'qbtsuite serve --list-faults')"
        )


def _dry_run(args: argparse.Namespace, settings: Settings, run_dir: Path) -> int:
    target = None if settings.needs_embedded else settings.target(require_key=False)
    outcome = run_suite(_request(args, target, run_dir), _terminal())
    if outcome.plan is None:
        return _pytest_problem(outcome)
    _say(render_plan(outcome.plan))
    _say(f"nothing was sent. plan: {run_dir / 'plan.json'}")
    return EXIT_OK


def _pytest_problem(outcome: RunOutcome) -> int:
    """Map a pytest exit without results to our exit codes, with one clear line."""
    code = outcome.pytest_code
    if code == 5:
        _error("no tests match the selection (--area/--requirement/-k/-m/--profile)")
        return EXIT_USAGE
    if code == 4:
        lines = outcome.log_lines("ERROR: ") or ["pytest rejected the options"]
        _error(lines[0].removeprefix("ERROR: "))
        return EXIT_USAGE
    if code == 2 and any("KeyboardInterrupt" in ln for ln in outcome.log_lines("!")):
        _error("interrupted")
        return 130
    if code == 2:
        _error(f"the suite failed to collect its tests; see {outcome.log}")
        return EXIT_INTERNAL
    _error(f"the suite could not run (pytest exit {code}); see {outcome.log}")
    return EXIT_INTERNAL


def _finish(outcome: RunOutcome, run_dir: Path) -> int:
    results = outcome.results
    if outcome.pytest_code not in (0, 1) or results is None:
        code = _pytest_problem(outcome)
        if results is not None and results.get("tests"):  # a partial run: still shown
            write_reports(run_dir, results)
            _say(f"report   {run_dir / 'report.html'}")
        return code
    write_reports(run_dir, results)
    _say("")
    _say(render_terminal_summary(results))
    _say(f"report   {run_dir / 'report.html'}")
    return exit_code_for(str(results["verdict"]))
