"""Report writers: everything is rendered from one run's results (``results.json``).

``render_reports`` gives the text of ``report.html`` and ``summary.md``;
``write_reports`` writes them into a run folder (``qbtsuite run``, and
``qbtsuite report`` to re-render a folder). A certify run's ``certificate.json`` is
written after them, over every file of the folder (:mod:`qbtsuite.certify`).
"""

from __future__ import annotations

from pathlib import Path

from qbtsuite import redact
from qbtsuite.reporting.html import render_html
from qbtsuite.reporting.summary_md import render_summary_md
from qbtsuite.results.model import RunResults

__all__ = ["REPORT_FILES", "render_reports", "write_reports"]

REPORT_FILES = ("report.html", "summary.md")


def render_reports(results: RunResults) -> dict[str, str]:
    """The text of each report file of ``results``, by file name (redacted)."""
    return {
        "report.html": redact.scrub(render_html(results)),
        "summary.md": redact.scrub(render_summary_md(results)),
    }


def write_reports(run_dir: Path, results: RunResults) -> list[Path]:
    """Write the reports of ``results`` into ``run_dir``; return the paths written."""
    written = []
    for name, text in render_reports(results).items():
        path = run_dir / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
