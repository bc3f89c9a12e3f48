"""``qbtsuite diff``: newly failing, newly warning, newly passing, changed; exit 1 on
new failures (and new warnings with --strict); unlike runs said so; Markdown too."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from qbtsuite.cli import main
from qbtsuite.reporting.diff import diff_results, render_diff
from qbtsuite.results.model import RunResults, Selection
from qbtsuite.results.outcomes import Outcome
from qbtsuite.results.store import write_results
from tests.harness.synthetic import FACTS, synthetic_results


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


def _with(results: RunResults, **outcomes: Outcome) -> RunResults:
    requirements = dict(results.requirements)
    for rid, outcome in outcomes.items():
        requirements[rid.replace("_", "-")] = replace(
            requirements[rid.replace("_", "-")], outcome=outcome
        )
    return replace(results, requirements=requirements)


def test_pass_to_warn_is_counted_apart_from_pass_to_fail() -> None:
    old = _with(synthetic_results(fail=False), SSE_002=Outcome.PASS)
    new = _with(synthetic_results(), SSE_002=Outcome.WARN)
    diff = diff_results(old, new)
    assert [c.id for c in diff.newly_failing] == ["AUTH-002"]
    assert [(c.id, c.old, c.new) for c in diff.newly_warning] == [
        ("SSE-002", Outcome.PASS, Outcome.WARN)
    ]
    text = render_diff(diff, "a", "b")
    assert "1 newly failing, 1 newly warning, 0 newly passing, 0 changed" in text
    assert "Newly warning (1):" in text


def test_only_a_new_failure_exits_1_unless_strict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    write_results(old, _with(synthetic_results(fail=False), SSE_002=Outcome.PASS))
    write_results(new, _with(synthetic_results(fail=False), SSE_002=Outcome.WARN))
    assert main(["diff", str(old), str(new)]) == 0
    assert "Newly warning (1):" in capsys.readouterr().out
    assert main(["diff", "--strict", str(old), str(new)]) == 1


def test_runs_that_are_not_alike_are_said_to_be_so_first() -> None:
    old = synthetic_results()
    run = replace(
        old.run,
        profile="smoke",
        selection=Selection(areas=("auth",), skip_requirements=("AUTH-003",)),
    )
    diff = diff_results(old, replace(old, run=run))
    assert diff.unlike == [
        "profile: full → smoke",
        "selection: everything in the profile → --area auth --skip-requirement AUTH-003",
    ]
    text = render_diff(diff, "a", "b").splitlines()
    assert text[1] == "the runs are not alike, so outcomes may differ for that alone:"
    assert diff_results(old, old).unlike == []


def test_the_markdown_diff_is_a_table_per_group_for_a_job_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good, bad = tmp_path / "good", tmp_path / "bad"
    write_results(good, synthetic_results(fail=False))
    write_results(
        bad, replace(synthetic_results(), run=replace(FACTS, profile="smoke"))
    )
    assert main(["diff", "--markdown", str(good), str(bad)]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"### ❌ Qubittron conformance: `{good}` → `{bad}`")
    assert "> - profile: full → smoke" in out
    assert "#### Newly failing (1)" in out
    assert (
        "| **AUTH-002** | pass | fail | An unknown key gets 401 <invalid_api_key>. |"
        in out
    )
