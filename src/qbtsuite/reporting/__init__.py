"""Report writers: everything is rendered from one run's results (``results.json``).

``render_reports`` gives the text of ``report.html``, ``summary.md``, ``junit.xml``
and ``junit-requirements.xml``; ``write_reports`` writes them into a run folder
(``qbtsuite run``, and ``qbtsuite report`` to re-render a folder). A certify run's
``certificate.json`` is written after them, over every file of the folder
(:mod:`qbtsuite.certify`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from qbtsuite import redact
from qbtsuite.reporting._common import fault_banner
from qbtsuite.reporting.har import HAR_FILE, render_har
from qbtsuite.reporting.html import render_html
from qbtsuite.reporting.junit import (
    JUNIT_FILE,
    JUNIT_REQUIREMENTS_FILE,
    render_junit_requirements,
    render_junit_tests,
)
from qbtsuite.reporting.reproduce import Repro, reproductions, write_bodies
from qbtsuite.reporting.summary_md import render_summary_md
from qbtsuite.results.model import RunResults
from qbtsuite.target.wirelog import WireExchange, read_exchanges

__all__ = [
    "REPORT_FILES",
    "fault_banner",
    "render_reports",
    "repros_of",
    "write_har",
    "write_reports",
]

REPORT_FILES = ("report.html", "summary.md", JUNIT_FILE, JUNIT_REQUIREMENTS_FILE)


def render_reports(
    results: RunResults, repros: Mapping[str, Repro] | None = None
) -> dict[str, str]:
    """The text of each report file of ``results``, by file name (redacted)."""
    return {
        "report.html": redact.scrub(render_html(results, repros)),
        "summary.md": redact.scrub(render_summary_md(results, repros)),
        JUNIT_FILE: render_junit_tests(results),  # scrubbed as rendered
        JUNIT_REQUIREMENTS_FILE: render_junit_requirements(results),
    }


def _exchanges(run_dir: Path) -> list[WireExchange]:
    """The folder's recorded exchanges; none when it recorded none (an older run)
    or its recording is unreadable."""
    try:
        return read_exchanges(run_dir)
    except (OSError, ValueError):
        return []


def repros_of(run_dir: Path, results: RunResults) -> dict[str, Repro]:
    """The reproductions of the failing tests, from the folder's recorded exchanges."""
    return reproductions(results, _exchanges(run_dir), run_dir)


def write_har(
    run_dir: Path, exchanges: Sequence[WireExchange] | None = None
) -> Path | None:
    """``transcripts.har`` of the folder's recorded exchanges (none without them)."""
    if exchanges is None:
        exchanges = _exchanges(run_dir)
    if not exchanges:
        return None
    path = run_dir / HAR_FILE
    path.write_text(render_har(exchanges), encoding="utf-8")
    return path


def write_reports(run_dir: Path, results: RunResults) -> list[Path]:
    """Write the reports of ``results`` into ``run_dir``; return the paths written."""
    exchanges = _exchanges(run_dir)  # read once: a recording may be large
    repros = reproductions(results, exchanges, run_dir)
    written = write_bodies(run_dir, repros)
    har = write_har(run_dir, exchanges)
    if har is not None:
        written.append(har)
    for name, text in render_reports(results, repros).items():
        path = run_dir / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
