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
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from qbtsuite.exitcodes import ExitCode
from qbtsuite.requirements import AREAS, load_catalogue
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

FAILED = ("fail", "warn")
VERDICTS = ("pass", "fail", "warn")
INCOMPLETE = "incomplete"
RUN_TIMEOUT = (
    600.0  # seconds for one run of the suite; a hung target cannot stall the matrix
)


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
    outcomes: dict[str, str] = field(default_factory=dict)
    problem: str = ""
    # Tests with a verdict although their answers were throttles not waited out.
    judged_on_throttle: list[str] = field(default_factory=list)

    @property
    def failing(self) -> set[str]:
        return {rid for rid, outcome in self.outcomes.items() if outcome in FAILED}

    @property
    def errors(self) -> set[str]:
        return {rid for rid, outcome in self.outcomes.items() if outcome == "error"}


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
    command = [
        *(sys.executable, "-m", "qbtsuite", "run", "--strict"),
        *("--output", str(output), *extra),
    ]
    for area in areas:
        command += ["--area", area]
    if fault is not None:
        command += ["--fault", fault]
    started = time.monotonic()
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        return RunResult(fault, tuple(areas), -1, RUN_TIMEOUT, problem="timed out")
    result = RunResult(fault, tuple(areas), done.returncode, time.monotonic() - started)
    results = output / "results.json"
    if not results.is_file():
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        result.problem = "no results.json: " + " | ".join(tail)
        return result
    data = json.loads(results.read_text(encoding="utf-8"))
    result.outcomes = {
        rid: str(r["outcome"]) for rid, r in data["requirements"].items()
    }
    result.judged_on_throttle = judged_on_throttle(data.get("tests") or {})
    return result


def judged_on_throttle(tests: dict[str, dict[str, object]]) -> list[str]:
    """Node ids of tests with a verdict on a requirement although a throttle of
    theirs was not waited out (the harness must have made them errors)."""
    found = []
    for nodeid, test in tests.items():
        events = test.get("throttle") or []
        lost = isinstance(events, list) and any(
            isinstance(e, dict) and not e.get("resolved") for e in events
        )
        requirements = test.get("requirements") or {}
        judged = isinstance(requirements, dict) and any(
            isinstance(r, dict) and r.get("outcome") in VERDICTS
            for r in requirements.values()
        )
        if lost and judged:
            found.append(nodeid)
    return sorted(found)


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

    with ThreadPoolExecutor(max_workers=workers) as pool:
        clean = pool.submit(one, None, ())
        # Longest first: rate-limit runs wait for windows, so start them early.
        order = sorted(plans, key=lambda p: "rate-limits" not in p.areas)
        futures = {p.name: pool.submit(one, p.name, p.areas) for p in order}
        rows = [Row(p, futures[p.name].result()) for p in plans]
        clean_result = clean.result()
    return Matrix(clean_result, rows, time.monotonic() - started)
