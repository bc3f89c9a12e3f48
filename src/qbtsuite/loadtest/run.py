"""One load run from start to verdict, outside of Locust.

Order: read the profile and the SLOs (bad input fails before anything starts), settle
the target (embedded reference server, or a confirmed URL with keys from the
environment), probe it once, make the run folder, run Locust in child processes,
then compute the figures from the exact samples, judge the SLOs and write the report.

:func:`analyse` does the last part only, for a run folder that already holds
``plan.json`` and ``samples.jsonl``.

Exit codes (distinct from the conformance run's 1 = a MUST failed):
0 every SLO met; 2 usage or configuration error; 3 target unreachable;
4 internal error (the load generator crashed or produced no samples); 5 an SLO was
breached.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from qbtsuite.errors import ConfigError, ServerStartError, TargetUnreachable
from qbtsuite.exitcodes import ExitCode
from qbtsuite.loadtest.finish import finish
from qbtsuite.loadtest.plan import Plan
from qbtsuite.loadtest.processes import LocustRun, run_locust
from qbtsuite.loadtest.profile import Overrides, Profile, load_profile, resolve_plan
from qbtsuite.loadtest.ratelimit.settings import embedded_keys_toml
from qbtsuite.loadtest.report import read_report
from qbtsuite.loadtest.samples import read_samples
from qbtsuite.loadtest.slo import Objective, parse_objectives
from qbtsuite.loadtest.target import LoadTarget, check_base_url, load_target
from qbtsuite.target.config import Settings, load_settings
from qbtsuite.target.resolve import EmbeddedSpec, resolve

__all__ = [
    "LoadRequest",
    "LoadResult",
    "analyse",
    "run_load",
]

MAX_WORKERS = 64


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
    output: Path = Path("reports")


@dataclass(frozen=True, slots=True)
class LoadResult:
    """How the run ended; ``report`` is the content of ``load.json`` when written."""

    exit_code: int
    message: str
    run_dir: Path | None = None
    report: dict[str, Any] | None = None


def run_load(request: LoadRequest) -> LoadResult:
    """Run the load described by ``request``; never raises for bad input."""
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
                request,
                profile,
                list(profile.embedded_args),
                plan,
                objectives,
                settings,
            )
        if plan.ratelimit is None:
            unknown = set(plan.keys) - {"main", "second", "zero_balance", "low_limit"}
            if unknown:
                raise ConfigError(f"unknown key role(s) {', '.join(sorted(unknown))}")
        with tempfile.TemporaryDirectory(prefix="qbtsuite-load-") as tmp:
            args = [*profile.embedded_args, *_limiter_server_args(plan, Path(tmp))]
            try:
                return _resolved(request, profile, args, plan, objectives, settings)
            except ServerStartError as exc:
                return LoadResult(ExitCode.INCOMPLETE, f"error: {exc}")
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


def _run_dir(output: Path, profile: str) -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = output / f"{stamp}-load-{profile}"
    candidate, n = base, 1
    while True:
        try:
            candidate.mkdir(parents=True)
            return candidate
        except FileExistsError:
            n += 1
            candidate = base.with_name(f"{base.name}-{n}")


def _resolved(
    request: LoadRequest,
    profile: Profile,
    server_args: list[str],
    plan: Plan,
    objectives: list[Objective],
    settings: Settings,
) -> LoadResult:
    """Resolve the target (starting the embedded server if need be), then run."""
    if not settings.needs_embedded:  # a missing key is found before anything is sent
        load_target(settings.target(require_key=False), plan.keys)
    spec = EmbeddedSpec(server_args=tuple(server_args))
    with resolve(settings, spec, require_key=False, choose_models=False) as resolved:
        target = load_target(resolved.target, plan.keys)
        return _with_target(request, profile, server_args, plan, objectives, target)


def _with_target(
    request: LoadRequest,
    profile: Profile,
    server_args: list[str],
    plan: Plan,
    objectives: list[Objective],
    target: LoadTarget,
) -> LoadResult:
    try:
        run_dir = _run_dir(request.output, profile.name)
    except OSError as exc:
        raise ConfigError(
            f"cannot create the run folder in {request.output}: {exc.strerror}"
        ) from None
    plan = plan.with_changes(
        base_url=target.base_url,
        ca=target.ca,
        samples_path=str((run_dir / "samples.jsonl").resolve()),
    )
    (run_dir / "plan.json").write_text(plan.to_json() + "\n", encoding="utf-8")
    started = dt.datetime.now(dt.UTC)
    locust = run_locust(plan, target.keys, run_dir, request.workers)
    facts = {
        "base_url": target.base_url,
        "embedded": target.embedded,
        "embedded_args": _shown(server_args) if target.embedded else [],
    }
    done = finish(run_dir, plan, objectives, facts, locust, request.workers, started)
    return LoadResult(done.exit_code, done.message, run_dir, done.report)


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
        locust = LocustRun(
            gen["locust_exit_code"],
            gen["timed_out"],
            gen["seconds"],
            tuple(gen["worker_exit_codes"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        pass
    done = finish(run_dir, plan, objectives, target, locust, workers)
    return LoadResult(done.exit_code, done.message, run_dir, done.report)
