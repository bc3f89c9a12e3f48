"""What an interrupted run writes: the verdict ``interrupted``, never ``conformant``.

A conformance run stopped by a signal keeps the records of the tests that ran, says
``interrupted`` (with the signal) in ``results.json`` and every report, and lists what
never ran in ``not_checked``. A load run stopped by a signal reports the samples so
far with the verdict ``interrupted`` and exit code 143 / 130, and judges nothing.
"""

from __future__ import annotations

import json
import signal
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from qbtsuite.errors import RunFileError
from qbtsuite.loadtest.finish import finish
from qbtsuite.loadtest.plan import Plan, Stage
from qbtsuite.loadtest.processes import LocustRun
from qbtsuite.loadtest.slo import parse_objectives
from qbtsuite.reporting.html import render_html
from qbtsuite.reporting.summary_md import render_summary_md
from qbtsuite.reporting.terminal import render_terminal_summary
from qbtsuite.results.model import Interruption, RunResults
from qbtsuite.results.outcomes import Outcome, Verdict
from qbtsuite.results.records import merge_records, verdict_of
from qbtsuite.results.store import (
    append_record,
    read_records,
    read_results,
    write_results,
)
from qbtsuite.schemas import validate
from tests.harness.synthetic import CATALOGUE_ENTRIES, FACTS, record


def _interrupted(
    *, fail: bool = False, signal_name: str | None = "SIGTERM"
) -> RunResults:
    records = [
        record("test_auth.py::test_missing_key", "auth", {"AUTH-001": Outcome.PASS}),
        record(
            "test_auth.py::test_unknown_key",
            "auth",
            {"AUTH-002": Outcome.FAIL if fail else Outcome.PASS},
        ),
    ]
    return merge_records(
        records, CATALOGUE_ENTRIES, FACTS, interrupted=Interruption(signal_name)
    )


@pytest.mark.parametrize("fail", [False, True], ids=["all-passed", "one-failed"])
def test_an_interrupted_run_is_never_conformant_whatever_its_tests_found(
    fail: bool,
) -> None:
    results = _interrupted(fail=fail)
    assert results.verdict == Verdict.INTERRUPTED, (
        f"Received: {results.verdict}\nExpected: interrupted"
    )
    assert set(results.not_checked) == set(CATALOGUE_ENTRIES) - {"AUTH-001", "AUTH-002"}
    assert verdict_of({Outcome.PASS: 3}, strict=False, interrupted=True) == (
        Verdict.INTERRUPTED
    )


def test_an_interrupted_results_file_validates_and_reads_back_unchanged(
    tmp_path: Path,
) -> None:
    results = _interrupted()
    write_results(tmp_path, results)
    data = json.loads((tmp_path / "results.json").read_text("utf-8"))
    assert data["verdict"] == "interrupted"
    assert data["interrupted"] == {"signal": "SIGTERM"}
    assert validate("results.schema", data) == []
    assert read_results(tmp_path) == results


def test_a_finished_run_writes_no_interrupted_member(tmp_path: Path) -> None:
    results = merge_records([], CATALOGUE_ENTRIES, FACTS)
    write_results(tmp_path, results)
    data = json.loads((tmp_path / "results.json").read_text("utf-8"))
    assert "interrupted" not in data and data["verdict"] != "interrupted"


@pytest.mark.parametrize(
    ("verdict", "interrupted"),
    [("interrupted", None), ("conformant", {"signal": "SIGTERM"})],
    ids=["verdict-without-member", "member-without-verdict"],
)
def test_the_schema_ties_the_interrupted_verdict_to_its_member(
    tmp_path: Path, verdict: str, interrupted: dict[str, str] | None
) -> None:
    write_results(tmp_path, _interrupted())
    data = json.loads((tmp_path / "results.json").read_text("utf-8"))
    data["verdict"] = verdict
    data.pop("interrupted")
    if interrupted is not None:
        data["interrupted"] = interrupted
    assert validate("results.schema", data), "Received: valid\nExpected: a violation"


def test_every_report_of_an_interrupted_run_says_so_and_counts_what_never_ran() -> None:
    results = _interrupted()
    missing = len(results.not_checked)
    line = f"Interrupted by SIGTERM before every test ran: {missing} requirement(s)"
    for name, text in (
        ("summary.md", render_summary_md(results)),
        ("report.html", render_html(results)),
        ("terminal", render_terminal_summary(results)),
    ):
        assert line in text, f"Received: {name} without {line!r}"
    assert "verdict  interrupted" in render_terminal_summary(results)


def test_a_record_cut_short_by_a_kill_is_dropped_but_a_broken_one_is_an_error(
    tmp_path: Path,
) -> None:
    whole = record("test_a.py::test_whole", "auth", {"AUTH-001": Outcome.PASS})
    append_record(tmp_path, whole)
    path = tmp_path / "local.jsonl"
    path.write_text(path.read_text() + '{"nodeid": "test_a.py::test_cut', "utf-8")
    assert [r.nodeid for r in read_records(tmp_path)] == [whole.nodeid]
    path.write_text('{"broken\n' + path.read_text(), "utf-8")
    with pytest.raises(RunFileError, match="is not JSON"):
        read_records(tmp_path)


# ─── load ────────────────────────────────────────────────────────────────────

T0 = 1_800_000_000.0


def _load_folder(tmp_path: Path, samples: int) -> Plan:
    plan = Plan(
        profile="smoke",
        base_url="https://127.0.0.1:1/v1",
        stages=(Stage(duration=60.0, users=2),),
        warmup=1.0,
    )
    lines: list[dict[str, Any]] = [{"kind": "start", "t0": T0, "processes": 1}]
    lines += [
        {
            "kind": "sample",
            "name": "chat",
            "key": "main",
            "proc": 0,
            "t": T0 + 1.5 + i * 0.1,
            "end": T0 + 1.55 + i * 0.1,
            "status": 200,
            "outcome": "ok",
            "e2e": 0.05,
            "attempt": 0,
        }
        for i in range(samples)
    ]
    text = "".join(json.dumps(line) + "\n" for line in lines)
    (tmp_path / "samples.jsonl").write_text(text, "utf-8")
    return plan


def _interrupted_locust(signum: int, at: float) -> LocustRun:
    return LocustRun(
        exit_code=-signal.SIGTERM,
        timed_out=False,
        seconds=at,
        worker_exit_codes=(),
        interrupted_by=signum,
        interrupted_at=T0 + at,
    )


@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)]
)
def test_an_interrupted_load_run_reports_its_samples_so_far_and_judges_nothing(
    tmp_path: Path, signum: int, code: int
) -> None:
    plan = _load_folder(tmp_path, samples=30)
    objectives = parse_objectives(["error_rate<1%", "e2e_p95<1ms"])  # the 2nd breached
    target = {"base_url": plan.base_url, "embedded": True}
    done = finish(
        tmp_path, plan, objectives, target, _interrupted_locust(signum, 5.0), 0
    )
    name = signal.Signals(signum).name
    assert done.exit_code == code, f"Received: exit {done.exit_code}\nExpected: {code}"
    report = json.loads((tmp_path / "load.json").read_text("utf-8"))
    assert report["verdict"] == "interrupted"
    assert report["interrupted"]["signal"] == name
    assert report["interrupted"]["at_s"] == pytest.approx(5.0)
    assert report["samples"]["total"] == 30
    assert report["window"]["measured_s"] == pytest.approx(4.0), "cut where it stopped"
    assert done.message.startswith(f"interrupted by {name} at 5.0 s of 60 s")
    for page in ("summary.md", "load.md"):
        assert f"**Interrupted** by {name}" in (tmp_path / page).read_text("utf-8")
    assert "Interrupted" in (tmp_path / "report.html").read_text("utf-8")
    assert not list(tmp_path.glob("*.png")), "an interrupted run draws no plots"
    suite = ET.parse(tmp_path / "junit.xml").getroot()
    errors = [e.get("type") for e in suite.iter("error")]
    assert errors == ["interrupted"], errors
    assert not list(suite.iter("failure")), "Received: an SLO judged on a cut run"
    assert len(list(suite.iter("skipped"))) == 2


def test_a_load_run_interrupted_before_its_first_request_says_so(
    tmp_path: Path,
) -> None:
    plan = _load_folder(tmp_path, samples=0)
    done = finish(tmp_path, plan, [], {}, _interrupted_locust(signal.SIGTERM, 0.5), 0)
    assert done.exit_code == 143
    assert done.message == "interrupted by SIGTERM before any request was recorded"
