"""The suite through a gateway that throttles every key, the main key too.

A 429 of a key a test does not mean to exhaust is no evidence: the run waits its
Retry-After out and sends again (a short window: everything is judged), or, past
``--max-throttle-wait``, leaves those tests without a verdict and ends incomplete,
saying what to set. Never does a requirement pass, fail or warn on such a 429.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.gateways.conftest import emulator
from tests.gateways.options import GatewayOptions
from tests.gateways.suiterun import SuiteRun, run_suite

VERDICTS = ("pass", "fail", "warn")


def _results(run: SuiteRun) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((run.run_dir / "results.json").read_text())
    return data


def _judged_on_unresolved_throttles(results: dict[str, Any]) -> list[str]:
    """Tests with a verdict although a throttle of theirs was not waited out."""
    return [
        nodeid
        for nodeid, test in results["tests"].items()
        if any(not e["resolved"] for e in test.get("throttle", []))
        and any(r["outcome"] in VERDICTS for r in test["requirements"].values())
    ]


@pytest.mark.slow
def test_throttles_with_a_short_retry_after_are_waited_out_and_every_check_judged(
    upstream_info: Path, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    options = GatewayOptions(throttle_rpm=3, throttle_window=2.0)
    with emulator(upstream_info, tmp_path_factory, options) as gw:
        run = run_suite(gw, tmp_path / "run", args=("--area", "completions"))
    results = _results(run)
    assert run.exit_code == 0, f"Received: exit {run.exit_code}\n{run.terminal[-1500:]}"
    totals = results["throttle"]
    assert totals["answers"] > 0 and totals["unresolved"] == 0, f"Received: {totals}"
    notes = [n for t in results["tests"].values() for n in t["notes"]]
    assert any(n.startswith("throttled: waited") for n in notes), notes
    assert results["flakes"] == []  # a throttle is never a retry of the 5xx policy
    assert "throttle waited" in run.terminal


@pytest.mark.slow
def test_a_main_key_throttled_past_the_wait_bound_ends_incomplete_without_a_verdict(
    upstream_info: Path, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    options = GatewayOptions(throttle_rpm=3, throttle_window=60.0)
    args = ("--area", "completions", "--area", "auth", "--max-throttle-wait", "3")
    with emulator(upstream_info, tmp_path_factory, options) as gw:
        run = run_suite(gw, tmp_path / "run", args=args)
    results = _results(run)
    assert run.exit_code == 4, f"Received: exit {run.exit_code}\n{run.terminal[-1500:]}"
    assert _judged_on_unresolved_throttles(results) == []
    messages = [
        (rid, m)
        for rid, r in results["requirements"].items()
        if r["outcome"] in VERDICTS
        for m in r["messages"]
        if "429" in m
    ]
    assert messages == [], f"Received: verdicts on 429 evidence {messages}"
    assert results["requirements"]["AUTH-001"]["outcome"] == "pass"  # no key needed
    line = next(ln for ln in run.terminal.splitlines() if ln.startswith("throttled"))
    assert "the main key answered 429" in line and "QBTSUITE_MAIN_KEY_RPM" in line
