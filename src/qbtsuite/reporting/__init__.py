"""Report writers: everything is rendered from one run's results (``results.json``).

``write_reports`` writes ``report.html``, ``summary.md``, ``junit.xml`` and
``junit-requirements.xml`` (and, for the certify profile, ``certificate.json``) into
a run folder; ``qbtsuite report`` calls it again to re-render a folder.
"""

from __future__ import annotations

from pathlib import Path

from qbtsuite import redact
from qbtsuite.reporting._common import fault_banner
from qbtsuite.reporting.certificate import write_certificate
from qbtsuite.reporting.html import render_html
from qbtsuite.reporting.junit import (
    JUNIT_FILE,
    JUNIT_REQUIREMENTS_FILE,
    render_junit_requirements,
    render_junit_tests,
)
from qbtsuite.reporting.summary_md import render_summary_md
from qbtsuite.results.model import RunResults

__all__ = ["fault_banner", "write_reports"]


def write_reports(run_dir: Path, results: RunResults) -> list[Path]:
    """Write the reports of ``results`` into ``run_dir``; return the paths written."""
    written = []
    html_path = run_dir / "report.html"
    html_path.write_text(redact.scrub(render_html(results)), encoding="utf-8")
    written.append(html_path)
    md_path = run_dir / "summary.md"
    md_path.write_text(redact.scrub(render_summary_md(results)), encoding="utf-8")
    written.append(md_path)
    for name, render in (
        (JUNIT_FILE, render_junit_tests),
        (JUNIT_REQUIREMENTS_FILE, render_junit_requirements),
    ):
        path = run_dir / name
        path.write_text(render(results), encoding="utf-8")  # scrubbed as rendered
        written.append(path)
    if results.run.profile == "certify":
        written.append(write_certificate(run_dir, results))
    return written
