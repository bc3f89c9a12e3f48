"""SIGTERM and SIGINT stop every command and everything it started, and say so.

Each test starts a real command as a user would (``python -m qbtsuite``, a session of
its own, a private ``TMPDIR``), waits until it is under way, signals it, and checks: the
exit code (143 for SIGTERM, 128 + 15; 130 for SIGINT), every process it started gone
within 5 s of the signal, none alive once it has exited, nothing left in its
``TMPDIR`` (the embedded server's state folder, with its TLS key, included), and reports
that say ``interrupted``. The command's own exit also writes those reports (redacting
every string), so it is held to a hang bound. The figures of each stop are the tests'
user properties (``--junitxml x.xml -o junit_family=xunit1`` shows them).
"""

from __future__ import annotations

import json
import signal
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from qbtsuite.schemas import validate
from tests.signals.interrupt import Command, Stopped, jsonl_lines

pytestmark = pytest.mark.slow

# Seconds from the signal until every process the command started is gone.
STOP_BOUND = 5.0
EXIT_BOUND = 15.0  # seconds until the command itself has exited (reports written)
EXIT_CODES: dict[int, int] = {signal.SIGTERM: 143, signal.SIGINT: 130}


def _assert_stopped_cleanly(
    stopped: Stopped, signum: int, request: pytest.FixtureRequest
) -> None:
    name = signal.Signals(signum).name
    request.node.user_properties += [
        ("children_gone_after_s", round(stopped.children_gone_after, 3)),
        ("exited_after_s", round(stopped.exited_after, 3)),
        ("stop", f"{name}: {stopped.describe()}"),
    ]
    assert stopped.exit_code == EXIT_CODES[signum], (
        f"Received: exit {stopped.exit_code}\nExpected: {EXIT_CODES[signum]} after "
        f"{name}\n{stopped.stderr[-1500:]}"
    )
    assert stopped.children_gone_after <= STOP_BOUND, (
        f"Received: its children were still running {stopped.children_gone_after:.2f} s "
        f"after {name}\nExpected: all gone within {STOP_BOUND:g} s"
    )
    assert stopped.exited_after <= EXIT_BOUND, (
        f"Received: exited {stopped.exited_after:.2f} s after {name}\n"
        f"Expected: within {EXIT_BOUND:g} s"
    )
    assert not stopped.left_alive, (
        f"Received: still alive once it had exited: "
        f"{[m.command for m in stopped.left_alive]}\nExpected: no process left"
    )
    assert not stopped.left_in_tmp, (
        f"Received: left in its TMPDIR: {stopped.left_in_tmp}\nExpected: nothing"
    )
    kept = [str(d) for d in stopped.state_dirs if d.exists()]
    assert not kept, (
        f"Received: server state folders still there: {kept}\nExpected: removed "
        "(they hold the server's TLS key and keys)"
    )


def _results(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "results.json").read_text("utf-8"))
    return data


def _assert_run_reported_interrupted(out: Path, signum: int) -> None:
    name = signal.Signals(signum).name
    results = _results(out)
    assert results["verdict"] == "interrupted", (
        f"Received: verdict {results['verdict']!r}\nExpected: 'interrupted' for a run "
        f"stopped by {name}"
    )
    assert results["interrupted"] == {"signal": name}
    assert results["not_checked"], (
        "Received: not_checked empty\nExpected: the requirements whose tests never ran"
    )
    assert results["tests"], "Received: no test records\nExpected: what did run"
    assert validate("results.schema", results) == []
    summary = (out / "summary.md").read_text("utf-8")
    assert f"Interrupted by {name}" in summary, summary[:800]
    assert "Interrupted" in (out / "report.html").read_text("utf-8")
    properties = {
        p.get("name"): p.get("value")
        for p in ET.parse(out / "junit.xml").getroot().iter("property")
    }
    assert properties.get("verdict") == "interrupted", properties


def _run_under_way(out: Path, tests: int = 15) -> tuple[Any, str]:
    return (lambda: jsonl_lines(out / "records", "*.jsonl") >= tests), (
        f"{tests} test records"
    )


@pytest.mark.parametrize(
    ("signum", "workers"),
    [
        pytest.param(signal.SIGTERM, [], id="sigterm-serial"),
        pytest.param(signal.SIGINT, [], id="sigint-serial"),
        pytest.param(signal.SIGTERM, ["-n", "2"], id="sigterm-xdist"),
        pytest.param(signal.SIGINT, ["-n", "2"], id="sigint-xdist"),
    ],
)
def test_a_signal_stops_a_run_its_server_and_workers_and_reports_it_interrupted(
    tmp_path: Path, signum: int, workers: list[str], request: pytest.FixtureRequest
) -> None:
    out = tmp_path / "out"
    with Command(["run", *workers, "--output", str(out)], tmp_path) as command:
        command.wait_until(*_run_under_way(out))
        stopped = command.stop(signum)
    _assert_stopped_cleanly(stopped, signum, request)
    _assert_run_reported_interrupted(out, signum)
    assert "interrupted by" in stopped.stderr


def _load_under_way(out: Path) -> tuple[Any, str]:
    return (lambda: jsonl_lines(out, "samples.jsonl") >= 20), "20 load samples"


@pytest.mark.parametrize(
    ("signum", "workers"),
    [
        pytest.param(signal.SIGTERM, ["--workers", "2"], id="sigterm-workers"),
        pytest.param(signal.SIGINT, [], id="sigint-one-process"),
    ],
)
def test_a_signal_stops_a_load_run_and_reports_the_samples_so_far(
    tmp_path: Path, signum: int, workers: list[str], request: pytest.FixtureRequest
) -> None:
    out = tmp_path / "out"
    args = ["load", "smoke", "-t", "60s", *workers, "--output", str(out)]
    with Command(args, tmp_path) as command:
        command.wait_until(*_load_under_way(out))
        stopped = command.stop(signum)
    _assert_stopped_cleanly(stopped, signum, request)
    name = signal.Signals(signum).name
    report = json.loads((out / "load.json").read_text("utf-8"))
    assert (report["verdict"], report["exit_code"]) == (
        "interrupted",
        EXIT_CODES[signum],
    ), f"Received: {report['verdict']} / {report['exit_code']}"
    assert report["interrupted"]["signal"] == name
    assert report["samples"]["total"] > 0
    assert report["interrupted"]["at_s"] < report["interrupted"]["planned_s"]
    assert "**Interrupted** by " + name in (out / "summary.md").read_text("utf-8")
    assert "Interrupted" in (out / "report.html").read_text("utf-8")
    errors = [
        e.get("type") for e in ET.parse(out / "junit.xml").getroot().iter("error")
    ]
    assert errors == ["interrupted"], errors
    assert f"interrupted by {name}" in stopped.stdout + stopped.stderr


def test_sigterm_stops_the_selftest_and_every_run_under_way(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    out = tmp_path / "matrix"
    args = ["selftest", "--fault", "streaming.no_done", "--jobs", "2"]
    with Command([*args, "--output", str(out)], tmp_path) as command:
        command.wait_until(
            lambda: jsonl_lines(out / "clean" / "records", "*.jsonl") >= 15,
            "15 test records of the clean run",
        )
        stopped = command.stop(signal.SIGTERM)
    _assert_stopped_cleanly(stopped, signal.SIGTERM, request)
    assert "selftest interrupted" in stopped.stderr
    _assert_run_reported_interrupted(out / "clean", signal.SIGTERM)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_qbtsuite_serve_with_its_exit_code(
    tmp_path: Path, signum: int, request: pytest.FixtureRequest
) -> None:
    state = tmp_path / "state"
    with Command(["serve", "--quiet", "--state-dir", str(state)], tmp_path) as command:
        command.wait_until((state / "server.json").exists, "server.json")
        stopped = command.stop(signum)
    _assert_stopped_cleanly(stopped, signum, request)


def test_a_second_signal_during_the_cleanup_stops_everything_at_once(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    out = tmp_path / "out"
    with Command(["run", "--output", str(out)], tmp_path) as command:
        command.wait_until(*_run_under_way(out))
        # The first SIGTERM is passed on to the server at once; once it is gone the
        # command is writing its reports, and the second SIGTERM lands there.
        stopped = command.stop(signal.SIGTERM, then=signal.SIGTERM)
    if "second signal" not in stopped.stderr:
        pytest.skip("the first signal's cleanup was over before the second arrived")
    _assert_stopped_cleanly(stopped, signal.SIGTERM, request)
