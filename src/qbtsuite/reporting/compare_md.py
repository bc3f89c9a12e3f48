"""``compare.md``: the comparison as Markdown for a CI job summary: the runs, then
the differing requirements (each cell its outcome and reason), then a count of the
rest."""

from __future__ import annotations

from qbtsuite.reporting.compare import Comparison, Row

__all__ = ["render_compare_md"]

_ICON = {
    "pass": "✅",
    "fail": "❌",
    "warn": "⚠️",
    "error": "💥",
    "unsupported": "➖",
    "skipped": "⏭️",
}
_REASON = 90  # characters of a reason in a cell


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _outcome(outcome: str, reason: str) -> str:
    icon = _ICON.get(outcome, "·")
    short = reason if len(reason) <= _REASON else reason[:_REASON] + "…"
    return f"{icon} {outcome}" + (f"<br><sub>{_cell(short)}</sub>" if short else "")


def _trend(row: Row, c: Comparison) -> str:
    t = row.trend
    bits = []
    if t.first_failing is not None:
        bits.append(f"failing since {c.runs[t.first_failing].label}")
    if t.last_passing is not None and t.last_passing < len(c.runs) - 1:
        bits.append(f"last passed {c.runs[t.last_passing].label}")
    if t.flapping:
        bits.append(f"**flapping** ({t.changes} changes)")
    return "; ".join(bits)


def render_compare_md(c: Comparison) -> str:
    lines = [
        f"## qbtsuite compare: {len(c.runs)} runs, {len(c.differing)} of {len(c.rows)} requirements differ",
        "",
    ]
    lines += [
        "| run | started (UTC) | target | identity | faults | suite | catalogue | verdict |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in c.runs:
        lines.append(
            f"| {_cell(r.label)} | {r.started} | {_cell(r.target)} | {_cell(r.identity or 'not certified')} "
            f"| {_cell(', '.join(r.faults) or 'none')} | {_cell(r.suite_version)} | `{r.catalogue[:12] or 'unknown'}` | {r.verdict} |"
        )
    lines.append("")
    if c.catalogues_differ:
        lines += [
            f"> ℹ️ The runs come from different catalogues: compared on the {len(c.rows)} "
            f"requirements every catalogue holds; {len(c.not_common)} others left out"
            + (
                f" ({', '.join(c.not_common[:20])}{'…' if len(c.not_common) > 20 else ''})"
                if c.not_common
                else ""
            )
            + ".",
            "",
        ]
    regressed = c.regressions()
    if regressed:
        lines += [
            f"> ❌ The last run regressed on {len(regressed)}: {', '.join(r.id for r in regressed)}",
            "",
        ]
    if c.differing:
        heads = " | ".join(_cell(r.label) for r in c.runs)
        lines += [
            f"| requirement | area | {heads} | trend |",
            "|---|---|" + "---|" * len(c.runs) + "---|",
        ]
        for row in c.differing:
            cells = " | ".join(
                _outcome(cell.outcome, cell.reason) for cell in row.cells
            )
            lines.append(
                f"| `{row.id}` {row.level} | {row.area} | {cells} | {_trend(row, c)} |"
            )
        lines.append("")
    else:
        lines += ["No requirement differs between these runs.", ""]
    lines.append(
        f"{len(c.rows) - len(c.differing)} requirements have the same outcome in every run."
    )
    return "\n".join(lines) + "\n"
