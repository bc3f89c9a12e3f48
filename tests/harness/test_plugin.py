"""The pytest plugin, driven with pytester: outcomes, record.check, selection, results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from qbtsuite.results.store import read_results
from qbtsuite.schemas import validate
from tests.harness.suites import write_catalogue

pytest_plugins = ["pytester"]

CANARY = "qbt_canary_plugin_0123456789abcdef"

_MODELS = {
    f"QBTSUITE_MODELS_{e.upper()}": "m"
    for e in ("completions", "chat", "embeddings", "images", "transcriptions")
}


@pytest.fixture
def suite(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> pytest.Pytester:
    """A pytester folder with the synthetic catalogue and a target that is never called."""
    write_catalogue(pytester.path)
    monkeypatch.setenv("QUBITTRON_BASE_URL", "https://gateway.invalid/v1")
    monkeypatch.setenv("QUBITTRON_API_KEY", CANARY)
    for name, value in _MODELS.items():
        monkeypatch.setenv(name, value)
    return pytester


def _run(suite: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, dict[str, Any]]:
    out = suite.path / "out"
    result = suite.runpytest(
        "-p",
        "qbtsuite.harness.plugin",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:hypothesispytest",
        "--qbt-catalogue",
        str(suite.path / "requirements.toml"),
        "--qbt-results-dir",
        str(out),
        *args,
    )
    path = out / "results.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    if results:  # every results.json the plugin writes is documented and typed
        assert validate("results.schema", results) == []
        assert read_results(out).to_json() == results
    return result, results


def _outcomes(results: dict[str, Any]) -> dict[str, str]:
    return {rid: r["outcome"] for rid, r in results["requirements"].items()}


OUTCOME_SUITE = """
import pytest
from qbtsuite.errors import CheckFailure
from qbtsuite.harness.signals import unsupported

def fail(requirement=None):
    raise CheckFailure(title="t", received="403", expected="401", requirement=requirement)

@pytest.mark.requirement("AUTH-001")
def test_passes():
    pass

@pytest.mark.requirement("AUTH-003")
def test_must_check_fails():
    fail()

@pytest.mark.requirement("AUTH-002")
def test_should_check_fails():
    fail()

@pytest.mark.requirement("IMG-001")
def test_declines_capability():
    unsupported("images: 404 model_not_found")

@pytest.mark.requirement("SSE-002")
def test_not_configured():
    pytest.skip("no second key configured")

@pytest.mark.requirement("SSE-001")
def test_suite_breaks():
    raise KeyError("oops")
"""


class TestOutcomeMapping:
    def test_each_way_a_test_ends_maps_to_its_requirement_outcome(
        self, suite: pytest.Pytester
    ) -> None:
        suite.makepyfile(test_outcomes=OUTCOME_SUITE)
        result, results = _run(suite)
        # pytest's own count tells the exit code's story: a SHOULD warning passes
        result.assert_outcomes(passed=2, failed=2, skipped=2)
        assert _outcomes(results) == {
            "AUTH-001": "pass",
            "AUTH-003": "fail",
            "AUTH-002": "warn",
            "IMG-001": "unsupported",
            "SSE-002": "skipped",
            "SSE-001": "error",
        }
        assert results["verdict"] == "not conformant"
        messages = results["requirements"]["AUTH-003"]["messages"]
        assert messages == ["t\nReceived: 403\nExpected: 401"]
        assert results["requirements"]["SSE-002"]["messages"] == [
            "no second key configured"
        ]
        assert "KeyError" in results["requirements"]["SSE-001"]["messages"][0]

    def test_a_fixture_error_is_an_error_not_a_failure(
        self, suite: pytest.Pytester
    ) -> None:
        suite.makepyfile(
            """
            import pytest
            @pytest.fixture
            def broken():
                raise RuntimeError("fixture broke")
            @pytest.mark.requirement("AUTH-001")
            def test_x(broken):
                pass
            """
        )
        _, results = _run(suite)
        assert _outcomes(results) == {"AUTH-001": "error"}
        assert results["verdict"] == "incomplete"

    def test_a_narrowed_check_failure_fails_only_its_requirement(
        self, suite: pytest.Pytester
    ) -> None:
        suite.makepyfile(
            """
            import pytest
            from qbtsuite.errors import CheckFailure
            @pytest.mark.requirement("AUTH-001", "AUTH-003")
            def test_x():
                raise CheckFailure(title="t", received="r", expected="e", requirement="AUTH-003")
            """
        )
        _, results = _run(suite)
        assert _outcomes(results) == {"AUTH-001": "pass", "AUTH-003": "fail"}

    def test_strict_makes_a_should_failure_fail_the_verdict(
        self, suite: pytest.Pytester
    ) -> None:
        suite.makepyfile(
            """
            import pytest
            from qbtsuite.errors import CheckFailure
            @pytest.mark.requirement("AUTH-002")
            def test_x():
                raise CheckFailure(title="t", received="r", expected="e")
            """
        )
        _, lenient = _run(suite)
        assert lenient["verdict"] == "conformant" and lenient["totals"]["warn"] == 1
        _, strict = _run(suite, "--qbt-strict")
        assert strict["verdict"] == "not conformant"


class TestWarningsPass:
    """A test whose only violations are SHOULD requirements passes in pytest's eyes
    too (so -x, --maxfail, --lf and Allure agree with the exit code), unless strict."""

    SUITE = """
import pytest
from qbtsuite.errors import CheckFailure

def fail(requirement=None):
    raise CheckFailure(title="t", received="r", expected="e", requirement=requirement)

@pytest.mark.requirement("AUTH-002")
def test_should_recorded(record):
    with record.check("AUTH-002"):
        fail()

@pytest.mark.requirement("AUTH-001", "AUTH-002")
def test_should_narrowed():
    fail("AUTH-002")

@pytest.mark.requirement("AUTH-001", "AUTH-002")
def test_unnarrowed_with_a_must():
    fail()

@pytest.mark.requirement("AUTH-002", "AUTH-003")
def test_must_and_should_recorded(record):
    with record.check("AUTH-002"):
        fail()
    with record.check("AUTH-003"):
        fail()
"""

    def test_warnings_alone_pass_and_a_must_still_fails(
        self, suite: pytest.Pytester
    ) -> None:
        suite.makepyfile(test_w=self.SUITE)
        result, results = _run(suite, "-rA")
        result.assert_outcomes(passed=2, failed=2)
        tests = {n.split("::")[1]: t for n, t in results["tests"].items()}
        assert {n: t["outcome"] for n, t in tests.items()} == {
            "test_should_recorded": "warn",
            "test_should_narrowed": "warn",
            "test_unnarrowed_with_a_must": "fail",
            "test_must_and_should_recorded": "fail",
        }
        assert tests["test_should_recorded"]["reason"] == "t"
        assert _outcomes(results) == {
            "AUTH-001": "fail",
            "AUTH-002": "warn",
            "AUTH-003": "fail",
        }
        assert results["requirements"]["AUTH-002"]["messages"] == [
            "t\nReceived: r\nExpected: e"
        ]

    def test_with_strict_a_warning_fails_the_test(self, suite: pytest.Pytester) -> None:
        suite.makepyfile(test_w=self.SUITE)
        result, results = _run(suite, "--qbt-strict")
        result.assert_outcomes(failed=4)
        assert results["verdict"] == "not conformant"


class TestRecordCheck:
    def test_check_blocks_record_each_requirement_and_the_test_fails_listing_all(
        self, suite: pytest.Pytester
    ) -> None:
        suite.makepyfile(
            """
            import pytest
            from qbtsuite.errors import CheckFailure
            @pytest.mark.requirement("SSE-001", "SSE-002", "AUTH-001")
            def test_stream(record):
                with record.check("SSE-001"):
                    raise CheckFailure(title="no [DONE]", received="eof", expected="[DONE]")
                with record.check("SSE-002"):
                    raise CheckFailure(title="no keep-alive", received="-", expected=":")
                with record.check("AUTH-001"):
                    pass
                record.note("went on after the failures")
            """
        )
        result, results = _run(suite)
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines(
            ["*2 requirement check(s) failed*", "*[[]SSE-001[]] no [[]DONE[]]*"]
        )
        assert _outcomes(results) == {
            "SSE-001": "fail",
            "SSE-002": "warn",
            "AUTH-001": "pass",
        }
        test = next(iter(results["tests"].values()))
        assert test["notes"] == ["went on after the failures"]

    def test_unchecked_requirements_take_the_test_outcome(
        self, suite: pytest.Pytester
    ) -> None:
        suite.makepyfile(
            """
            import pytest
            @pytest.mark.requirement("AUTH-001", "AUTH-003")
            def test_x(record):
                with record.check("AUTH-001"):
                    pass
                raise ValueError("suite bug")
            """
        )
        _, results = _run(suite)
        assert _outcomes(results) == {"AUTH-001": "pass", "AUTH-003": "error"}


class TestCollection:
    def test_an_unknown_requirement_id_is_a_collection_error(
        self, suite: pytest.Pytester
    ) -> None:
        suite.makepyfile(
            """
            import pytest
            @pytest.mark.requirement("AUTH-999")
            def test_x():
                pass
            """
        )
        result, _ = _run(suite)
        assert result.ret == pytest.ExitCode.INTERRUPTED
        result.stdout.fnmatch_lines(["*unknown requirement id 'AUTH-999'*"])

    def test_area_requirement_and_smoke_selection_deselect_other_tests(
        self, suite: pytest.Pytester
    ) -> None:
        suite.makepyfile(
            """
            import pytest
            @pytest.mark.smoke
            @pytest.mark.requirement("AUTH-001")
            def test_a():
                pass
            @pytest.mark.requirement("SSE-001")
            def test_b():
                pass
            @pytest.mark.requirement("IMG-001")
            def test_c():
                pass
            """
        )
        result, results = _run(suite, "--qbt-area", "streaming")
        result.assert_outcomes(passed=1, deselected=2)
        assert list(results["requirements"]) == ["SSE-001"]
        result, results = _run(suite, "--qbt-requirement", "IMG-001,AUTH-001")
        assert sorted(results["requirements"]) == ["AUTH-001", "IMG-001"]
        result, results = _run(suite, "--qbt-profile", "smoke")
        assert list(results["requirements"]) == ["AUTH-001"]

    def test_areas_and_requirements_can_be_left_out_and_the_results_say_so(
        self, suite: pytest.Pytester
    ) -> None:
        suite.makepyfile(
            """
            import pytest
            @pytest.mark.requirement("AUTH-001")
            def test_a():
                pass
            @pytest.mark.requirement("AUTH-003", "SSE-001")
            def test_b():
                pass
            @pytest.mark.requirement("SSE-002")
            def test_c():
                pass
            """
        )
        result, results = _run(suite, "--qbt-skip-area", "streaming")
        result.assert_outcomes(passed=2, deselected=1)
        assert sorted(results["requirements"]) == ["AUTH-001", "AUTH-003", "SSE-001"]
        assert results["selection"]["skip_areas"] == ["streaming"]
        # every test checking the id is left out, with what else it checked
        result, results = _run(suite, "--qbt-skip-requirement", "SSE-001")
        result.assert_outcomes(passed=2, deselected=1)
        assert sorted(results["requirements"]) == ["AUTH-001", "SSE-002"]
        assert "AUTH-003" in results["not_checked"]
        assert results["selection"]["skip_requirements"] == ["SSE-001"]
        result, _ = _run(suite, "--qbt-skip-requirement", "SSE-999")
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines(["*unknown requirement id(s): SSE-999*"])
        result, _ = _run(suite, "--qbt-skip-area", "nonsense")
        result.stderr.fnmatch_lines(["*unknown area(s): nonsense*"])

    def test_the_dry_run_plan_is_of_the_tests_left_after_k_m_and_exclusions(
        self, suite: pytest.Pytester
    ) -> None:
        suite.makepyfile(
            """
            import pytest
            @pytest.mark.smoke
            @pytest.mark.requirement("AUTH-001")
            def test_stream_a():
                pass
            @pytest.mark.requirement("SSE-001")
            def test_stream_b():
                pass
            @pytest.mark.requirement("IMG-001")
            def test_images():
                pass
            """
        )

        def planned(*args: str) -> tuple[list[str], dict[str, Any]]:
            _run(suite, "--qbt-dry-run", *args)
            plan = json.loads((suite.path / "out" / "plan.json").read_text())
            return [t["nodeid"].split("::")[1] for t in plan["tests"]], plan

        assert planned("-k", "stream")[0] == ["test_stream_a", "test_stream_b"]
        assert planned("-m", "smoke")[0] == ["test_stream_a"]
        names, plan = planned("-k", "stream", "--qbt-skip-area", "auth")
        assert names == ["test_stream_b"]
        assert plan["selection"]["keyword"] == "stream"
        assert plan["selection"]["skip_areas"] == ["auth"]
        assert plan["profile"] == "full"

    def test_tests_without_requirements_are_left_alone_unless_a_selection_is_asked(
        self, suite: pytest.Pytester
    ) -> None:
        suite.makepyfile(
            """
            import pytest
            @pytest.mark.requirement("AUTH-001")
            def test_conformance():
                pass
            def test_helper_of_the_project():
                pass
            """
        )
        result, results = _run(suite)
        result.assert_outcomes(passed=2)
        assert len(results["tests"]) == 1 and list(results["requirements"]) == [
            "AUTH-001"
        ]
        result, _ = _run(suite, "--qbt-area", "auth")
        result.assert_outcomes(passed=1, deselected=1)

    def test_an_unknown_area_is_a_usage_error(self, suite: pytest.Pytester) -> None:
        suite.makepyfile("def test_x():\n    pass\n")
        result, _ = _run(suite, "--qbt-area", "nonsense")
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines(["*unknown area(s): nonsense*"])

    def test_a_dry_run_sums_the_declared_spend_and_sends_nothing(
        self, suite: pytest.Pytester
    ) -> None:
        suite.makepyfile(
            """
            import pytest
            @pytest.mark.spend(requests=2, tokens=40)
            @pytest.mark.requirement("AUTH-001")
            def test_a(api):
                raise AssertionError("must not run")
            @pytest.mark.spend(images=1)
            @pytest.mark.requirement("IMG-001")
            def test_b():
                pass
            @pytest.mark.requirement("SSE-001")
            def test_c():
                pass
            """
        )
        result, _ = _run(suite, "--qbt-dry-run")
        assert result.ret == pytest.ExitCode.OK
        plan = json.loads((suite.path / "out" / "plan.json").read_text())
        assert plan["totals"] == {
            "tests": 3,
            "requests": 4.0,
            "tokens": 40.0,
            "images": 1.0,
            "audio_seconds": 0.0,
        }
        assert plan["undeclared"] == 1
        result.stdout.fnmatch_lines(
            ["*dry run: 3 tests would send 4 requests, 40 tokens*"]
        )

    def test_tests_spending_a_key_budget_share_one_xdist_group(
        self, suite: pytest.Pytester
    ) -> None:
        suite.makepyfile(
            """
            import pytest
            @pytest.mark.spends("low_limit")
            @pytest.mark.requirement("AUTH-001")
            def test_a(request):
                assert request.node.get_closest_marker("xdist_group").args == ("spends-low_limit",)
            """
        )
        result, results = _run(suite)
        result.assert_outcomes(passed=1)
        assert list(results["tests"]) == [
            "test_tests_spending_a_key_budget_share_one_xdist_group.py::test_a"
        ]


class TestResults:
    def test_results_json_names_target_digests_and_tests_without_the_key(
        self, suite: pytest.Pytester
    ) -> None:
        suite.makepyfile(
            f"""
            import pytest
            from qbtsuite.errors import CheckFailure
            @pytest.mark.requirement("AUTH-001")
            def test_x(target_config, record):
                record.attach("> GET /v1/models\\n> authorization: Bearer {CANARY}")
                raise CheckFailure(title="leak", received="{CANARY}", expected="nothing")
            """
        )
        result, results = _run(
            suite, "--junitxml", str(suite.path / "out" / "junit.xml")
        )
        assert results["target"]["base_url"] == "https://gateway.invalid/v1"
        assert results["target"]["keys"] == {"main": "[REDACTED]"}
        assert len(results["digests"]["catalogue"]) == 64
        assert results["requirements"]["AUTH-001"]["tests"][0]["outcome"] == "fail"
        assert results["suite_version"] and results["profile"] == "full"
        for path in (suite.path / "out").rglob("*"):
            if path.is_file():
                assert CANARY not in path.read_text(errors="replace"), path
        assert CANARY not in result.stdout.str()

    @pytest.mark.slow
    def test_results_merge_from_two_xdist_workers_matches_a_serial_run(
        self, suite: pytest.Pytester
    ) -> None:
        suite.makepyfile(test_outcomes=OUTCOME_SUITE)
        _, serial = _run(suite)
        out = suite.path / "out"
        result = suite.runpytest_subprocess(
            "-p", "qbtsuite.harness.plugin", "-p", "no:cacheprovider",
            "-p", "no:hypothesispytest",
            "--qbt-catalogue", str(suite.path / "requirements.toml"),
            "--qbt-results-dir", str(out), "-n", "2", "--dist", "loadgroup",
        )  # fmt: skip
        assert result.ret == pytest.ExitCode.TESTS_FAILED
        parallel = json.loads((out / "results.json").read_text())
        assert validate("results.schema", parallel) == []
        assert sorted(parallel["workers"]) == ["gw0", "gw1"]
        assert _outcomes(parallel) == _outcomes(serial)
        assert parallel["verdict"] == serial["verdict"]
        assert sorted(parallel["tests"]) == sorted(serial["tests"])


def test_records_are_one_json_line_per_test(suite: pytest.Pytester) -> None:
    suite.makepyfile(test_outcomes=OUTCOME_SUITE)
    _run(suite)
    lines = (suite.path / "out" / "records" / "local.jsonl").read_text().splitlines()
    assert len(lines) == 6
    assert {json.loads(line)["worker"] for line in lines} == {"local"}


def test_path_of_the_catalogue_is_named_in_the_collection_error(
    suite: pytest.Pytester,
) -> None:
    suite.makepyfile(
        """
        import pytest
        @pytest.mark.requirement("NOPE-001")
        def test_x():
            pass
        """
    )
    result, _ = _run(suite)
    result.stdout.fnmatch_lines(
        [f"*every id must be listed in {Path(suite.path) / 'requirements.toml'}*"]
    )


def test_an_exhausted_request_budget_errors_the_test_instead_of_failing_it(
    suite: pytest.Pytester,
) -> None:
    suite.makepyfile(
        """
        import pytest
        @pytest.mark.requirement("AUTH-001")
        def test_first(api):
            api.request("GET", "models")
        @pytest.mark.requirement("AUTH-003")
        def test_second(api):
            api.request("GET", "models")
        """
    )
    _, results = _run(suite, "--qbt-request-budget", "1")
    assert _outcomes(results) == {"AUTH-001": "error", "AUTH-003": "error"}
    first = results["requirements"]["AUTH-001"]["messages"][0]
    second = results["requirements"]["AUTH-003"]["messages"][0]
    assert "TargetUnreachable: cannot reach gateway.invalid" in first
    assert "request budget exhausted: 1 requests already sent" in second


def test_with_declared_capabilities_unsupported_is_a_failure_and_undeclared_ones_skip(
    suite: pytest.Pytester,
) -> None:
    suite.makepyfile(
        """
        import pytest
        from qbtsuite.harness.signals import unsupported
        @pytest.mark.capability("images")
        @pytest.mark.requirement("IMG-001")
        def test_declared():
            unsupported("404 model_not_found")
        @pytest.mark.capability("transcriptions")
        @pytest.mark.requirement("SSE-001")
        def test_not_declared():
            raise AssertionError("must not run")
        """
    )
    _, results = _run(
        suite, "--qbt-capabilities", "images", "--qbt-profile", "certify", *IDENTITY
    )
    assert _outcomes(results) == {"IMG-001": "fail", "SSE-001": "skipped"}
    assert (
        "declared the capability 'images'"
        in results["requirements"]["IMG-001"]["messages"][0]
    )
    assert results["requirements"]["SSE-001"]["messages"] == [
        "capability not declared: transcriptions (speech to text, POST "
        "/v1/audio/transcriptions: multipart uploads, the 25 MB cap)"
    ]


CATALOGUE_SUITE = """
import pytest
@pytest.mark.capability("catalogue")
@pytest.mark.requirement("AUTH-001")
def test_about_the_documented_models():
    pass
@pytest.mark.capability("images")
@pytest.mark.requirement("IMG-001")
def test_needs_an_optional_capability():
    pass
"""
NOT_QUBITTRONS = (
    "capability not declared: catalogue (the target serves Qubittron's own model "
    "catalogue: the documented models, their widths and categories)"
)
IDENTITY = (
    "--qbt-vendor", "Example Vendor", "--qbt-product-name", "Gateway One",
    "--qbt-product-version", "2.0", "--qbt-product-url", "https://vendor.example/",
    "--qbt-contact", "qa@vendor.example",
)  # fmt: skip


def test_catalogue_checks_are_skipped_on_another_gateway_with_the_reason(
    suite: pytest.Pytester,
) -> None:
    suite.makepyfile(CATALOGUE_SUITE)
    _, results = _run(suite)
    # Nothing declared: other capabilities still run, the catalogue does not.
    assert _outcomes(results) == {"AUTH-001": "skipped", "IMG-001": "pass"}
    assert results["requirements"]["AUTH-001"]["messages"] == [NOT_QUBITTRONS]
    # The plan counts what will be sent: nothing for the skipped check.
    _run(suite, "--qbt-dry-run")
    plan = json.loads((suite.path / "out" / "plan.json").read_text())
    assert [t["nodeid"].split("::")[1] for t in plan["tests"]] == [
        "test_needs_an_optional_capability"
    ]


def test_catalogue_checks_run_where_declared_or_on_qubittrons_own_host(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite.makepyfile(CATALOGUE_SUITE)
    _, declared = _run(suite, "--qbt-capabilities", "catalogue")
    assert _outcomes(declared) == {"AUTH-001": "pass", "IMG-001": "skipped"}
    monkeypatch.setenv("QUBITTRON_BASE_URL", "https://api.qubittron.ai/v1")
    _, own = _run(suite)
    assert _outcomes(own) == {"AUTH-001": "pass", "IMG-001": "pass"}
    # A declaration is the whole list, on Qubittron's host too.
    _, listed = _run(suite, "--qbt-capabilities", "images")
    assert _outcomes(listed) == {"AUTH-001": "skipped", "IMG-001": "pass"}


THROTTLE_SUITE = """
import pytest
from qbtsuite.target.throttle import ThrottleAnswer, ThrottleEvent

URL = "https://gateway.invalid/v1/chat/completions"

def event(resolved):
    answer = ThrottleAnswer(429, "rate_limit_exceeded", 50.0)
    reason = "" if resolved else "Retry-After 50 s is more than the 0 s left"
    return ThrottleEvent("main", "POST", URL, answer, 50.0 if resolved else 0.0, resolved, reason)

@pytest.mark.requirement("AUTH-001")
def test_passes_on_an_answer_that_was_a_throttle(record):
    record.throttled(event(resolved=False))  # what the client reports before raising
    with record.check("AUTH-001"):
        pass  # a test that swallowed the error still has no evidence

@pytest.mark.requirement("AUTH-003")
def test_fails_on_an_answer_that_was_a_throttle(record):
    record.throttled(event(resolved=False))
    assert False, "Received: 429"

@pytest.mark.requirement("AUTH-002")
def test_passes_after_a_throttle_was_waited_out(record):
    record.throttled(event(resolved=True))
"""


def test_a_test_whose_answers_were_throttles_not_waited_out_is_an_error_whatever_it_says(
    suite: pytest.Pytester,
) -> None:
    suite.makepyfile(test_throttled=THROTTLE_SUITE)
    _, results = _run(suite)
    assert _outcomes(results) == {
        "AUTH-001": "error",
        "AUTH-003": "error",
        "AUTH-002": "pass",
    }
    message = results["requirements"]["AUTH-001"]["messages"][0]
    assert message.startswith("throttled: the main key was throttled (429")
    waited = results["tests"][
        "test_throttled.py::test_passes_after_a_throttle_was_waited_out"
    ]
    assert waited["notes"][0].startswith("throttled: waited 50 s")
    totals = results["throttle"]
    assert (totals["answers"], totals["waited"], totals["unresolved"]) == (1, 50.0, 2)
    assert totals["roles"] == ["main"] and len(totals["tests_without_evidence"]) == 2
    assert results["verdict"] == "incomplete"
