"""allure-results group by area → requirement and carry the run's facts."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from qbtsuite.reporting.allure import write_allure_extras
from tests.harness.suites import write_catalogue
from tests.harness.synthetic import synthetic_results

pytest_plugins = ["pytester"]


def test_the_extras_say_what_ran_and_how_failures_are_grouped(tmp_path: Path) -> None:
    results = synthetic_results()
    target = results.run.target
    assert target is not None
    faulty = replace(
        results,
        run=replace(results.run, target=replace(target, faults=("rate.per_ip",))),
    )
    written = {p.name for p in write_allure_extras(tmp_path, faulty)}
    assert written == {"categories.json", "environment.properties", "allurerc.json"}
    properties = dict(
        line.split("=", 1)
        for line in (tmp_path / "environment.properties").read_text().splitlines()
    )
    assert properties["target"] == "https://gw.example/v1"
    assert properties["profile"] == "full" and properties["suite_version"] == "0.1.0"
    assert properties["verdict"] == "not conformant"
    assert properties["faults_injected"] == "rate.per_ip"
    categories = json.loads((tmp_path / "categories.json").read_text())
    assert [c["matchedStatuses"] for c in categories] == [
        ["failed"],
        ["broken"],
        ["skipped"],
    ]
    config = json.loads((tmp_path / "allurerc.json").read_text())
    assert config["categories"] == categories
    assert config["plugins"]["awesome"]["options"]["groupBy"] == ["epic", "story"]


def test_results_are_labelled_by_area_and_requirement_not_by_file(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_catalogue(pytester.path)
    monkeypatch.setenv("QUBITTRON_BASE_URL", "https://gateway.invalid/v1")
    monkeypatch.setenv("QUBITTRON_API_KEY", "qbt_allure_0123456789abcdef")
    for endpoint in ("completions", "chat", "embeddings", "images", "transcriptions"):
        monkeypatch.setenv(f"QBTSUITE_MODELS_{endpoint.upper()}", "m")  # no discovery
    pytester.makepyfile(
        test_mixed="""
        import pytest
        @pytest.mark.requirement("SSE-001", "SSE-002")
        def test_stream():
            pass
        """
    )
    out, allure = pytester.path / "out", pytester.path / "allure"
    result = pytester.runpytest(
        "-p", "qbtsuite.harness.plugin", "-p", "no:cacheprovider",
        "-p", "no:hypothesispytest", "--qbt-catalogue", str(pytester.path / "requirements.toml"),
        "--qbt-results-dir", str(out), "--alluredir", str(allure),
    )  # fmt: skip
    result.assert_outcomes(passed=1)
    (found,) = list(allure.glob("*-result.json"))
    labels = json.loads(found.read_text())["labels"]
    by_name: dict[str, list[str]] = {}
    for label in labels:
        by_name.setdefault(label["name"], []).append(label["value"])
    assert by_name["parentSuite"] == ["streaming"]
    assert by_name["suite"] == ["SSE-001"]  # one suite: its first requirement
    assert by_name["epic"] == ["streaming"] and sorted(by_name["story"]) == [
        "SSE-001",
        "SSE-002",
    ]
    assert (allure / "environment.properties").is_file()
    assert (allure / "allurerc.json").is_file()
