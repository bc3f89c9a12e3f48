"""The fault matrix as a terminal table and as Markdown (for the README)."""

from __future__ import annotations

from qbtsuite.selftest.matrix import INCOMPLETE, Matrix, Row

__all__ = ["matrix_markdown", "matrix_summary", "matrix_table"]


def _expected(row: Row) -> str:
    if row.plan.expects == INCOMPLETE:
        return "no verdict: incomplete (exit 4)"
    return ", ".join(row.plan.breaks)


def _observed(row: Row) -> str:
    failing = ", ".join(sorted(row.run.failing)) or "—"
    if row.plan.expects != INCOMPLETE:
        return failing
    judged = len(row.run.judged_on_throttle)
    return (
        f"exit {row.run.exit_code}, {len(row.run.errors)} errors, failing {failing}, "
        f"{judged} verdicts on throttled answers"
    )


def _note(row: Row) -> str:
    parts = []
    if row.missed:
        parts.append("missed " + ", ".join(row.missed))
    if row.unexplained:
        parts.append("unexplained " + ", ".join(row.unexplained))
    if row.explained:
        parts.append("collateral " + ", ".join(row.explained))
    if row.run.errors and row.plan.expects != INCOMPLETE:
        parts.append("errors " + ", ".join(sorted(row.run.errors)))
    if row.run.judged_on_throttle:
        parts.append("judged on throttles " + ", ".join(row.run.judged_on_throttle))
    if row.run.problem:
        parts.append(row.run.problem)
    if row.status == "invisible":
        parts.append(f"not visible black-box: {row.plan.invisible_because}")
    return "; ".join(parts)


def matrix_table(matrix: Matrix) -> str:
    """One line per fault: name, expected ids, observed failing ids, status."""
    width = max((len(r.plan.name) for r in matrix.rows), default=10)
    lines = [f"{'fault':<{width}}  {'status':<9} expected → observed"]
    for row in matrix.rows:
        expected = _expected(row)
        line = (
            f"{row.plan.name:<{width}}  {row.status:<9} {expected} → {_observed(row)}"
        )
        note = _note(row)
        lines.append(line + (f"  [{note}]" if note else ""))
    return "\n".join(lines)


def matrix_summary(matrix: Matrix) -> str:
    """Catch rate, collateral, the clean run and the wall time, in a few lines."""
    visible = matrix.visible
    caught = sum(r.status == "caught" for r in visible)
    unexplained = sum(bool(r.unexplained) for r in matrix.rows)
    invisible = len(matrix.rows) - len(visible)
    clean = matrix.clean
    clean_text = (
        f"problem: {clean.problem}"
        if clean.problem
        else f"{len(clean.failing)} failing, {len(clean.errors)} errors"
        f" over {len(clean.outcomes)} requirements"
    )
    return "\n".join(
        [
            f"catch rate        {caught}/{len(visible)} visible faults"
            f" ({100 * matrix.catch_rate:.0f}%); {invisible} not visible black-box",
            f"unexplained       {unexplained} faults with unexplained collateral failures",
            f"clean server      {clean_text}",
            f"wall time         {matrix.seconds:.0f} s",
            f"verdict           {'ok' if matrix.ok else 'NOT OK'}",
        ]
    )


def matrix_markdown(matrix: Matrix) -> str:
    """The matrix as a Markdown table followed by the summary."""
    lines = [
        "| fault | area | must break | observed failing | status |",
        "|---|---|---|---|---|",
    ]
    for row in matrix.rows:
        status = row.status
        note = _note(row)
        if note:
            status += f" ({note})"
        lines.append(
            f"| `{row.plan.name}` | {row.plan.area} | {_expected(row)} "
            f"| {_observed(row)} | {status} |"
        )
    return "\n".join(lines) + "\n\n```\n" + matrix_summary(matrix) + "\n```\n"
