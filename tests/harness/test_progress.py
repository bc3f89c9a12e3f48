"""The progress lines count each test by its outcome, in the area ``--area`` selects."""

from __future__ import annotations

import pytest

from qbtsuite.harness.progress import Progress


def _report(
    nodeid: str, when: str, outcome: str = "passed", **props: str
) -> pytest.TestReport:
    return pytest.TestReport(
        nodeid=nodeid,
        location=(nodeid.split("::")[0], 0, nodeid),
        keywords={},
        outcome=outcome,  # type: ignore[arg-type]
        longrepr=None,
        when=when,  # type: ignore[arg-type]
        user_properties=list(props.items()),
    )


def _finish(progress: Progress, nodeid: str, outcome: str, pytest_outcome: str) -> None:
    progress.pytest_runtest_logreport(_report(nodeid, "setup"))
    progress.pytest_runtest_logreport(_report(nodeid, "call", pytest_outcome))
    progress.pytest_runtest_logreport(_report(nodeid, "teardown", outcome=outcome))


def _teardown_with(progress: Progress, nodeid: str, outcome: str) -> None:
    progress.pytest_runtest_logreport(_report(nodeid, "setup"))
    call = "failed" if outcome in ("fail", "error") else "passed"
    progress.pytest_runtest_logreport(_report(nodeid, "call", call))
    teardown = _report(nodeid, "teardown")
    teardown.user_properties.append(("outcome", outcome))
    progress.pytest_runtest_logreport(teardown)


def test_warned_tests_are_counted_apart_from_failures() -> None:
    lines: list[str] = []
    progress = Progress(lines.append)
    ids = [f"test_auth.py::test_{n}" for n in range(26)]
    progress.pytest_xdist_node_collection_finished(None, ids)
    _teardown_with(progress, ids[0], "pass")
    for nodeid in ids[1:]:
        _teardown_with(progress, nodeid, "warn")
    assert lines[0] == "running 26 tests in 1 areas"
    assert lines[1].startswith("  ✓ auth               26 tests  1 passed, 25 warned")


def test_a_failure_or_an_error_marks_the_area_and_is_named() -> None:
    lines: list[str] = []
    progress = Progress(lines.append)
    ids = ["test_auth.py::test_a", "test_auth.py::test_b", "test_auth.py::test_c"]
    progress.pytest_xdist_node_collection_finished(None, ids)
    for nodeid, outcome in zip(ids, ("pass", "fail", "error"), strict=True):
        _teardown_with(progress, nodeid, outcome)
    assert lines[1].startswith(
        "  ✗ auth                3 tests  1 passed, 1 failed, 1 error"
    )


def test_with_strict_a_warned_area_is_marked() -> None:
    lines: list[str] = []
    progress = Progress(lines.append, strict=True)
    progress.pytest_xdist_node_collection_finished(None, ["test_auth.py::test_a"])
    _teardown_with(progress, "test_auth.py::test_a", "warn")
    assert lines[1].startswith("  ✗ auth")


def test_request_validation_tests_are_counted_in_their_endpoint_areas() -> None:
    lines: list[str] = []
    ids = [
        "test_request_validation.py::test_invalid[completions-prompt-missing]",
        "test_request_validation.py::test_invalid[malformed_json]@spends-x",
        "test_completions.py::test_one",
    ]
    areas = {
        "test_request_validation.py::test_invalid[completions-prompt-missing]": "completions",
        "test_request_validation.py::test_invalid[malformed_json]": "errors",
        "test_completions.py::test_one": "completions",
    }
    progress = Progress(lines.append, areas)
    progress.pytest_xdist_node_collection_finished(None, ids)
    for nodeid in ids:
        _teardown_with(progress, nodeid, "pass")
    assert lines[0] == "running 3 tests in 2 areas"
    assert sorted(line.split()[1] for line in lines[1:]) == ["completions", "errors"]
    assert not any("request-validation" in line for line in lines)


def test_without_an_outcome_from_the_plugin_pytest_s_own_counts() -> None:
    lines: list[str] = []
    progress = Progress(lines.append)
    progress.pytest_xdist_node_collection_finished(
        None, ["test_x.py::test_a", "test_x.py::test_b"]
    )
    _finish(progress, "test_x.py::test_a", "passed", "passed")
    _finish(progress, "test_x.py::test_b", "passed", "failed")
    assert lines[1].startswith("  ✗ x                   2 tests  1 passed, 1 failed")
