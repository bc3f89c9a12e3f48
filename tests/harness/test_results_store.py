"""The run folder's files: results.json, plan.json and the test records, read and
written in one place, in the documented layout (schemas/results.schema.json)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from qbtsuite.cli import main
from qbtsuite.errors import RunFileError
from qbtsuite.results.model import RequirementCheck, Retry, TargetSummary, TestRecord
from qbtsuite.results.outcomes import Outcome, Verdict
from qbtsuite.results.plan import Plan, PlannedTest, Spend, SpendTally
from qbtsuite.results.store import (
    append_record,
    read_plan,
    read_records,
    read_results,
    write_plan,
    write_results,
)
from qbtsuite.schemas import validate
from qbtsuite.target.config import Secret, TargetConfig
from tests.harness.synthetic import record, synthetic_results

FORMAT_1 = Path(__file__).parent / "data" / "results-format-1.json"


@pytest.mark.parametrize(
    ("strict", "profile", "fail"),
    [(False, "full", True), (False, "full", False), (True, "certify", False)],
)
def test_every_results_file_written_validates_against_the_schema_and_reads_back(
    tmp_path: Path, strict: bool, profile: str, fail: bool
) -> None:
    results = synthetic_results(strict=strict, profile=profile, fail=fail)
    path = write_results(tmp_path, results)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert validate("results.schema", data) == []
    assert read_results(tmp_path) == results
    assert read_results(path) == results  # the file itself, as `qbtsuite diff` allows


# Members added after the fixture was written: a file without them reads as their
# default, and is written with it.
TARGET_SETTINGS_ADDED_SINCE_FORMAT_1: dict[str, object] = {
    "embeddings_dimensions": None,
    "fetch_urls": True,
    "headers": {},
    "faults": [],
    "deadline": 30.0,
    "stream_deadline": 120.0,
    "max_body": 64 * 1024 * 1024,
    "max_headers": 64 * 1024,
    "no_answer_limit": 3,
    "main_key_rpm": None,
    "max_throttle_wait": 120.0,
}
FACTS_ADDED_SINCE_FORMAT_1: dict[str, object] = {
    "run_id": None,
    "identity": None,
    "models_listing": None,
    "throttle": {
        "waited": 0.0,
        "answers": 0,
        "unresolved": 0,
        "tests_without_evidence": [],
        "roles": [],
        "statuses": [],
        "paced": 0.0,
        "max_throttle_wait": None,
        "main_key_rpm": None,
    },
}
# Test record members added since: absent, nothing was throttled or paced.
TEST_RECORD_ADDED_SINCE_FORMAT_1: dict[str, object] = {"throttle": [], "paced": 0.0}
# Selection members added since: absent, they read as "none given".
SELECTION_ADDED_SINCE_FORMAT_1: dict[str, object] = {
    "skip_areas": [],
    "skip_requirements": [],
    "pytest_args": [],
    "faults": [],
}


def test_a_results_file_written_before_the_typed_records_reads_back_unchanged() -> None:
    text = FORMAT_1.read_text(encoding="utf-8")
    data = json.loads(text)
    assert validate("results.schema", data) == []
    results = read_results(FORMAT_1)
    assert results.verdict is Verdict.NOT_CONFORMANT
    assert results.requirements["AUTH-001"].outcome is Outcome.FAIL
    assert results.run.target is not None and results.run.target.key_roles
    again = results.to_json()
    target = again["target"]
    assert isinstance(target, dict)
    for name, default in TARGET_SETTINGS_ADDED_SINCE_FORMAT_1.items():
        assert target.pop(name) == default, name  # a later setting, at its default
    for name, default in FACTS_ADDED_SINCE_FORMAT_1.items():
        assert again.pop(name) == default, name
    tests = again["tests"]
    assert isinstance(tests, dict) and tests
    for test_record in tests.values():
        assert isinstance(test_record, dict)
        for name, default in TEST_RECORD_ADDED_SINCE_FORMAT_1.items():
            assert test_record.pop(name) == default, name
    selection = again["selection"]
    assert isinstance(selection, dict)
    for name, default in SELECTION_ADDED_SINCE_FORMAT_1.items():
        assert selection.pop(name) == default, name
    rewritten = json.dumps(again, indent=2, ensure_ascii=False) + "\n"
    assert rewritten == text  # the same layout, key order included


def test_an_earlier_run_folder_diffs_against_a_new_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = read_results(FORMAT_1)
    fixed = {
        rid: replace(r, outcome=Outcome.PASS) for rid, r in results.requirements.items()
    }
    write_results(tmp_path, replace(results, requirements=fixed))
    assert main(["diff", str(FORMAT_1), str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Newly passing (2):" in out and "AUTH-001" in out


def test_a_file_of_another_format_is_refused_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads(FORMAT_1.read_text(encoding="utf-8"))
    (tmp_path / "results.json").write_text(json.dumps({**data, "format": "other/9"}))
    with pytest.raises(RunFileError, match="not a qbtsuite results file"):
        read_results(tmp_path)
    assert main(["diff", str(FORMAT_1), str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "its format is 'other/9'" in err


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda d: d["requirements"]["AUTH-001"].update(outcome="broken"), "outcome"),
        (lambda d: d["totals"].update(fail="two"), "totals.fail"),
        (lambda d: d.pop("requirements"), "missing field 'requirements'"),
    ],
)
def test_a_malformed_results_file_names_the_field(
    tmp_path: Path, change: Callable[[dict[str, Any]], object], where: str
) -> None:
    data = json.loads(FORMAT_1.read_text(encoding="utf-8"))
    change(data)
    (tmp_path / "results.json").write_text(json.dumps(data))
    with pytest.raises(RunFileError, match=where):
        read_results(tmp_path)


def test_the_target_summary_describes_every_setting_of_the_target_and_no_key() -> None:
    key = "qbt_summary_canary_0123456789abcdef"
    config = TargetConfig(
        base_url="https://gw.example/v1",
        http_url="http://gw.example/v1",
        keys={"main": Secret(key), "second": Secret(key + "2")},
        models={"chat": "m", "images": None},
        rate_limit_rpm=30,
        capabilities=("images",),
    )
    summary = TargetSummary.of(config).to_json()
    # A new TargetConfig setting shows here: add it to TargetSummary and the schema.
    assert summary == config.redacted()
    assert key not in json.dumps(summary)


def test_records_append_one_line_per_test_and_read_back_sorted(tmp_path: Path) -> None:
    second = record("t.py::test_b", "auth", {"AUTH-001": Outcome.FAIL})
    first = replace(
        record("t.py::test_a", "streaming", {"SSE-001": Outcome.PASS}),
        worker="gw1",
        retries=(Retry("POST", "https://gw.example/v1/x", 1, "502", 1.0),),
    )
    append_record(tmp_path, second)
    append_record(tmp_path, first)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gw1.jsonl", "local.jsonl"]
    assert read_records(tmp_path) == [first, second]


def test_a_record_is_redacted_on_its_way_to_the_file(tmp_path: Path) -> None:
    from qbtsuite import redact

    key = "qbt_store_canary_0123456789abcdef"
    redact.register(key)
    leaky = TestRecord(
        nodeid="t.py::test_leak",
        area="auth",
        endpoint="all",
        worker="local",
        outcome=Outcome.FAIL,
        reason=f"sent {key}",
        requirements={"AUTH-001": RequirementCheck(Outcome.FAIL, (f"got {key}",))},
        started="2026-01-01T00:00:00Z",
        duration=0.1,
    )
    append_record(tmp_path, leaky)
    assert key not in (tmp_path / "local.jsonl").read_text()
    reason = read_records(tmp_path)[0].reason
    assert key not in reason and "[REDACTED]" in reason


def test_a_plan_reads_back_as_it_was_written(tmp_path: Path) -> None:
    spend = Spend(requests=2.0, tokens=40.0)
    plan = Plan(
        tests=(PlannedTest("t.py::test_a", "auth", spend),),
        areas={"auth": SpendTally(1, spend)},
        totals=SpendTally(1, spend),
        undeclared=0,
    )
    write_plan(tmp_path, plan)
    assert read_plan(tmp_path) == plan
    totals = json.loads((tmp_path / "plan.json").read_text())["totals"]
    assert totals == {
        "tests": 1,
        "requests": 2.0,
        "tokens": 40.0,
        "images": 0.0,
        "audio_seconds": 0.0,
    }


@pytest.mark.slow
def test_a_real_embedded_smoke_run_writes_a_results_file_that_validates(
    tmp_path: Path,
) -> None:
    out = tmp_path / "run"
    command = [sys.executable, "-m", "qbtsuite", "run", "--profile", "smoke"]
    done = subprocess.run(
        [*command, "--output", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("QBTSUITE_", "QUBITTRON_"))
        },
    )
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert validate("results.schema", data) == []
    results = read_results(out)
    assert results.to_json() == data
    assert results.verdict is Verdict.CONFORMANT and results.run.profile == "smoke"
    lines = (out / "records" / "local.jsonl").read_text().splitlines()
    assert len(lines) == len(results.tests) > 0
