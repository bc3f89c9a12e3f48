"""``qbtsuite compare``: requirement × run, differing rows first, trend over one
target, common requirements across catalogues, --fail-on-regression."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from qbtsuite.cli import main
from qbtsuite.reporting.compare import compare_runs
from qbtsuite.reporting.compare_html import render_compare_html
from qbtsuite.reporting.compare_md import render_compare_md
from qbtsuite.results.model import Digests, RunResults
from qbtsuite.results.outcomes import Outcome
from qbtsuite.results.store import write_results
from tests.harness.synthetic import synthetic_results


def _at(results: RunResults, started: str) -> RunResults:
    return replace(results, run=replace(results.run, started=started))


def _with(results: RunResults, rid: str, outcome: Outcome) -> RunResults:
    requirements = dict(results.requirements)
    requirements[rid] = replace(requirements[rid], outcome=outcome)
    return replace(results, requirements=requirements)


def _runs(tmp_path: Path) -> list[tuple[Path, RunResults]]:
    passing = synthetic_results(fail=False)
    return [
        (tmp_path / "b", _at(synthetic_results(), "2026-01-02T00:00:00Z")),
        (tmp_path / "a", _at(passing, "2026-01-01T00:00:00Z")),
        (tmp_path / "c", _at(passing, "2026-01-03T00:00:00Z")),
        (tmp_path / "d", _at(synthetic_results(), "2026-01-04T00:00:00Z")),
    ]


def test_runs_are_put_in_time_order_and_differing_rows_come_first(
    tmp_path: Path,
) -> None:
    c = compare_runs(_runs(tmp_path))
    assert [r.label for r in c.runs] == ["a", "b", "c", "d"]
    assert c.rows[0].id == "AUTH-002" and c.rows[0].differs
    assert [r.id for r in c.differing] == ["AUTH-002"]
    assert all(not r.differs for r in c.rows[1:])


def test_a_requirement_that_changed_twice_or_more_is_flapping_with_its_first_failure(
    tmp_path: Path,
) -> None:
    row = compare_runs(_runs(tmp_path)).differing[0]
    assert [cell.outcome for cell in row.cells] == ["pass", "fail", "pass", "fail"]
    assert row.trend.flapping and row.trend.changes == 3
    assert row.trend.first_failing == 3 and row.trend.last_passing == 2
    assert row.cells[1].reason.startswith("AUTH-002 broke")
    assert row.cells[1].anchor == "req-AUTH-002"


def test_the_last_run_regressed_when_a_pass_became_a_fail_or_a_warn(
    tmp_path: Path,
) -> None:
    c = compare_runs(_runs(tmp_path))
    assert [r.id for r in c.regressions()] == ["AUTH-002"]
    steady = compare_runs(_runs(tmp_path)[:3])
    assert steady.regressions() == ()


def test_runs_of_different_catalogues_are_compared_on_common_requirements_and_say_so(
    tmp_path: Path,
) -> None:
    old = synthetic_results(fail=False)
    requirements = dict(old.requirements)
    del requirements["IMG-001"]
    old = replace(
        old,
        requirements=requirements,
        run=replace(
            old.run, digests=Digests(catalogue="0" * 64), started="2025-01-01T00:00:00Z"
        ),
    )
    c = compare_runs([(tmp_path / "old", old), (tmp_path / "new", synthetic_results())])
    assert c.catalogues_differ and c.not_common == ("IMG-001",)
    assert "IMG-001" not in {r.id for r in c.rows}
    md = render_compare_md(c)
    assert "different catalogues" in md and "IMG-001" in md
    html = render_compare_html(c, tmp_path)
    assert "different catalogues" in html and "<script" not in html


def test_the_page_links_each_failure_to_its_run_report_and_escapes_text(
    tmp_path: Path,
) -> None:
    html = render_compare_html(compare_runs(_runs(tmp_path)), tmp_path / "out")
    assert 'href="../b/report.html#req-AUTH-002"' in html
    assert 'title="AUTH-002 broke"' in html
    assert html.index("Differing (1)") < html.index("The same in every run")


def test_compare_exits_1_on_regression_only_when_asked(tmp_path: Path) -> None:
    for path, results in _runs(tmp_path)[2:]:
        write_results(path, results)
    out = tmp_path / "cmp"
    argv = ["compare", str(tmp_path / "c"), str(tmp_path / "d"), "--output", str(out)]
    assert main(argv) == 0
    assert (out / "compare.html").is_file() and (out / "compare.md").is_file()
    assert main([*argv, "--fail-on-regression"]) == 1


def test_compare_of_a_missing_folder_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["compare", str(tmp_path / "x"), str(tmp_path / "y")]) == 2
    assert capsys.readouterr().err.startswith("error: not found")
