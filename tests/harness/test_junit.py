"""junit.xml and junit-requirements.xml tell the same story as the exit code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest

from qbtsuite.reporting.junit import render_junit_requirements, render_junit_tests
from qbtsuite.results.model import RequirementCheck, RunResults
from qbtsuite.results.outcomes import Outcome
from qbtsuite.results.records import merge_records
from tests.harness.synthetic import CATALOGUE_ENTRIES, FACTS, record, synthetic_results


def _cases(xml: str) -> dict[str, ET.Element]:
    root = ET.fromstring(xml)
    return {f"{c.get('classname')}::{c.get('name')}": c for c in root.iter("testcase")}


def _kind(case: ET.Element) -> str:
    for kind in ("failure", "error", "skipped"):
        if case.find(kind) is not None:
            return kind
    return "passed"


def _with_an_error(results: RunResults) -> RunResults:
    broken = record(
        "test_auth.py::test_network_broke",
        "auth",
        {"AUTH-001": Outcome.ERROR},
        reason="ReadTimeout: the target did not answer in 60 s",
    )
    records = [*results.tests.values(), broken]
    return merge_records(records, CATALOGUE_ENTRIES, FACTS, strict=results.strict)


def test_each_test_outcome_becomes_its_junit_element() -> None:
    cases = _cases(render_junit_tests(_with_an_error(synthetic_results())))
    kinds = {name: _kind(case) for name, case in cases.items()}
    assert kinds == {
        "test_auth::test_missing_key": "passed",
        "test_auth::test_unknown_key": "failure",  # a MUST broken
        "test_auth::test_network_broke": "error",  # the run's trouble, not the target's
        "test_streaming::test_done": "passed",  # a SHOULD warning only
        "test_images::test_decode": "skipped",  # unsupported
        "test_rate_limits::test_429": "skipped",
    }
    skipped = cases["test_images::test_decode"].find("skipped")
    assert skipped is not None
    assert skipped.get("message") == "images: 404 model_not_found"
    error = cases["test_auth::test_network_broke"].find("error")
    assert error is not None and "ReadTimeout" in (error.get("message") or "")


def test_a_should_warning_is_a_passed_testcase_carrying_the_warning() -> None:
    case = _cases(render_junit_tests(synthetic_results()))["test_streaming::test_done"]
    warnings = [
        p.get("value") for p in case.iter("property") if p.get("name") == "warning"
    ]
    assert warnings == ["[SSE-002] SSE-002 broke\nReceived: 403\nExpected: 401"]
    out = case.find("system-out")
    assert out is not None and "warning (SHOULD): [SSE-002] SSE-002 broke" in (
        out.text or ""
    )


def test_with_strict_a_should_warning_is_a_failure() -> None:
    cases = _cases(render_junit_tests(synthetic_results(strict=True)))
    assert _kind(cases["test_streaming::test_done"]) == "failure"
    requirements = _cases(render_junit_requirements(synthetic_results(strict=True)))
    assert _kind(
        requirements["streaming::SSE-002 Keep-alive comments are allowed."]
    ) == ("failure")


def test_the_requirements_file_has_one_testcase_per_checked_requirement() -> None:
    results = _with_an_error(synthetic_results())
    cases = _cases(render_junit_requirements(results))
    kinds = {name.split(" ", 1)[0]: _kind(case) for name, case in cases.items()}
    assert kinds == {
        "auth::AUTH-001": "error",  # one of its tests errored, none failed
        "auth::AUTH-002": "failure",
        "images::IMG-001": "skipped",
        "rate-limits::RATE-001": "skipped",
        "streaming::SSE-001": "passed",
        "streaming::SSE-002": "passed",
    }
    assert len(cases) == len(results.requirements)
    name = "auth::AUTH-002 An unknown key gets 401 <invalid_api_key>."
    assert name in cases  # the statement, escaped in the file, whole in the name


def test_the_suite_counts_agree_with_the_testcases() -> None:
    root = ET.fromstring(render_junit_tests(_with_an_error(synthetic_results())))
    suite = root.find("testsuite")
    assert suite is not None
    counts = {k: suite.get(k) for k in ("tests", "failures", "errors", "skipped")}
    assert counts == {"tests": "6", "failures": "1", "errors": "1", "skipped": "2"}


def test_a_conformant_run_has_no_failure_and_no_error_in_either_file() -> None:
    results = synthetic_results(fail=False)
    assert results.verdict.value == "conformant"
    for xml in (render_junit_tests(results), render_junit_requirements(results)):
        root = ET.fromstring(xml)
        assert not list(root.iter("failure")) and not list(root.iter("error"))


def test_text_xml_cannot_carry_is_replaced_and_keys_are_redacted() -> None:
    from qbtsuite import redact

    key = "qbt_junit_canary_0123456789abcdef"
    redact.register(key)
    results = synthetic_results()
    test = results.tests["test_auth.py::test_unknown_key"]
    check = RequirementCheck(Outcome.FAIL, (f"got \x00\x1b[31m and {key}",))
    leaky = replace(test, requirements={"AUTH-002": check}, reason=f"sent {key}")
    xml = render_junit_tests(replace(results, tests={test.nodeid: leaky}))
    assert key not in xml
    failure = ET.fromstring(xml).find(".//failure")  # parses: valid XML 1.0
    assert failure is not None and "\ufffd" in (failure.text or "")


# ─── real runs of the bundled suite against the embedded server ──────────────


def _run(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path / "run"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("QBTSUITE_", "QUBITTRON_"))
    }
    done = subprocess.run(
        [sys.executable, "-m", "qbtsuite", "run", "--no-allure", "--output", str(out), *args],
        capture_output=True, text=True, timeout=600, check=False, env=env,
    )  # fmt: skip
    return done, out


def _elements(path: Path, tag: str) -> list[ET.Element]:
    return [
        c for c in ET.parse(path).getroot().iter("testcase") if c.find(tag) is not None
    ]


@pytest.mark.slow
def test_a_gateway_whose_errors_lack_param_is_conformant_and_junit_says_so(
    tmp_path: Path,
) -> None:
    # ERR-006 (error.param) is a SHOULD: every error-checking test warns, none fails.
    done, out = _run(
        tmp_path,
        "--area",
        "auth",
        "--area",
        "errors",
        "--fault",
        "errors.no_param_field",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "verdict  conformant" in done.stdout
    auth = next(ln for ln in done.stdout.splitlines() if " auth " in ln)
    assert "warned" in auth and "failed" not in auth, auth
    for name in ("junit.xml", "junit-requirements.xml"):
        assert _elements(out / name, "failure") == [], name
        assert _elements(out / name, "error") == [], name
    warned = [
        c for c in ET.parse(out / "junit.xml").getroot().iter("testcase")
        if any(p.get("name") == "warning" for p in c.iter("property"))
    ]  # fmt: skip
    results = json.loads((out / "results.json").read_text())
    warned_tests = [n for n, t in results["tests"].items() if t["outcome"] == "warn"]
    assert len(warned) == len(warned_tests) > 20


@pytest.mark.slow
def test_a_run_with_one_must_failure_has_exactly_the_failing_tests_as_failures(
    tmp_path: Path,
) -> None:
    done, out = _run(tmp_path, "--area", "auth", "--fault", "auth.any_scheme_accepted")
    assert done.returncode == 1, done.stdout + done.stderr
    results = json.loads((out / "results.json").read_text())
    failing = sorted(
        n
        for n, t in results["tests"].items()
        if any(c["outcome"] == "fail" for c in t["requirements"].values())
    )
    assert failing, "the fault broke nothing"
    failures = sorted(
        f"{c.get('classname')}.py::{c.get('name')}"
        for c in _elements(out / "junit.xml", "failure")
    )
    assert failures == failing
    assert _elements(out / "junit.xml", "error") == []
    failed_ids = sorted(
        rid for rid, r in results["requirements"].items() if r["outcome"] == "fail"
    )
    requirement_failures = sorted(
        (c.get("name") or "").split(" ", 1)[0]
        for c in _elements(out / "junit-requirements.xml", "failure")
    )
    assert requirement_failures == failed_ids == ["AUTH-003"]
