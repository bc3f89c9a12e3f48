"""``qbtsuite diff``: newly failing, newly passing, changed; exit 1 on new failures."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from qbtsuite.cli import main
from qbtsuite.reporting.diff import diff_results, render_diff
from qbtsuite.results.outcomes import Outcome
from qbtsuite.results.store import write_results
from tests.harness.synthetic import synthetic_results


def test_a_requirement_that_starts_failing_is_newly_failing() -> None:
    diff = diff_results(synthetic_results(fail=False), synthetic_results())
    assert [(c.id, c.old, c.new) for c in diff.newly_failing] == [
        ("AUTH-002", Outcome.PASS, Outcome.FAIL)
    ]
    assert not diff.newly_passing and not diff.changed


def test_a_fixed_requirement_is_newly_passing_and_other_moves_are_changes() -> None:
    old = synthetic_results()
    fixed = synthetic_results(fail=False)
    requirements = dict(fixed.requirements)
    requirements["IMG-001"] = replace(requirements["IMG-001"], outcome=Outcome.SKIPPED)
    del requirements["RATE-001"]
    new = replace(fixed, requirements=requirements)
    diff = diff_results(old, new)
    assert [c.id for c in diff.newly_passing] == ["AUTH-002"]
    assert [(c.id, c.new) for c in diff.changed] == [
        ("IMG-001", Outcome.SKIPPED),
        ("RATE-001", None),
    ]
    text = render_diff(diff, "old", "new")
    assert "Newly passing (1):" in text and "Changed (2):" in text
    assert "RATE-001        skipped → not run" in text


def test_identical_runs_have_no_changes() -> None:
    diff = diff_results(synthetic_results(), synthetic_results())
    assert diff.empty
    assert "no requirement changed" in render_diff(diff, "a", "b")


def test_the_diff_command_exits_1_only_when_something_newly_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good, bad = tmp_path / "good", tmp_path / "bad"
    write_results(good, synthetic_results(fail=False))
    write_results(bad, synthetic_results())
    assert main(["diff", str(good), str(bad)]) == 1
    assert "Newly failing (1):" in capsys.readouterr().out
    assert main(["diff", str(bad), str(good)]) == 0
    assert main(["diff", str(good), str(tmp_path / "missing")]) == 2
    assert "not found" in capsys.readouterr().err


def test_the_report_command_re_renders_a_run_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_results(tmp_path, synthetic_results())
    assert main(["report", str(tmp_path)]) == 0
    assert (tmp_path / "report.html").is_file() and (tmp_path / "summary.md").is_file()
    assert "verdict  not conformant" in capsys.readouterr().out
    assert main(["report", str(tmp_path / "nowhere")]) == 2
