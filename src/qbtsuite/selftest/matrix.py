"""The fault matrix: the suite run against the reference server with each fault on.

A verdict is only worth something if it is right. For every fault of the server's
catalogue this runs ``qbtsuite run --fault NAME`` over the areas the fault touches and
compares the failing requirements with the ones the fault declares it breaks:

- caught: every declared requirement failed (``fail``, or ``warn`` for a SHOULD);
- missed: a declared requirement did not fail;
- collateral: a requirement outside the declaration failed — explained when the
  fault lists it as collateral, unexplained otherwise (a defect of the suite or of
  the fault's declaration).

A fault that ``expects="incomplete"`` (the main key throttled everywhere) leaves
nothing to judge: its run covers every area but the rate-limit scenario (which
spends other keys) and is caught when it ends incomplete
(exit 4), nothing fails, and no test whose answers were throttles not waited out
has a verdict (pass, fail or warn).

The clean server is run too, over every area: it must give no failure at all.

Each run is a child process in a group of its own (:func:`qbtsuite.process.shutdown.spawn`).
On SIGTERM or SIGINT every run under way gets SIGTERM (it stops its own server and
writes its results, marked interrupted), no new run starts, and the matrix stops with
:class:`~qbtsuite.process.shutdown.Interrupted`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from qbtsuite.errors import RunFileError
from qbtsuite.exitcodes import ExitCode
from qbtsuite.process import shutdown
from qbtsuite.requirements import AREAS, load_catalogue
from qbtsuite.results.model import TestRecord
from qbtsuite.results.outcomes import VIOLATIONS, Outcome
from qbtsuite.results.store import RESULTS_FILE, read_results
from qbtsuite.server.faults import load_faults

__all__ = [
    "INCOMPLETE",
    "FaultPlan",
    "Matrix",
    "Row",
    "RunResult",
    "judged_on_throttle",
    "plan_faults",
    "run_matrix",
]

INCOMPLETE = "incomplete"
# outcomes that are a verdict on a requirement (not error, skipped, not checked)
VERDICTS = frozenset({Outcome.PASS, Outcome.FAIL, Outcome.WARN})
RUN_TIMEOUT = (
    600.0  # seconds for one run of the suite; a hung target cannot stall the matrix
)
# A run told to stop stops its server and writes its reports first (qbtsuite run).
RUN_STOP_GRACE = 4.0


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """One fault and the areas its run covers."""

    name: str
    area: str
    breaks: tuple[str, ...]
    collateral: tuple[str, ...]
    invisible_because: str | None
    areas: tuple[str, ...]
    expects: str = "failures"  # or INCOMPLETE


@dataclass(slots=True)
class RunResult:
    """What one run of the suite observed."""

    fault: str | None
    areas: tuple[str, ...]
    exit_code: int
    seconds: float
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    problem: str = ""
    # Tests with a verdict although their answers were throttles not waited out.
    judged_on_throttle: list[str] = field(default_factory=list)

    @property
    def failing(self) -> set[str]:
        return {rid for rid, outcome in self.outcomes.items() if outcome in VIOLATIONS}

    @property
    def errors(self) -> set[str]:
        return {
            rid for rid, outcome in self.outcomes.items() if outcome == Outcome.ERROR
        }


@dataclass(slots=True)
class Row:
    """One line of the matrix: a fault, what it should break, what broke."""

    plan: FaultPlan
    run: RunResult

    @property
    def missed(self) -> list[str]:
        return sorted(set(self.plan.breaks) - self.run.failing)

    @property
    def explained(self) -> list[str]:
        return sorted(self.run.failing & set(self.plan.collateral))

    @property
    def unexplained(self) -> list[str]:
        declared = set(self.plan.breaks) | set(self.plan.collateral)
        return sorted(self.run.failing - declared)

    @property
    def status(self) -> str:
        if self.plan.expects == INCOMPLETE:
            return self._incomplete_status()
        if self.run.problem or self.run.errors:
            return "error"
        if self.missed:
            return "invisible" if self.plan.invisible_because else "missed"
        return "caught"

    def _incomplete_status(self) -> str:
        """Caught: no verdict given (exit 4), none resting on the fault's answers."""
        if self.run.problem:
            return "error"
        if (
            self.run.exit_code == ExitCode.INCOMPLETE
            and not self.run.failing
            and not self.run.judged_on_throttle
        ):
            return "caught"
        return "missed"


@dataclass(slots=True)
class Matrix:
    """The clean run and one row per fault."""

    clean: RunResult
    rows: list[Row]
    seconds: float

    @property
    def visible(self) -> list[Row]:
        return [r for r in self.rows if r.plan.invisible_because is None]

    @property
    def catch_rate(self) -> float:
        visible = self.visible
        caught = sum(r.status == "caught" for r in visible)
        return caught / len(visible) if visible else 1.0

    @property
    def ok(self) -> bool:
        clean_ok = (
            not self.clean.problem and not self.clean.failing and not self.clean.errors
        )
        rows_ok = all(
            r.status in ("caught", "invisible") and not r.unexplained for r in self.rows
        )
        return clean_ok and rows_ok


def plan_faults(names: Iterable[str] | None = None) -> list[FaultPlan]:
    """Plans for ``names`` (default: every fault), in catalogue order."""
    catalogue = load_catalogue()
    faults = load_faults()
    chosen = sorted(faults) if names is None else list(names)
    plans = []
    for name in chosen:
        cls = faults[name]
        ids = (*cls.breaks, *cls.collateral)
        areas = {catalogue.requirements[i].area for i in ids} | {cls.area}
        if cls.expects == INCOMPLETE:
            # Nothing may be judged on its answers anywhere; the rate-limit scenario
            # spends other keys and judges their throttles itself.
            areas = set(AREAS) - {"rate-limits"}
        plans.append(
            FaultPlan(
                name,
                cls.area,
                cls.breaks,
                cls.collateral,
                cls.invisible_because,
                tuple(sorted(areas)),
                cls.expects,
            )
        )
    return plans


def run_suite(
    fault: str | None, areas: Sequence[str], output: Path, extra: Sequence[str] = ()
) -> RunResult:
    """One ``qbtsuite run`` in a child process; its results.json read back."""
    # --strict: a fault that breaks only SHOULD requirements must fail the run too.
    # --overwrite: the matrix owns its folders; a rerun replaces, never reads, the
    # results an earlier matrix left there. --no-allure: the matrix reads
    # results.json only, and Allure's files cost every test a write.
    command = [
        *(sys.executable, "-m", "qbtsuite", "run", "--strict", "--overwrite"),
        "--no-allure",
        *("--output", str(output), *extra),
    ]
    for area in areas:
        command += ["--area", area]
    if fault is not None:
        command += ["--fault", fault]
    started = time.monotonic()
    child = shutdown.spawn(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        grace=RUN_STOP_GRACE,
    )
    try:
        out, err = child.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        return RunResult(fault, tuple(areas), -1, RUN_TIMEOUT, problem="timed out")
    finally:
        shutdown.stop(child)  # ended (or stopped): no longer a child to stop
    stdout, stderr = (b.decode("utf-8", "replace") for b in (out, err))
    result = RunResult(
        fault, tuple(areas), child.returncode, time.monotonic() - started
    )
    if not (output / RESULTS_FILE).is_file():
        tail = (stderr or stdout).strip().splitlines()[-3:]
        result.problem = "no results.json: " + " | ".join(tail)
        return result
    try:
        results = read_results(output)
    except (OSError, RunFileError) as exc:
        result.problem = f"unreadable results.json: {exc}"
        return result
    result.outcomes = {rid: r.outcome for rid, r in results.requirements.items()}
    result.judged_on_throttle = judged_on_throttle(results.tests)
    return result


def judged_on_throttle(tests: Mapping[str, TestRecord]) -> list[str]:
    """Node ids of tests with a verdict on a requirement although a throttle of
    theirs was not waited out (the harness must have made them errors)."""
    return sorted(
        nodeid
        for nodeid, test in tests.items()
        if any(not a.resolved for a in test.throttle)
        and any(c.outcome in VERDICTS for c in test.requirements.values())
    )


def run_matrix(
    plans: Sequence[FaultPlan],
    out_root: Path,
    *,
    jobs: int = 0,
    on_done: Callable[[RunResult], None] | None = None,
) -> Matrix:
    """Run the clean suite and each fault's, ``jobs`` at a time (0: one per CPU)."""
    workers = jobs or os.cpu_count() or 2
    started = time.monotonic()

    def one(fault: str | None, areas: Sequence[str]) -> RunResult:
        result = run_suite(fault, areas, out_root / (fault or "clean"))
        if on_done is not None:
            on_done(result)
        return result

    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        clean = pool.submit(one, None, ())
        # Longest first: rate-limit runs wait for windows, so start them early.
        order = sorted(plans, key=lambda p: "rate-limits" not in p.areas)
        futures = {p.name: pool.submit(one, p.name, p.areas) for p in order}
        rows = [Row(p, futures[p.name].result()) for p in plans]
        clean_result = clean.result()
    except KeyboardInterrupt:
        # No new run; those under way were told to stop (qbtsuite.process.shutdown) and end
        # once their child has, stopped when the signal handling block ends.
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return Matrix(clean_result, rows, time.monotonic() - started)
