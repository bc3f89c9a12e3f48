"""One load run from start to verdict, outside of Locust.

Order: read the profile and the SLOs (bad input fails before anything starts), settle
the target (embedded reference server, or a confirmed URL with keys from the
environment), probe it once, make the run folder, run Locust in child processes,
then compute the figures from the exact samples, judge the SLOs and write the report.

Exit codes (distinct from the conformance run's 1 = a MUST failed):
0 every SLO met; 2 usage or configuration error; 3 target unreachable;
4 internal error (the load generator crashed or produced no samples); 5 an SLO was
breached.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from qbtsuite.embedded import EmbeddedServer, ServerStartError
from qbtsuite.errors import ConfigError, TargetUnreachable
from qbtsuite.loadlocust import LocustRun, run_locust
from qbtsuite.loadplan import Plan
from qbtsuite.loadplots import write_plots
from qbtsuite.loadprofile import Overrides, Profile, load_profile, resolve_plan
from qbtsuite.loadreport import write_report
from qbtsuite.loadsamples import SampleSet, read_samples
from qbtsuite.loadslo import Objective, Verdict, evaluate, parse_objectives
from qbtsuite.loadstats import Window, figures, timeline
from qbtsuite.loadtarget import LoadTarget, probe, remote

__all__ = [
    "EXIT_CONFIG",
    "EXIT_INTERNAL",
    "EXIT_OK",
    "EXIT_SLO",
    "EXIT_UNREACHABLE",
    "LoadRequest",
    "LoadResult",
    "run_load",
]

EXIT_OK, EXIT_CONFIG, EXIT_UNREACHABLE, EXIT_INTERNAL, EXIT_SLO = 0, 2, 3, 4, 5
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
        plan = resolve_plan(profile, request.overrides)
        objectives = parse_objectives(profile.slo + request.slo)
        if not 0 <= request.workers <= MAX_WORKERS:
            raise ConfigError(f"--workers must be between 0 and {MAX_WORKERS}")
        if request.base_url is not None:
            target = remote(
                request.base_url, request.confirm_target, plan.keys, request.ca
            )
            return _with_target(request, profile, plan, objectives, target)
        unknown = set(plan.keys) - {"main", "second", "zero_balance", "low_limit"}
        if unknown:
            raise ConfigError(f"unknown key role(s) {', '.join(sorted(unknown))}")
        try:
            with EmbeddedServer(args=profile.embedded_args) as server:
                target = LoadTarget(server.https_url, server.ca, server.keys, True)
                return _with_target(request, profile, plan, objectives, target)
        except ServerStartError as exc:
            return LoadResult(EXIT_INTERNAL, f"error: {exc}")
    except ConfigError as exc:
        return LoadResult(EXIT_CONFIG, f"error: {exc}")
    except TargetUnreachable as exc:
        return LoadResult(EXIT_UNREACHABLE, f"error: {exc}")


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


def _with_target(
    request: LoadRequest,
    profile: Profile,
    plan: Plan,
    objectives: list[Objective],
    target: LoadTarget,
) -> LoadResult:
    probe(target)
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
    sset = read_samples(run_dir / "samples.jsonl")
    if not sset.samples:
        return LoadResult(
            EXIT_INTERNAL,
            f"error: the load generator recorded no requests (exit code "
            f"{locust.exit_code}); see {run_dir / 'locust.log'}",
            run_dir,
        )
    figs = figures(sset, plan)
    verdicts = evaluate(objectives, figs)
    report = _report(profile, plan, target, figs, verdicts, locust, sset, request)
    report["started"] = started.isoformat(timespec="seconds")
    report["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    window = Window(figs["window"]["t0"], plan)
    measured = [s for s in sset.samples if window.holds(s)]
    report["files"]["plots"] = write_plots(
        run_dir, timeline(sset, window.t0), measured, plan
    )
    write_report(run_dir, report)
    return LoadResult(report["exit_code"], _message(report, locust), run_dir, report)


def _report(
    profile: Profile,
    plan: Plan,
    target: LoadTarget,
    figs: dict[str, Any],
    verdicts: list[Verdict],
    locust: LocustRun,
    sset: SampleSet,
    request: LoadRequest,
) -> dict[str, Any]:
    broken = locust.exit_code != 0 or locust.timed_out
    breached = any(not v.passed for v in verdicts)
    code = EXIT_INTERNAL if broken else EXIT_SLO if breached else EXIT_OK
    verdict = "internal-error" if broken else "slo-breached" if breached else "pass"
    plan_data = asdict(plan)
    for private in ("base_url", "ca", "samples_path"):
        plan_data.pop(private)
    plan_data["open_loop"] = plan.open_loop
    return {
        "schema": "qbtsuite-load/1",
        "profile": profile.name,
        "description": plan.description,
        "target": {
            "base_url": target.base_url,
            "embedded": target.embedded,
            "embedded_args": list(profile.embedded_args) if target.embedded else [],
        },
        "plan": plan_data,
        "generator": {
            "locust_version": _version("locust"),
            "qbtsuite_version": _version("qbtsuite"),
            "processes": max(request.workers, 1),
            "workers": request.workers,
            "locust_exit_code": locust.exit_code,
            "worker_exit_codes": list(locust.worker_exit_codes),
            "timed_out": locust.timed_out,
            "seconds": round(locust.seconds, 3),
            "processes_reported": len(sset.done),
            "samples_complete": sset.complete,
            "unreadable_sample_lines": sset.unreadable_lines,
        },
        **figs,
        "slo": [v.to_json() for v in verdicts],
        "verdict": verdict,
        "exit_code": code,
        "files": {
            "samples": "samples.jsonl",
            "plan": "plan.json",
            "locust_csv": "locust_stats.csv",
            "locust_html": "locust.html",
            "markdown": "load.md",
            "html": "load.html",
            "plots": {},
        },
    }


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _message(report: dict[str, Any], locust: LocustRun) -> str:
    if locust.timed_out:
        return "error: the load generator did not finish in time and was stopped"
    if locust.exit_code != 0:
        return (
            f"error: the load generator failed (Locust exit code {locust.exit_code}); "
            "see locust.log and locust_exceptions.csv"
        )
    failed = [v["slo"] for v in report["slo"] if not v["passed"]]
    if failed:
        return "SLO breached: " + ", ".join(failed)
    return "all SLOs met" if report["slo"] else "done (no SLOs given)"
