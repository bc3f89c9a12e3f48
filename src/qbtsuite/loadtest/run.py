"""One load run from start to verdict, outside of Locust.

Order: read the profile and the SLOs (bad input fails before anything starts), settle
the target (embedded reference server, or a confirmed URL with keys from the
environment), probe it once, make the run folder, run Locust in child processes,
then compute the figures from the exact samples, judge the SLOs and write the report.

:func:`analyse` does the last part only, for a run folder that already holds
``plan.json`` and ``samples.jsonl``.

With ``--slo-abort`` the samples are read while Locust runs
(:mod:`qbtsuite.loadtest.abort`); an SLO that can no longer be met ends the run early.
With ``--web`` Locust shows its web UI on 127.0.0.1 and the run still ends by itself.

Exit codes (distinct from the conformance run's 1 = a MUST failed):
0 every SLO met; 2 usage or configuration error; 3 target unreachable;
4 internal error (the load generator crashed or produced no samples); 5 an SLO was
breached (or the run was aborted for one); 143 / 130 interrupted by SIGTERM / SIGINT
(the samples so far reported).
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from qbtsuite.errors import ConfigError, ServerStartError, TargetUnreachable
from qbtsuite.exitcodes import ExitCode
from qbtsuite.loadtest.abort import Abort, AbortWatch, SamplesTail
from qbtsuite.loadtest.finish import finish
from qbtsuite.loadtest.plan import Plan
from qbtsuite.loadtest.processes import LocustRun, WebUI, run_locust
from qbtsuite.loadtest.profile import Overrides, Profile, load_profile, resolve_plan
from qbtsuite.loadtest.ratelimit.settings import embedded_keys_toml
from qbtsuite.loadtest.report import read_report
from qbtsuite.loadtest.samples import read_samples
from qbtsuite.loadtest.slo import Objective, parse_objectives
from qbtsuite.loadtest.target import LoadTarget, check_base_url, load_target
from qbtsuite.process import shutdown
from qbtsuite.rundir import fresh_run_dir
from qbtsuite.target.config import Settings, load_settings
from qbtsuite.target.resolve import EmbeddedSpec, resolve

__all__ = [
    "LoadRequest",
    "LoadResult",
    "WebUI",
    "analyse",
    "run_load",
]

MAX_WORKERS = 64
_STOP_FILE = ".stop"  # in the run folder while Locust runs; its presence ends the run


@dataclass(frozen=True, slots=True)
class LoadRequest:
    """What ``qbtsuite load`` was asked for."""

    profile: str
    base_url: str | None = None
    ca: str | None = None
    confirm_target: str | None = None
    overrides: Overrides = field(default_factory=Overrides)
    slo: tuple[str, ...] = ()
    workers: int = 0
    output: Path | None = None  # the exact run folder (new or empty)
    reports_dir: Path = Path("reports")  # else a fresh folder under this one
    web: WebUI | None = None  # Locust's web UI on 127.0.0.1 (None: headless)
    slo_abort: bool = False


@dataclass(frozen=True, slots=True)
class LoadResult:
    """How the run ended; ``report`` is the content of ``load.json`` when written."""

    exit_code: int
    message: str
    run_dir: Path | None = None
    report: dict[str, Any] | None = None


def _ignore(text: str) -> None:
    del text


def run_load(request: LoadRequest, say: Callable[[str], None] = _ignore) -> LoadResult:
    """Run the load described by ``request``; never raises for bad input.

    ``say`` gets the lines to show while the run goes (the web UI's address).
    """
    try:
        profile = load_profile(request.profile)
        plan = resolve_plan(profile, _limiter_overrides(profile, request))
        objectives = parse_objectives(profile.slo + request.slo)
        if not 0 <= request.workers <= MAX_WORKERS:
            raise ConfigError(f"--workers must be between 0 and {MAX_WORKERS}")
        if plan.ratelimit is not None and request.workers:
            raise ConfigError(
                "the ratelimit profile runs in one process (its timing is per key): "
                "drop --workers"
            )
        if plan.ratelimit is not None and request.slo_abort:
            raise ConfigError(
                "--slo-abort does not apply to the ratelimit profile: its verdicts are "
                "the limiter checks, judged once every phase has run"
            )
        if request.slo_abort and not objectives:
            raise ConfigError("--slo-abort needs an SLO (--slo, or the profile's)")
        web = _web(request.web)
        if request.output is not None:
            _check_output(request.output)
        fewest = min(s.users for s in plan.stages)
        if plan.open_loop and request.workers > fewest:
            raise ConfigError(
                f"--workers {request.workers} exceeds the {fewest} users of a stage: "
                "each worker sends its share of the arrivals and needs a user"
            )
        settings = load_settings(
            {"base_url": request.base_url, "ca_bundle": request.ca}, os.environ
        )
        if not settings.needs_embedded:
            check_base_url(str(settings.base_url), request.confirm_target)
            return _resolved(
                _Run(request, profile, plan, objectives, web, say),
                list(profile.embedded_args),
                settings,
            )
        if plan.ratelimit is None:
            unknown = set(plan.keys) - {"main", "second", "zero_balance", "low_limit"}
            if unknown:
                raise ConfigError(f"unknown key role(s) {', '.join(sorted(unknown))}")
        tmp = shutdown.temp_dir("qbtsuite-load-")  # a keys file for the server
        try:
            args = [*profile.embedded_args, *_limiter_server_args(plan, tmp)]
            return _resolved(
                _Run(request, profile, plan, objectives, web, say), args, settings
            )
        except ServerStartError as exc:
            return LoadResult(ExitCode.INCOMPLETE, f"error: {exc}")
        finally:
            shutdown.remove_dir(tmp)
    except ConfigError as exc:
        return LoadResult(ExitCode.USAGE, f"error: {exc}")
    except TargetUnreachable as exc:
        return LoadResult(ExitCode.UNREACHABLE, f"error: target unreachable: {exc}")


def _limiter_overrides(profile: Profile, request: LoadRequest) -> Overrides:
    """Against ``--base-url`` the ratelimit profile needs the declared limit, and
    its window is the spec's minute unless ``--window`` says otherwise."""
    o = request.overrides
    if profile.plan.ratelimit is None or request.base_url is None:
        return o
    if o.declared_limit is None:
        raise ConfigError(
            "--declared-limit N is needed with --base-url: the per-window limit of "
            "the keys under test"
        )
    return o if o.window is not None else replace(o, window=60.0)


def _limiter_server_args(plan: Plan, folder: Path) -> list[str]:
    """The embedded server for the ratelimit profile: its window, and a keys file
    with every role the scenario uses (the server generates the key values)."""
    if plan.ratelimit is None:
        return []
    keys = folder / "keys.toml"
    keys.write_text(embedded_keys_toml(plan.ratelimit), encoding="utf-8")
    return ["--rate-window", f"{plan.ratelimit.window:g}", "--keys", str(keys)]


@dataclass(frozen=True, slots=True)
class _Run:
    """A load run whose input has been checked, before its target is known."""

    request: LoadRequest
    profile: Profile
    plan: Plan
    objectives: list[Objective]
    web: WebUI | None
    say: Callable[[str], None]


def _web(web: WebUI | None) -> WebUI | None:
    """The web UI's port settled: the one asked for (it must be free), or a free one."""
    if web is None:
        return None
    if web.port == 0:
        return WebUI(port=_free_port())
    if not 1 <= web.port <= 65535:
        raise ConfigError(f"--web-port {web.port}: a port is 1-65535")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((WebUI.host, web.port))
        except OSError as exc:
            raise ConfigError(
                f"--web-port {web.port}: cannot listen on {WebUI.host}:{web.port} "
                f"({exc.strerror})"
            ) from None
    return web


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((WebUI.host, 0))
        port: int = sock.getsockname()[1]
        return port


def _check_output(folder: Path) -> None:
    """``--output`` is the run folder itself: new, or an empty folder (samples are
    appended, so an earlier run's files would mix into this one's figures)."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ConfigError(
            f"--output {folder} is not an empty folder: name a new one, or give "
            "--reports-dir for a fresh <UTC time>-load-<profile> folder under it"
        )


def _run_dir(request: LoadRequest, profile: str) -> Path:
    if request.output is None:
        return fresh_run_dir(request.reports_dir, f"load-{profile}")
    _check_output(request.output)
    try:
        request.output.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot create the run folder {request.output}: {exc.strerror}"
        ) from None
    return request.output.resolve()


def _resolved(run: _Run, server_args: list[str], settings: Settings) -> LoadResult:
    """Resolve the target (starting the embedded server if need be), then run."""
    if not settings.needs_embedded:  # a missing key is found before anything is sent
        load_target(settings.target(require_key=False), run.plan.keys)
    spec = EmbeddedSpec(server_args=tuple(server_args))
    with resolve(settings, spec, require_key=False, choose_models=False) as resolved:
        target = load_target(resolved.target, run.plan.keys)
        return _with_target(run, server_args, target)


def _with_target(run: _Run, server_args: list[str], target: LoadTarget) -> LoadResult:
    run_dir = _run_dir(run.request, run.profile.name)
    stop = run_dir / _STOP_FILE
    plan = run.plan.with_changes(
        base_url=target.base_url,
        ca=target.ca,
        samples_path=str((run_dir / "samples.jsonl").resolve()),
        stop_path=str(stop.resolve()) if run.request.slo_abort else "",
    )
    (run_dir / "plan.json").write_text(plan.to_json() + "\n", encoding="utf-8")
    watch = None
    if run.request.slo_abort:
        watch = _abort_watch(plan, run.objectives, run_dir / "samples.jsonl")
    if run.web is not None:
        run.say(
            f"web UI: {run.web.url} (the run ends by itself; headless without --web)"
        )
    started = dt.datetime.now(dt.UTC)
    try:
        locust = run_locust(
            plan, target.keys, run_dir, run.request.workers, web=run.web, watch=watch
        )
    finally:
        stop.unlink(missing_ok=True)
    facts = {
        "base_url": target.base_url,
        "embedded": target.embedded,
        "embedded_args": _shown(server_args) if target.embedded else [],
    }
    done = finish(
        run_dir, plan, run.objectives, facts, locust, run.request.workers, started
    )
    return LoadResult(done.exit_code, done.message, run_dir, done.report)


def _abort_watch(
    plan: Plan, objectives: list[Objective], samples: Path
) -> Callable[[], Abort | None]:
    """Read the new samples and judge them: the first SLO beyond recovery, or None."""
    watch, tail = AbortWatch(plan, objectives), SamplesTail(samples)

    def check() -> Abort | None:
        watch.feed(tail.read())
        return watch.check(time.time())

    return check


def _shown(args: list[str]) -> list[str]:
    """Server options as recorded: a temporary keys file is named, not pointed to."""
    out = list(args)
    for i, arg in enumerate(out[:-1]):
        if arg == "--keys":
            out[i + 1] = "keys.toml (generated; roles and limits only)"
    return out


def analyse(run_dir: Path, slo: tuple[str, ...] = ()) -> LoadResult:
    """Report on a folder with ``plan.json`` and ``samples.jsonl`` from elsewhere.

    The SLOs are the profile's (when it is a shipped one) plus ``slo``.
    """
    try:
        try:
            plan = Plan.from_json((run_dir / "plan.json").read_text("utf-8"))
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise ConfigError(f"no usable plan.json in {run_dir}: {exc}") from None
        if not (run_dir / "samples.jsonl").is_file():
            raise ConfigError(f"no samples.jsonl in {run_dir}")
        try:
            defaults = load_profile(plan.profile).slo
        except ConfigError:
            defaults = ()
        objectives = parse_objectives(defaults + slo)
    except ConfigError as exc:
        return LoadResult(ExitCode.USAGE, f"error: {exc}")
    processes = read_samples(run_dir / "samples.jsonl").processes
    workers = processes if processes > 1 else 0
    target: dict[str, Any] = {"base_url": plan.base_url, "embedded": False}
    locust = LocustRun(exit_code=0, timed_out=False, seconds=0.0, worker_exit_codes=())
    try:  # a folder reported before keeps what only the run itself knew
        before = read_report(run_dir)
        target = before["target"]
        gen = before["generator"]
        aborted = before.get("aborted")
        stopped = before.get("interrupted") or {}
        locust = LocustRun(
            gen["locust_exit_code"],
            gen["timed_out"],
            gen["seconds"],
            tuple(gen["worker_exit_codes"]),
            web_url=gen.get("web_ui"),
            aborted=None if aborted is None else Abort.from_json(aborted),
            interrupted_by=signal.Signals[stopped["signal"]] if stopped else None,
            interrupted_at=stopped.get("at"),
        )
    except (OSError, ValueError, KeyError, TypeError):
        pass
    done = finish(run_dir, plan, objectives, target, locust, workers)
    return LoadResult(done.exit_code, done.message, run_dir, done.report)
