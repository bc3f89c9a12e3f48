"""From a finished run folder (``plan.json`` + ``samples.jsonl``) to a verdict.

Computes the figures, judges the SLOs (and, for the ratelimit profile, the limiter
checks), draws the plots and writes ``load.json``, ``load.md``, ``load.html``,
``summary.md`` and ``report.html``. Used right after ``qbtsuite load`` ran Locust, and by
``qbtsuite load --analyse DIR`` for a folder whose samples came from elsewhere (a
master with workers on several machines).

Exit codes: 0 every SLO met (and every limiter check passed); 3 the target answered
none of the requests (every one timed out, was refused or reset, or got no complete
answer: there is nothing to measure, and "SLO breached" would blame the wrong party);
4 the load generator failed (crashed, timed out or recorded nothing); 5 an SLO was
breached; 6 a limiter check failed (ratelimit profile; it wins over 5, the limiter
being what that profile is for).
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any

from qbtsuite.exitcodes import ExitCode
from qbtsuite.loadtest.plan import Plan
from qbtsuite.loadtest.plots import write_plots
from qbtsuite.loadtest.processes import LocustRun
from qbtsuite.loadtest.ratelimit.judge import judge
from qbtsuite.loadtest.ratelimit.plot import plot_file, write_timeline
from qbtsuite.loadtest.ratelimit.verdict import INFO
from qbtsuite.loadtest.report import write_report
from qbtsuite.loadtest.samples import ERROR, SampleSet, read_samples
from qbtsuite.loadtest.slo import Objective, Verdict, evaluate
from qbtsuite.loadtest.stats import Window, figures, timeline

__all__ = [
    "Finished",
    "finish",
]


class Finished:
    """The outcome of :func:`finish`: exit code, one-line message, report (if any)."""

    def __init__(
        self, exit_code: int, message: str, report: dict[str, Any] | None = None
    ) -> None:
        self.exit_code = exit_code
        self.message = message
        self.report = report


def finish(
    run_dir: Path,
    plan: Plan,
    objectives: list[Objective],
    target: dict[str, Any],
    locust: LocustRun,
    workers: int,
    started: dt.datetime | None = None,
) -> Finished:
    """Read the samples of ``run_dir`` and write its report; see the module doc."""
    sset = read_samples(run_dir / "samples.jsonl")
    if not sset.samples:
        return Finished(
            ExitCode.INCOMPLETE,
            f"error: the load generator recorded no requests (exit code "
            f"{locust.exit_code}); see {run_dir / 'locust.log'}",
        )
    figs = figures(sset, plan)
    verdicts = evaluate(objectives, figs)
    limiter = _limiter(run_dir, plan, sset, figs["window"]["t0"])
    report = _report(plan, target, figs, verdicts, locust, sset, workers, limiter)
    if started is not None:
        report["started"] = started.isoformat(timespec="seconds")
    report["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    last = max(s["t"] for s in sset.samples)
    window = Window(figs["window"]["t0"], plan, last)
    measured = [s for s in sset.samples if window.holds(s)]
    if plan.ratelimit is None:  # the ratelimit profile draws its own timelines
        report["files"]["plots"] = write_plots(
            run_dir, timeline(sset, window.t0), measured, plan
        )
    write_report(run_dir, report)
    if report["verdict"] == "target-not-answering":
        return Finished(report["exit_code"], _unanswered_message(sset), report)
    return Finished(report["exit_code"], _message(report, locust), report)


def _limiter(
    run_dir: Path, plan: Plan, sset: SampleSet, t0: float
) -> dict[str, Any] | None:
    """The ratelimit section (with one timeline plot per key), or None."""
    if plan.ratelimit is None:
        return None
    section = judge(sset.samples, plan.ratelimit, t0)
    for subject, key in section["keys"].items():
        name = plot_file(subject)
        write_timeline(
            run_dir / name, subject, sset.samples, plan.ratelimit, t0, key["phases"]
        )
        key["plot"] = name
    return section


def _report(
    plan: Plan,
    target: dict[str, Any],
    figs: dict[str, Any],
    verdicts: list[Verdict],
    locust: LocustRun,
    sset: SampleSet,
    workers: int,
    limiter: dict[str, Any] | None = None,
) -> dict[str, Any]:
    broken = locust.exit_code != 0 or locust.timed_out
    breached = any(not v.passed for v in verdicts)
    limited = limiter is not None and bool(limiter["failed"])
    if broken:
        code, verdict = ExitCode.INCOMPLETE, "internal-error"
    elif not _answered(sset):
        code, verdict = ExitCode.UNREACHABLE, "target-not-answering"
    elif limited:
        code, verdict = ExitCode.LIMITER_FAILED, "ratelimit-failed"
    elif breached:
        code, verdict = ExitCode.SLO_BREACHED, "slo-breached"
    else:
        code, verdict = ExitCode.OK, "pass"
    plan_data = asdict(plan)
    for private in ("base_url", "ca", "samples_path"):
        plan_data.pop(private)
    plan_data["open_loop"] = plan.open_loop
    return {
        "schema": "qbtsuite-load/1",
        "profile": plan.profile,
        "description": plan.description,
        "target": target,
        "plan": plan_data,
        "generator": {
            "locust_version": _version("locust"),
            "qbtsuite_version": _version("qbtsuite"),
            "processes": max(workers, 1),
            "workers": workers,
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
        **({"ratelimit": limiter} if limiter is not None else {}),
        "verdict": verdict,
        "exit_code": code,
        "files": {
            "samples": "samples.jsonl",
            "plan": "plan.json",
            "locust_csv": "locust_stats.csv",
            "locust_html": "locust.html",
            "markdown": "load.md",
            "html": "load.html",
            "summary": "summary.md",
            "report": "report.html",
            "plots": {},
        },
    }


def _answered(sset: SampleSet) -> bool:
    """Whether any request got a complete answer (ok, rate-limited or failed)."""
    return any(s.get("outcome") != ERROR for s in sset.samples)


def _unanswered_message(sset: SampleSet) -> str:
    problems = Counter(str(s.get("problem") or "no answer") for s in sset.samples)
    common, count = problems.most_common(1)[0]
    return (
        f"error: target not answering: none of the {len(sset.samples)} requests got "
        f"a complete answer (most often: {common}, {count}×)"
    )


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _message(report: dict[str, Any], locust: LocustRun) -> str:
    gen = report["generator"]
    message = _verdict_message(report, locust)
    if not gen["samples_complete"] and not locust.timed_out:
        message += (
            f" (warning: {gen['processes_reported']} of {gen['processes']} load "
            "processes delivered all their samples)"
        )
    return message


def _verdict_message(report: dict[str, Any], locust: LocustRun) -> str:
    if locust.timed_out:
        return "error: the load generator did not finish in time and was stopped"
    if locust.exit_code != 0:
        return (
            f"error: the load generator failed (Locust exit code {locust.exit_code}); "
            "see locust.log and locust_exceptions.csv"
        )
    failed = [v["slo"] for v in report["slo"] if not v["passed"]]
    limiter = report.get("ratelimit")
    if limiter is not None and limiter["failed"]:
        message = "rate-limit check failed: " + ", ".join(limiter["failed"])
        return message + ("; SLO breached: " + ", ".join(failed) if failed else "")
    if failed:
        return "SLO breached: " + ", ".join(failed)
    if limiter is not None:
        counts = Counter(
            check["verdict"]
            for key in limiter["keys"].values()
            for check in key["checks"].values()
            if check["verdict"] != INFO
        )
        listed = ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))
        return f"no rate-limit check failed ({listed})"
    return "all SLOs met" if report["slo"] else "done (no SLOs given)"
