"""``qbtsuite requirements``: the table wraps, and one requirement is shown whole."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from qbtsuite.checks import error_requirement_checks, status_is
from qbtsuite.cli.requirements import render_table
from qbtsuite.harness.inventory import checks_called
from qbtsuite.requirements import load_catalogue
from qbtsuite.server.faults import load_faults


def _requirements(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "100"}
    return subprocess.run(
        [sys.executable, "-m", "qbtsuite", "requirements", *args],
        capture_output=True, text=True, timeout=120, check=False, env=env,
    )  # fmt: skip


def test_the_table_wraps_statements_instead_of_cutting_them() -> None:
    catalogue = load_catalogue()
    table = render_table(list(catalogue), 100)
    assert "…" not in table
    assert all(len(line) <= 100 for line in table.splitlines())
    words = " ".join(table.split())
    for requirement in catalogue:
        assert " ".join(requirement.statement.split()) in words, requirement.id


@pytest.mark.slow
def test_one_requirement_is_shown_whole_with_its_tests_checks_and_faults() -> None:
    done = _requirements("SSE-009")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    requirement = load_catalogue()["SSE-009"]
    flat = " ".join(out.split())
    assert out.startswith("SSE-009  MUST  streaming")
    assert " ".join(requirement.statement.split()) in flat
    assert " ".join(requirement.quote.split()) in flat
    assert f"spec/{requirement.source}" in out
    assert "tests (2)" in out
    assert (
        "test_streaming.py::test_a_stream_is_an_event_stream_of_data_only_json" in out
    )
    assert "checks  sse_done_exactly_once_and_last" in out
    assert "faults that break it (2)" in out
    assert "streaming.double_done" in out and "streaming.no_done" in out


@pytest.mark.slow
def test_a_should_shows_its_reason_and_the_tests_that_judge_it_on_errors() -> None:
    done = _requirements("ERR-006", "--format", "json")
    assert done.returncode == 0, done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    assert data["level"] == "SHOULD" and data["level_reason"].startswith("SHOULD:")
    breaking = sorted(n for n, f in load_faults().items() if "ERR-006" in f.breaks)
    assert data["faults"] == breaking and "errors.no_param_field" in breaking
    judged = [t for t in data["tests"] if not t["declared"]]
    assert len(judged) > 50  # every test holding an error answer to the format
    assert {c for t in data["tests"] for c in t["checks"]} == {"error_has_param_field"}


@pytest.mark.slow
def test_an_unknown_id_is_one_line_and_exit_2() -> None:
    done = _requirements("SSE-999")
    assert done.returncode == 2
    assert (
        done.stderr
        == "error: unknown requirement id SSE-999 (see 'qbtsuite requirements')\n"
    )


def _helper(exchange: Any) -> None:
    status_is(exchange, 200)


def _judged(record: Any, exchange: Any) -> None:
    with record.check("AUTH-001"):
        _helper(exchange)
    with record.check("AUTH-002"):
        error_requirement_checks(exchange)


def test_the_checks_of_a_test_are_those_of_its_blocks_for_the_requirement() -> None:
    assert checks_called(_judged, "AUTH-001") == ("status_is",)  # through the helper
    # no block for ERR-006: the whole test, which holds an answer to the error rules
    assert checks_called(_judged, "ERR-006") == ("error_has_param_field", "status_is")
    assert checks_called(_judged) == ("status_is",)
