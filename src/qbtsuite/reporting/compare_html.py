"""``compare.html``: the comparison on one self-contained page (inline CSS, no
scripts): a header per run, then requirement × run by area, differing rows first.
Each cell shows the outcome; its one-line reason on hover and on expanding, and a link
to the failure in that run's ``report.html``."""

from __future__ import annotations

import os
from collections.abc import Callable
from html import escape
from pathlib import Path

from qbtsuite.reporting.compare import NOT_CHECKED, Cell, Comparison, Row, RunColumn
from qbtsuite.reporting.html_style import CSS

__all__ = ["render_compare_html"]

_MORE_CSS = """
table.cmp td.cell{white-space:nowrap}
table.cmp td.cell details{display:inline-block;margin-left:4px;font-size:12px}
table.cmp td.cell details p{white-space:normal;max-width:320px;margin:4px 0}
table.cmp tr.differs td{background:#fff8f0}
.o-not-checked{background:#eaeef2;color:#57606a}
.runs th{text-align:left;vertical-align:top}
.trend{font-size:12px;color:#57606a}
.flap{color:#bc4c00;font-weight:600}
.notice{padding:10px 14px;background:#ddf4ff;border:1px solid #54aeff;border-radius:6px}
"""


def _badge(outcome: str) -> str:
    css = outcome.replace(" ", "-")
    return f'<span class="badge o-{escape(css)}">{escape(outcome)}</span>'


def _href(run: RunColumn, anchor: str, here: Path) -> str:
    folder = run.path.parent if run.path.name == "results.json" else run.path
    rel = os.path.relpath(folder / "report.html", here)
    return f"{Path(rel).as_posix()}#{anchor}" if anchor else Path(rel).as_posix()


def _cell(cell: Cell, run: RunColumn, here: Path) -> str:
    badge = _badge(cell.outcome)
    if cell.anchor:
        badge = f'<a href="{escape(_href(run, cell.anchor, here))}">{badge}</a>'
    title = f' title="{escape(cell.reason)}"' if cell.reason else ""
    why = (
        f"<details><summary>why</summary><p>{escape(cell.reason)}</p></details>"
        if cell.reason
        else ""
    )
    return f'<td class="cell"{title}>{badge}{why}</td>'


def _trend(row: Row, runs: tuple[RunColumn, ...]) -> str:
    t = row.trend
    bits = []
    if t.first_failing is not None:
        bits.append(f"failing since {escape(runs[t.first_failing].label)}")
    if t.last_passing is not None and t.last_passing < len(runs) - 1:
        bits.append(f"last passed {escape(runs[t.last_passing].label)}")
    if t.flapping:
        bits.append(f'<span class="flap">flapping ({t.changes} changes)</span>')
    return f'<td class="trend">{"; ".join(bits)}</td>'


def _rows(rows: tuple[Row, ...], c: Comparison, here: Path) -> str:
    out = []
    area = None
    width = 4 + len(c.runs)
    for row in rows:
        if row.area != area:
            area = row.area
            out.append(f'<tr><th colspan="{width}">{escape(area or "?")}</th></tr>')
        cells = "".join(
            _cell(cell, run, here) for cell, run in zip(row.cells, c.runs, strict=True)
        )
        statement = (
            row.statement if len(row.statement) <= 140 else row.statement[:140] + "…"
        )
        out.append(
            f'<tr class="{"differs" if row.differs else "same"}" id="row-{escape(row.id)}">'
            f"<td><code>{escape(row.id)}</code></td><td>{escape(row.level)}</td>"
            f'<td title="{escape(row.statement)}">{escape(statement)}</td>'
            f"{cells}{_trend(row, c.runs)}</tr>"
        )
    return "".join(out)


def _table(title: str, rows: tuple[Row, ...], c: Comparison, here: Path) -> str:
    if not rows:
        return f"<section><h2>{escape(title)} (0)</h2></section>"
    heads = "".join(f"<th>{escape(r.label)}</th>" for r in c.runs)
    return (
        f"<section><h2>{escape(title)} ({len(rows)})</h2>"
        '<table class="reqs cmp"><thead><tr><th>id</th><th>level</th><th>statement</th>'
        f"{heads}<th>trend</th></tr></thead><tbody>{_rows(rows, c, here)}</tbody></table>"
        "</section>"
    )


def _header(c: Comparison, here: Path) -> str:
    fields: list[tuple[str, Callable[[RunColumn], str]]] = [
        ("target", lambda r: r.target),
        ("identity", lambda r: r.identity or "not certified"),
        ("faults", lambda r: ", ".join(r.faults) or "none"),
        ("suite version", lambda r: r.suite_version),
        ("catalogue", lambda r: r.catalogue[:12] or "unknown"),
        ("started (UTC)", lambda r: r.started),
        ("verdict", lambda r: r.verdict),
    ]
    heads = "".join(
        f'<th><a href="{escape(_href(r, "", here))}">{escape(r.label)}</a></th>'
        for r in c.runs
    )
    body = "".join(
        f"<tr><th>{escape(name)}</th>"
        + "".join(f"<td>{escape(get(r))}</td>" for r in c.runs)
        + "</tr>"
        for name, get in fields
    )
    return f'<table class="reqs runs"><thead><tr><th></th>{heads}</tr></thead><tbody>{body}</tbody></table>'


def render_compare_html(c: Comparison, here: Path) -> str:
    """The page, with links relative to the folder ``here`` it is written to."""
    kind = "trend of one target" if c.one_target else "gateway matrix"
    notice = ""
    if c.catalogues_differ:
        notice = (
            '<p class="notice">These runs were made from different catalogues '
            "(digests differ): they are compared on the "
            f"{len(c.rows)} requirements every catalogue holds; "
            f"{len(c.not_common)} others are left out"
            + (
                f" ({escape(', '.join(c.not_common[:20]))}{'…' if len(c.not_common) > 20 else ''})"
                if c.not_common
                else ""
            )
            + ".</p>"
        )
    same = tuple(r for r in c.rows if not r.differs)
    regressed = c.regressions()
    reg = (
        f'<p class="notice">The last run regressed against the one before on '
        f"{len(regressed)} requirement(s): {escape(', '.join(r.id for r in regressed))}.</p>"
        if regressed
        else ""
    )
    title = f"qbtsuite compare: {len(c.runs)} runs"
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{escape(title)}</title><style>{CSS}{_MORE_CSS}</style></head><body><main>"
        f'<div class="verdict meh"><h1>{escape(title)}</h1><p>{escape(kind)}: '
        f"{len(c.differing)} of {len(c.rows)} requirements differ "
        f"(outcomes: pass, fail, warn, unsupported, skipped, error, {NOT_CHECKED})</p></div>"
        f"<section><h2>Runs (in time order)</h2>{_header(c, here)}{notice}{reg}</section>"
        f"{_table('Differing', c.differing, c, here)}"
        f"{_table('The same in every run', same, c, here)}"
        "</main></body></html>\n"
    )
