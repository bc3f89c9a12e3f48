"""``qbtsuite run``: run the conformance suite against a target and report.

Exit codes (:class:`~qbtsuite.exitcodes.ExitCode`): OK conformant, FAILED a MUST failed
(or a SHOULD with ``--strict``), USAGE a usage or configuration error, UNREACHABLE the
target cannot be reached, INCOMPLETE an internal error or a run that could not give a
verdict. Bad input gets one line, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from qbtsuite import redact
from qbtsuite.cli.run_options import add_run_options, check_selection, new_run_dir
from qbtsuite.errors import ConfigError, ServerStartError, TargetUnreachable
from qbtsuite.exitcodes import ExitCode
from qbtsuite.harness.invoke import RunOutcome, RunRequest, run_suite
from qbtsuite.harness.options import cli_reader, config_file, settings_values
from qbtsuite.reporting import write_reports
from qbtsuite.reporting.plan import render_plan
from qbtsuite.reporting.terminal import render_terminal_summary
from qbtsuite.reporting.throttle import pace_estimate, throttle_lines
from qbtsuite.results.records import exit_code_for
from qbtsuite.target.config import Settings, TargetConfig, load_settings
from qbtsuite.target.resolve import EmbeddedSpec, resolve

__all__ = ["register", "run"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "run",
        help="Run the conformance suite against a target (default: embedded server)",
        description=(
            "Run the conformance suite. Without --base-url (or QUBITTRON_BASE_URL) "
            "the embedded reference server is started on loopback and tested. "
            "Exit codes: 0 conformant, 1 a MUST failed (or a SHOULD with --strict), "
            "2 usage or configuration error, 3 target unreachable, 4 internal error "
            "or incomplete (e.g. the main key throttled past --max-throttle-wait)."
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
        return ExitCode.USAGE
    except TargetUnreachable as exc:
        _error(f"target unreachable: {exc}")
        return ExitCode.UNREACHABLE
    except ServerStartError as exc:
        _error(f"cannot start the embedded reference server: {exc}")
        return ExitCode.INCOMPLETE
    except Exception as exc:
        _error(f"internal error: {type(exc).__name__}: {exc}")
        if os.environ.get("QBTSUITE_DEBUG"):
            print(redact.scrub(traceback.format_exc()), file=sys.stderr)
        return ExitCode.INCOMPLETE


def _settings(args: argparse.Namespace) -> Settings:
    if args.api_key:
        print(
            "warning: --api-key is visible to other users of this machine; "
            "prefer the QUBITTRON_API_KEY environment variable",
            file=sys.stderr,
        )
    read = cli_reader(args)
    return load_settings(settings_values(read), os.environ, config_file(read))


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
    settings = _settings(args)
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
    planned = _planned_requests(args, settings, run_dir)
    if isinstance(planned, ExitCode):
        return planned
    with resolve(settings, EmbeddedSpec(faults=tuple(args.fault))) as resolved:
        target = resolved.target
        _say(
            f"target   {target.base_url}"
            + (" (embedded reference server)" if target.embedded else "")
        )
        for notice in resolved.notices:
            _say(f"notice   {notice}")
        if target.main_key_rpm and planned:
            _say(f"pace     {pace_estimate(target.main_key_rpm, planned)}")
        _say(f"profile  {args.profile}    results {run_dir}")
        outcome = run_suite(_request(args, target, run_dir), _terminal())
    return _finish(outcome, run_dir)


def _planned_requests(
    args: argparse.Namespace, settings: Settings, run_dir: Path
) -> int | ExitCode | None:
    """The requests the selection plans, held to the request budget before anything
    is sent (a metered target, or a budget given): ConfigError if over it.

    None when not planned (the embedded server with its own, ample budget).
    """
    target: TargetConfig | None = None
    if settings.needs_embedded:
        explicit = settings.values.get("request_budget")
        if explicit is None:
            return None
        budget = int(explicit)
    else:
        target = settings.target()  # a missing key is found first
        budget = target.request_budget
    request = replace(_request(args, target, run_dir), dry_run=True)
    outcome = run_suite(request, lambda _text: None)
    if outcome.plan is None:
        return ExitCode(_pytest_problem(outcome))
    planned = int(outcome.plan["totals"]["requests"])
    if planned > budget:
        raise ConfigError(
            f"the selection plans {planned} requests but the request budget is "
            f"{budget}: nothing was sent; raise --request-budget (or "
            f"QBTSUITE_REQUEST_BUDGET) to at least {planned}, or select fewer tests "
            "(--profile smoke, --area, --requirement)"
        )
    return planned


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
    rpm = settings.values.get("main_key_rpm")
    if rpm:
        _say(pace_estimate(int(rpm), int(outcome.plan["totals"]["requests"])))
    _say(f"nothing was sent. plan: {run_dir / 'plan.json'}")
    return ExitCode.OK


def _pytest_problem(outcome: RunOutcome) -> int:
    """Map a pytest exit without results to our exit codes, with one clear line."""
    code = outcome.pytest_code
    if code == 5:
        _error("no tests match the selection (--area/--requirement/-k/-m/--profile)")
        return ExitCode.USAGE
    if code == 4:
        lines = outcome.log_lines("ERROR: ") or ["pytest rejected the options"]
        _error(lines[0].removeprefix("ERROR: "))
        return ExitCode.USAGE
    if code == 2 and any("KeyboardInterrupt" in ln for ln in outcome.log_lines("!")):
        _error("interrupted")
        return ExitCode.INTERRUPTED
    if code == 2:
        _error(f"the suite failed to collect its tests; see {outcome.log}")
        return ExitCode.INCOMPLETE
    _error(f"the suite could not run (pytest exit {code}); see {outcome.log}")
    return ExitCode.INCOMPLETE


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
    for line in throttle_lines(results):
        _say(line)
    _say(f"report   {run_dir / 'report.html'}")
    return exit_code_for(str(results["verdict"]))
