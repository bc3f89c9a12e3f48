"""Report writers, rendered from a synthetic results.json."""

from __future__ import annotations

import re
from pathlib import Path

from qbtsuite.reporting import write_reports
from qbtsuite.reporting.html import render_html
from qbtsuite.reporting.summary_md import render_summary_md
from qbtsuite.reporting.terminal import render_terminal_summary
from qbtsuite.results.outcomes import Outcome, Verdict
from qbtsuite.results.records import exit_code_for
from tests.harness.synthetic import IDENTITY, synthetic_results


def test_the_merge_gives_each_requirement_its_worst_outcome_and_a_verdict() -> None:
    results = synthetic_results()
    outcomes = {rid: r.outcome for rid, r in results.requirements.items()}
    assert outcomes == {
        "AUTH-001": Outcome.PASS, "AUTH-002": Outcome.FAIL, "SSE-001": Outcome.PASS,
        "SSE-002": Outcome.WARN, "IMG-001": Outcome.UNSUPPORTED,
        "RATE-001": Outcome.SKIPPED,
    }  # fmt: skip
    assert results.verdict is Verdict.NOT_CONFORMANT
    assert results.not_checked == ("AUD-001",)
    assert results.totals == {
        Outcome.PASS: 2,
        Outcome.FAIL: 1,
        Outcome.WARN: 1,
        Outcome.UNSUPPORTED: 1,
        Outcome.SKIPPED: 1,
        Outcome.ERROR: 0,
    }
    assert results.flakes[0].retry.reason == "502 Bad Gateway"


def test_verdicts_map_to_exit_codes() -> None:
    assert exit_code_for(synthetic_results(fail=False).verdict) == 0
    assert exit_code_for(synthetic_results().verdict) == 1
    assert exit_code_for(synthetic_results(fail=False, strict=True).verdict) == 1
    assert exit_code_for(Verdict.INCOMPLETE) == 4
    assert exit_code_for(Verdict.EMPTY) == 2


def test_the_html_report_is_self_contained_and_escapes_target_text() -> None:
    page = render_html(synthetic_results())
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"<(script|link|img|iframe)\b", page)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Not conformant" in page
    assert 'id="req-AUTH-002"' in page  # each failure has its card
    assert "AUTH-002 broke" in page and "authorization: Bearer [REDACTED]" in page
    assert "401 &lt;invalid_api_key&gt;" in page


def test_the_html_report_lists_the_matrix_by_area() -> None:
    page = render_html(synthetic_results())
    matrix = page[page.index('class="matrix"') : page.index("</table>")]
    assert [m for m in re.findall(r'href="#area-([a-z-]+)"', matrix)] == [
        "auth", "streaming", "images", "rate-limits",
    ]  # fmt: skip


def test_the_markdown_summary_has_the_verdict_the_table_and_the_failures() -> None:
    text = render_summary_md(synthetic_results())
    assert text.startswith("## ❌ Qubittron conformance: not conformant")
    assert "| auth | 1 | 1 |" in text
    assert "**AUTH-002** `fail`" in text and "**SSE-002** `warn`" in text
    assert "Retries (flakes): 1" in text
    assert "AUTH-001" not in text.split("### Failures")[1]


def test_the_terminal_summary_fits_one_screen() -> None:
    text = render_terminal_summary(synthetic_results())
    lines = text.splitlines()
    assert len(lines) < 30 and max(len(line) for line in lines) <= 100
    assert lines[0].split()[:3] == ["area", "pass", "fail"]
    assert any(line.startswith("auth ") for line in lines)
    assert "verdict  not conformant · 1 retried request(s)" in text


def test_write_reports_writes_the_html_the_markdown_and_the_junit_files(
    tmp_path: Path,
) -> None:
    # certificate.json is written after every report, by qbtsuite.certify.
    for profile in ("full", "certify"):
        results = synthetic_results(profile=profile)
        written = {p.name for p in write_reports(tmp_path, results)}
        assert written == {
            "report.html",
            "summary.md",
            "junit.xml",
            "junit-requirements.xml",
        }, profile


def test_every_report_names_the_certified_product_and_what_was_left_out() -> None:
    results = synthetic_results(profile="certify", identity=IDENTITY, areas=("auth",))
    html = render_html(results)
    assert "Qubittron API conformance of Gateway One 2.0 (Example Vendor)" in html
    assert "<dt>Contact</dt><dd>qa@vendor.example</dd>" in html
    assert "--area auth" in html and "<dt>Left out</dt>" in html
    summary = render_summary_md(results)
    assert "- Product: **Gateway One 2.0** by Example Vendor" in summary
    assert "- Left out: --area auth" in summary
    assert "product  Gateway One 2.0 (Example Vendor)" in render_terminal_summary(
        results
    )


def test_each_transcript_is_labelled_with_its_request_and_status() -> None:
    page = render_html(synthetic_results())
    assert "<summary>1 · POST /v1/chat/completions → 200 OK</summary>" in page


def test_the_dry_run_listing_names_the_selection_it_plans() -> None:
    from qbtsuite.reporting.plan import render_plan
    from qbtsuite.results.model import Selection
    from qbtsuite.results.plan import Plan, PlannedTest, Spend, SpendTally

    spend = Spend(requests=1.0)
    plan = Plan(
        tests=(PlannedTest("test_auth.py::test_a", "auth", spend),),
        areas={"auth": SpendTally(1, spend)},
        totals=SpendTally(1, spend),
        undeclared=0,
        profile="smoke",
        selection=Selection(skip_areas=("images",), keyword="stream"),
    )
    first = render_plan(plan).splitlines()[0]
    assert first == "profile smoke · --skip-area images -k 'stream'"
