"""Run ``qbtsuite run`` against an emulator, configured as a user of that gateway
would configure it, and read back the verdicts from ``results.json``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.gateways.harness import REPO_ROOT, RunningGateway

__all__ = ["RequirementVerdict", "SuiteRun", "run_suite", "suite_env"]

OUTCOMES = ("pass", "fail", "warn", "unsupported", "skipped", "error")
RUN_TIMEOUT = 1800.0


@dataclass(frozen=True)
class RequirementVerdict:
    id: str
    outcome: str
    level: str
    area: str
    messages: tuple[str, ...]


@dataclass(frozen=True)
class SuiteRun:
    exit_code: int
    totals: Mapping[str, int]
    verdicts: Mapping[str, RequirementVerdict]
    run_dir: Path
    terminal: str  # what the run printed (keys are redacted by the suite)

    def outcome(self, requirement: str) -> str:
        verdict = self.verdicts.get(requirement)
        return verdict.outcome if verdict else "absent"


def suite_env(
    gw: RunningGateway, models: Mapping[str, str] | None = None, low_limit_rpm: int = 30
) -> dict[str, str]:
    """The environment of a run against ``gw``: every key the upstream has, its CA, the
    redirect listener if there is one, and the models when the gateway renames them."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("QBTSUITE_", "QUBITTRON_"))
    }
    keys = gw.keys
    env.update(
        QUBITTRON_API_KEY=keys["main"],
        QBTSUITE_SECOND_KEY=keys["second"],
        QBTSUITE_ZERO_BALANCE_KEY=keys["zero_balance"],
        QBTSUITE_LOW_LIMIT_KEY=keys["low_limit"],
        QBTSUITE_RATE_LIMIT_RPM=str(low_limit_rpm),
        QBTSUITE_RATE_LIMIT_WINDOW=repr(gw.upstream.rate_window),
    )
    if gw.ca:
        env["QBTSUITE_CA_BUNDLE"] = gw.ca
    if gw.http_url:
        env["QBTSUITE_HTTP_URL"] = gw.http_url
    for endpoint, model in (models or {}).items():
        env[f"QBTSUITE_MODELS_{endpoint.upper()}"] = model
    return env


def _verdicts(results: Path) -> tuple[dict[str, int], dict[str, RequirementVerdict]]:
    raw = json.loads(results.read_text(encoding="utf-8"))
    totals = {name: int(raw["totals"].get(name, 0)) for name in OUTCOMES}
    verdicts = {
        rid: RequirementVerdict(
            rid,
            str(r["outcome"]),
            str(r["level"]),
            str(r["area"]),
            tuple(str(m) for m in r.get("messages", [])),
        )
        for rid, r in raw["requirements"].items()
    }
    return totals, verdicts


def run_suite(
    gw: RunningGateway,
    run_dir: Path,
    models: Mapping[str, str] | None = None,
    args: tuple[str, ...] = (),
) -> SuiteRun:
    """``qbtsuite run --base-url <gw>`` into ``run_dir``; bounded by RUN_TIMEOUT."""
    argv = [sys.executable, "-m", "qbtsuite", "run", "--base-url", gw.base_url]
    argv += ["--output", str(run_dir), "--overwrite", *args]  # a rerun replaces it
    done = subprocess.run(
        argv,
        cwd=REPO_ROOT,
        env=suite_env(gw, models),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )
    results = run_dir / "results.json"
    totals, verdicts = _verdicts(results) if results.exists() else ({}, {})
    return SuiteRun(
        done.returncode, totals, verdicts, run_dir, done.stdout + done.stderr
    )
