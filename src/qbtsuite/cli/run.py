"""``qbtsuite run``: run the conformance suite against a target and report.

Exit codes (:class:`~qbtsuite.exitcodes.ExitCode`): OK conformant, FAILED a MUST failed
(or a SHOULD with ``--strict``), USAGE a usage or configuration error, UNREACHABLE the
target cannot be reached, INCOMPLETE an internal error or a run that could not give a
verdict, TERMINATED / INTERRUPTED stopped by SIGTERM / SIGINT (what ran is reported,
marked ``interrupted``); a run whose target stopped answering (the circuit breaker
tripped) is UNREACHABLE too, whatever it found before. Bad input gets one line, never
a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from qbtsuite import redact
from qbtsuite.certify.certificate import write_certificate
from qbtsuite.certify.reproduce import write_reproduce
from qbtsuite.checks import plain_http_notice, speaks_plain_http
from qbtsuite.cli.run_folder import RunFolder, claim
from qbtsuite.cli.run_options import (
    Certify,
    add_run_options,
    certify_preflight,
    check_selection,
    invocation_of,
)
from qbtsuite.errors import ConfigError, ServerStartError, TargetUnreachable
from qbtsuite.exitcodes import ExitCode
from qbtsuite.harness.invoke import RunOutcome, RunRequest, run_suite
from qbtsuite.harness.options import cli_reader, config_file, settings_values
from qbtsuite.process import shutdown
from qbtsuite.reporting import fault_banner, repros_of, write_reports
from qbtsuite.reporting.plan import render_plan
from qbtsuite.reporting.terminal import render_repro_lines, render_terminal_summary
from qbtsuite.reporting.throttle import pace_estimate, throttle_lines
from qbtsuite.results.model import RunResults
from qbtsuite.results.plan import Plan
from qbtsuite.results.records import exit_code_for, left_out
from qbtsuite.results.store import write_plan
from qbtsuite.target.breaker import tripped
from qbtsuite.target.config import Settings, TargetConfig, load_settings
from qbtsuite.target.embedded import EmbeddedServer
from qbtsuite.target.resolve import (
    EmbeddedSpec,
    ResolvedTarget,
    embedded_server,
    resolve,
)

__all__ = ["CACHE_FOLDER", "register", "run"]

CACHE_FOLDER = ".pytest_cache"  # under --reports-dir: what --lf/--ff read


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "run",
        help="Run the conformance suite against a target (default: embedded server)",
        description=(
            "Run the conformance suite. Without --base-url (or QUBITTRON_BASE_URL) "
            "the embedded reference server is started on loopback and tested. "
            "pytest's own options go after '--' (qbtsuite run -- -x --lf). "
            "Exit codes: 0 conformant, 1 a MUST failed (or a SHOULD with --strict), "
            "2 usage or configuration error, 3 target unreachable, 4 internal error "
            "or incomplete (e.g. the main key throttled past --max-throttle-wait), "
            "7 partial (certify --allow-partial: what was checked held, tests were "
            "left out), 143 / 130 interrupted by SIGTERM / SIGINT (what ran is "
            "reported)."
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
    args: argparse.Namespace,
    target: TargetConfig | None,
    run_dir: Path,
    certify: Certify | None,
    **more: Any,
) -> RunRequest:
    return RunRequest(
        target=target,
        run_dir=run_dir,
        profile=args.profile,
        areas=tuple(args.area),
        requirements=tuple(args.requirement),
        skip_areas=tuple(args.skip_area),
        skip_requirements=tuple(args.skip_requirement),
        keyword=args.keyword,
        markexpr=args.markexpr,
        workers=args.numprocesses,
        strict=args.strict,
        pytest_args=tuple(args.pytest_args),
        faults=tuple(args.fault),
        options=certify.plugin_options(args) if certify else {},
        allure=args.allure,
        cache_dir=args.reports_dir.resolve() / CACHE_FOLDER,
        **more,
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
    check_selection(
        [*args.area, *args.skip_area], [*args.requirement, *args.skip_requirement]
    )
    # The selection is collected before anything starts or any folder is made: an
    # empty one, a bad -k/-m or a pytest option pytest refuses ends here.
    certify = certify_preflight(args)
    offline = None if settings.needs_embedded else settings.target(require_key=False)
    # The embedded server boots (imports, TLS files: seconds) while the selection is
    # collected; a selection refused stops it before it has served anything.
    booting = None
    if settings.needs_embedded and not args.dry_run:
        booting = embedded_server(EmbeddedSpec(faults=tuple(args.fault)))
        booting.launch()
    try:
        prepared = _prepare(args, settings, offline, certify, booting)
    except BaseException:
        if booting is not None:
            booting.stop()
        raise
    if booting is not None and not isinstance(prepared, tuple):
        booting.stop()
    return prepared if isinstance(prepared, int) else _execute(args, *prepared)


def _prepare(
    args: argparse.Namespace,
    settings: Settings,
    offline: TargetConfig | None,
    certify: Certify | None,
    booting: EmbeddedServer | None,
) -> int | tuple[RunOutcome, RunFolder, ResolvedTarget, Certify | None, int | None]:
    """The plan, the run folder and the target; an exit code when the run ends here."""
    planned = _plan(args, offline, certify)
    if isinstance(planned, int):
        return planned
    assert planned.plan is not None
    requests = _budget_check(settings, planned.plan)
    folder = claim(
        args.output, args.reports_dir, args.profile, overwrite=args.overwrite
    )
    if args.dry_run:
        with folder:
            return _dry_run(planned, folder.path, settings)
    try:
        resolved = resolve(
            settings, EmbeddedSpec(faults=tuple(args.fault)), launched=booting
        )
    except BaseException:
        folder.discard()  # nothing ran: no folder is left behind
        raise
    return planned, folder, resolved, certify, requests


def _execute(
    args: argparse.Namespace,
    planned: RunOutcome,
    folder: RunFolder,
    resolved: ResolvedTarget,
    certify: Certify | None,
    requests: int | None,
) -> int:
    with folder, resolved:
        target = resolved.target
        _say(
            f"target   {target.base_url}"
            + (" (embedded reference server)" if target.embedded else "")
        )
        if speaks_plain_http(target.base_url):
            _say(f"notice   {plain_http_notice(target.base_url)}")
        for notice in resolved.notices:
            _say(f"notice   {notice}")
        if target.faults:
            _say(f"note     {fault_banner(target.faults)}")
        if target.main_key_rpm and requests:
            _say(f"pace     {pace_estimate(target.main_key_rpm, requests)}")
        _say(f"profile  {args.profile}    results {folder.path}")
        if certify is not None:
            _say(f"product  {certify.identity.label()}")
        request = _request(
            args, target, folder.path, certify, test_areas=planned.test_areas
        )
        outcome = run_suite(request, _terminal())
    return _finish(outcome, folder.path, args, certify)


def _plan(
    args: argparse.Namespace, target: TargetConfig | None, certify: Certify | None
) -> RunOutcome | int:
    """Collect the selection in a scratch folder (a dry run); an exit code if pytest
    refused it."""
    with tempfile.TemporaryDirectory(prefix="qbtsuite-plan-") as scratch:
        request = _request(args, target, Path(scratch), certify, dry_run=True)
        outcome = run_suite(request, _terminal())
        if outcome.pytest_code != 0 or outcome.plan is None:
            return _pytest_problem(outcome, log_kept=False)
        return outcome


def _budget_check(settings: Settings, plan: Plan) -> int | None:
    """The requests ``plan`` sends, held to the request budget before anything is
    sent (a remote target, or a budget given): ConfigError if over it.

    None when not checked (the embedded server with its own, ample budget).
    """
    if settings.needs_embedded:
        explicit = settings.values.get("request_budget")
        if explicit is None:
            return None
        budget = int(str(explicit))
    else:
        budget = settings.target().request_budget  # a missing key is found first
    planned = round(plan.totals.spend.requests)
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


def _dry_run(planned: RunOutcome, run_dir: Path, settings: Settings) -> int:
    assert planned.plan is not None
    path = write_plan(run_dir, planned.plan)
    _say(render_plan(planned.plan))
    rpm = settings.values.get("main_key_rpm")
    if rpm:
        requests = round(planned.plan.totals.spend.requests)
        _say(pace_estimate(int(str(rpm)), requests))
    _say(f"nothing was sent. plan: {path}")
    return ExitCode.OK


def _pytest_problem(outcome: RunOutcome, *, log_kept: bool = True) -> int:
    """Map a pytest exit without results to our exit codes, with one clear line
    (``log_kept``: the log stays for the user to read; else its gist is shown)."""
    code = outcome.pytest_code
    if code == 5:
        _error(
            "no tests match the selection (--profile, --area, --requirement, "
            "--skip-area, --skip-requirement, -k, -m, pytest options)"
        )
        return ExitCode.USAGE
    if code == 4:
        said = outcome.log_lines("pytest.main(): error: ") or [
            ln for ln in outcome.log_lines("ERROR: ") if "usage: pytest" not in ln
        ]
        line = (said or ["pytest rejected the options"])[0]
        _error(
            line.removeprefix("ERROR: ").replace("pytest.main(): error: ", "pytest: ")
        )
        return ExitCode.USAGE
    if code == ExitCode.USAGE and outcome.log_lines("Exit: error: "):
        _error(outcome.log_lines("Exit: error: ")[0].removeprefix("Exit: error: "))
        return ExitCode.USAGE
    if code == 2 and any("KeyboardInterrupt" in ln for ln in outcome.log_lines("!")):
        _error("interrupted")
        return ExitCode.INTERRUPTED
    where = f"; see {outcome.log}" if log_kept else ""
    if code == 2:
        gist = "" if log_kept else _gist(outcome)
        _error(f"the suite failed to collect its tests{where}{gist}")
        return ExitCode.INCOMPLETE
    _error(f"the suite could not run (pytest exit {code}){where}")
    return ExitCode.INCOMPLETE


def _gist(outcome: RunOutcome) -> str:
    """The first collection error and its exception line, for a log not kept."""
    first = outcome.log_lines("ERROR ")[:1]
    exception = outcome.log_lines("E   ")[:1]
    found = [ln.strip() for ln in first + exception]
    return (": " + " — ".join(found)) if found else ""


def _seal(
    run_dir: Path, results: RunResults, args: argparse.Namespace, certify: Certify
) -> None:
    """REPRODUCE.md, then the certificate over every file of the folder (last)."""
    signed_by = certify.key.public.key_id if certify.key else None
    write_reproduce(run_dir, results, invocation_of(args), signed_by)
    write_certificate(run_dir, results, certify.key)
    how = f"signed by {signed_by}" if signed_by else "unsigned"
    _say(f"certificate {run_dir / 'certificate.json'} ({how})")
    _say(f"verify   qbtsuite verify {run_dir}")


def _finish(
    outcome: RunOutcome,
    run_dir: Path,
    args: argparse.Namespace,
    certify: Certify | None,
) -> int:
    results = outcome.results
    if results is not None and results.interrupted is not None:
        return _interrupted(results, run_dir)
    if outcome.pytest_code not in (0, 1) or results is None:
        code = _pytest_problem(outcome)
        if results is not None and results.tests:  # a broken run: still shown
            write_reports(run_dir, results)
            _say(f"report   {run_dir / 'report.html'}")
            if certify is not None:
                _seal(run_dir, results, args, certify)
        return code
    write_reports(run_dir, results)
    _say("")
    _say(render_terminal_summary(results))
    for line in throttle_lines(results):
        _say(line)
    if args.verbose:
        _say(render_repro_lines(repros_of(run_dir, results)))
    _say(f"report   {run_dir / 'report.html'}")
    omitted = left_out(results.run, results.not_checked)
    if omitted:
        _say(f"left out {'; '.join(omitted)}")
    if certify is not None:
        _seal(run_dir, results, args, certify)
    stopped = tripped(run_dir)
    if stopped is not None:  # the verdicts so far stand; the run could not finish
        _error(
            f"target not answering: {stopped.limit} exchanges in a row got no answer "
            f"within their deadline, so the run stopped sending (last: {stopped.last})"
        )
        return ExitCode.UNREACHABLE
    return exit_code_for(results.verdict)


def _interrupted(results: RunResults, run_dir: Path) -> int:
    """Report what ran, marked interrupted; 143 after SIGTERM, 130 after SIGINT."""
    with shutdown.deferred():  # the reports are written whole, or not at all
        write_reports(run_dir, results)
    _say("")
    _say(render_terminal_summary(results))
    _say(f"report   {run_dir / 'report.html'}")
    signal = results.interrupted.signal if results.interrupted else None
    _error(
        f"interrupted{f' by {signal}' if signal else ''}: "
        f"{len(results.not_checked)} requirement(s) never checked "
        "(not_checked in results.json)"
    )
    stopped = shutdown.received()
    return exit_code_for(results.verdict) if stopped is None else stopped.exit_code
