"""From a finished run folder (``plan.json`` + ``samples.jsonl``) to a verdict.

Computes the figures, judges the SLOs (and, for the ratelimit profile, the limiter
checks), draws the plots and writes ``load.json``, ``load.md``, ``load.html``,
``summary.md`` and ``report.html``. Used right after ``qbtsuite load`` ran Locust, and by
``qbtsuite load --analyse DIR`` for a folder whose samples came from elsewhere (a
master with workers on several machines).

A run ended early by ``--slo-abort`` is judged over what it sent: its window ends
where it was aborted, and ``load.json`` says why (``aborted``). A run stopped by SIGTERM
or SIGINT is reported over the samples so far, with the verdict ``interrupted``
(``interrupted``: the signal, and when), whatever its SLOs say; exit 143 / 130.

Exit codes: 0 every SLO met (and every limiter check passed); 3 the target answered
none of the requests (every one timed out, was refused or reset, or got no complete
answer: there is nothing to measure, and "SLO breached" would blame the wrong party);
4 the load generator failed (crashed, timed out or recorded nothing); 5 an SLO was
breached (an aborted run included); 6 a limiter check failed (ratelimit profile; it
wins over 5, the limiter being what that profile is for); 143 / 130 interrupted
(SIGTERM / SIGINT; it wins over every other).
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import signal
from collections import Counter
from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import Any

from qbtsuite.exitcodes import ExitCode
from qbtsuite.loadtest.plan import Plan
from qbtsuite.loadtest.processes import LocustRun
from qbtsuite.loadtest.ratelimit.judge import judge
from qbtsuite.loadtest.ratelimit.verdict import CheckVerdict
from qbtsuite.loadtest.report import write_report
from qbtsuite.loadtest.samples import SampleOutcome, SampleSet, read_samples
from qbtsuite.loadtest.slo import Objective, Verdict, evaluate
from qbtsuite.loadtest.stats import Window, figures, timeline
from qbtsuite.process import shutdown

__all__ = [
    "Finished",
    "LoadVerdict",
    "finish",
]


class LoadVerdict(StrEnum):
    """The load run's one-word answer in ``load.json`` (its exit code beside it)."""

    PASS = "pass"
    SLO_BREACHED = "slo-breached"
    RATELIMIT_FAILED = "ratelimit-failed"
    INTERNAL_ERROR = "internal-error"
    TARGET_NOT_ANSWERING = "target-not-answering"  # no request got a complete answer
    INTERRUPTED = "interrupted"  # SIGTERM/SIGINT: the samples so far, no verdict


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
    planned = plan.duration
    if locust.aborted is not None:
        plan = plan.truncated(locust.aborted.at_s)
    stopped_at = _interrupted_at(locust, sset)
    if stopped_at is not None:
        plan = plan.truncated(stopped_at)
    if not sset.samples:
        if locust.interrupted_by is not None:
            return Finished(
                shutdown.exit_code_for(locust.interrupted_by),
                f"interrupted by {signal.Signals(locust.interrupted_by).name} "
                "before any request was recorded",
            )
        return Finished(
            ExitCode.INCOMPLETE,
            f"error: the load generator recorded no requests (exit code "
            f"{locust.exit_code}); see {run_dir / 'locust.log'}",
        )
    figs = figures(sset, plan)
    verdicts = evaluate(objectives, figs)
    # An interrupted run is reported without plots: drawing takes seconds of the 5 s
    # a stop may take.
    draw = locust.interrupted_by is None
    limiter = _limiter(run_dir, plan, sset, figs["window"]["t0"], draw)
    report = _report(plan, target, figs, verdicts, locust, sset, workers, limiter)
    if locust.aborted is not None:
        report["aborted"] = locust.aborted.to_json() | {"planned_s": planned}
    if locust.interrupted_by is not None:
        report["interrupted"] = {
            "signal": signal.Signals(locust.interrupted_by).name,
            "at_s": None if stopped_at is None else round(stopped_at, 3),
            "at": locust.interrupted_at,
            "planned_s": planned,
        }
    if started is not None:
        report["started"] = started.isoformat(timespec="seconds")
    report["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    last = max(s["t"] for s in sset.samples)
    window = Window(figs["window"]["t0"], plan, last)
    measured = [s for s in sset.samples if window.holds(s)]
    if plan.ratelimit is None and draw:  # the ratelimit profile draws its own
        # matplotlib costs most of a second to import: only the runs that draw pay it.
        from qbtsuite.loadtest.plots import write_plots

        report["files"]["plots"] = write_plots(
            run_dir, timeline(sset, window.t0), measured, plan
        )
    write_report(run_dir, report)
    if report["verdict"] == "target-not-answering":
        return Finished(report["exit_code"], _unanswered_message(sset), report)
    return Finished(report["exit_code"], _message(report, locust), report)


def _interrupted_at(locust: LocustRun, sset: SampleSet) -> float | None:
    """Seconds after t0 when the run was interrupted (None: it was not, or unknown)."""
    if locust.interrupted_at is None or sset.t0 is None:
        return None
    return max(locust.interrupted_at - sset.t0, 0.0)


def _limiter(
    run_dir: Path, plan: Plan, sset: SampleSet, t0: float, draw: bool = True
) -> dict[str, Any] | None:
    """The ratelimit section (with one timeline plot per key if ``draw``), or None."""
    if plan.ratelimit is None:
        return None
    section = judge(sset.samples, plan.ratelimit, t0)
    if draw:  # matplotlib is imported by the runs that draw only (most of a second)
        from qbtsuite.loadtest.ratelimit.plot import plot_file, write_timeline
    for subject, key in section["keys"].items() if draw else ():
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
    breached = any(not v.passed for v in verdicts) or locust.aborted is not None
    limited = limiter is not None and bool(limiter["failed"])
    if locust.interrupted_by is not None:
        code = shutdown.exit_code_for(locust.interrupted_by)
        verdict = LoadVerdict.INTERRUPTED
    elif broken:
        code, verdict = ExitCode.INCOMPLETE, LoadVerdict.INTERNAL_ERROR
    elif not _answered(sset):
        code, verdict = ExitCode.UNREACHABLE, LoadVerdict.TARGET_NOT_ANSWERING
    elif limited:
        code, verdict = ExitCode.LIMITER_FAILED, LoadVerdict.RATELIMIT_FAILED
    elif breached:
        code, verdict = ExitCode.SLO_BREACHED, LoadVerdict.SLO_BREACHED
    else:
        code, verdict = ExitCode.OK, LoadVerdict.PASS
    plan_data = asdict(plan)
    for private in ("base_url", "ca", "samples_path", "stop_path"):
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
            "web_ui": locust.web_url,
            "seconds": round(locust.seconds, 3),
            "processes_reported": len(sset.done),
            "samples_complete": sset.complete,
            "unreadable_sample_lines": sset.unreadable_lines,
        },
        **figs,
        "slo": [v.to_json() for v in verdicts],
        **({"ratelimit": limiter} if limiter is not None else {}),
        "verdict": verdict.value,
        "exit_code": code,
        "files": {
            "samples": "samples.jsonl",
            "plan": "plan.json",
            "locust_csv": "locust_stats.csv",
            "locust_html": "locust.html",
            "junit": "junit.xml",
            "markdown": "load.md",
            "html": "load.html",
            "summary": "summary.md",
            "report": "report.html",
            "plots": {},
        },
    }


def _answered(sset: SampleSet) -> bool:
    """Whether any request got a complete answer (ok, rate-limited or failed)."""
    return any(s.get("outcome") != SampleOutcome.ERROR for s in sset.samples)


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
    if (
        not gen["samples_complete"]
        and not locust.timed_out
        and locust.interrupted_by is None
    ):
        message += (
            f" (warning: {gen['processes_reported']} of {gen['processes']} load "
            "processes delivered all their samples)"
        )
    return message


def _verdict_message(report: dict[str, Any], locust: LocustRun) -> str:
    stopped = report.get("interrupted")
    if stopped is not None:
        at = "" if stopped["at_s"] is None else f" at {stopped['at_s']:.1f} s"
        return (
            f"interrupted by {stopped['signal']}{at} of {stopped['planned_s']:g} s: "
            f"{report['samples']['total']} requests reported, no verdict"
        )
    if locust.timed_out:
        return "error: the load generator did not finish in time and was stopped"
    if locust.exit_code != 0:
        return (
            f"error: the load generator failed (Locust exit code {locust.exit_code}); "
            "see locust.log and locust_exceptions.csv"
        )
    failed = [v["slo"] for v in report["slo"] if not v["passed"]]
    aborted = report.get("aborted")
    if aborted is not None:
        head = (
            f"aborted at {aborted['at_s']:.1f} s of {aborted['planned_s']:g} s: "
            f"{aborted['reason']}"
        )
        return head + ("; SLO breached: " + ", ".join(failed) if failed else "")
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
            if check["verdict"] != CheckVerdict.INFO
        )
        listed = ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))
        return f"no rate-limit check failed ({listed})"
    return "all SLOs met" if report["slo"] else "done (no SLOs given)"
