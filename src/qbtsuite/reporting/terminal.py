"""The one-screen summary printed at the end of ``qbtsuite run``."""

from __future__ import annotations

from collections.abc import Mapping

from qbtsuite.reporting._common import (
    OUTCOMES,
    area_counts,
    by_area,
    fault_banner,
    faults_of,
    interruption_line,
    problems,
    target_label,
)
from qbtsuite.reporting.reproduce import Repro
from qbtsuite.results.model import RunResults

__all__ = ["render_repro_lines", "render_terminal_summary"]

_MAX_PROBLEMS = 8


def render_terminal_summary(results: RunResults) -> str:
    """Per-area counts, the verdict and the first failures, in about 30 lines."""
    header = f"{'area':<16}" + "".join(f"{o:>12}" for o in OUTCOMES)
    lines = [header, "─" * len(header)]
    for area, reqs in by_area(results).items():
        counts = area_counts(reqs)
        lines.append(
            f"{area:<16}" + "".join(f"{counts[o] or '·':>12}" for o in OUTCOMES)
        )
    totals = results.totals
    lines.append("─" * len(header))
    lines.append(
        f"{'total':<16}" + "".join(f"{totals.get(o, 0):>12}" for o in OUTCOMES)
    )
    found = problems(results)
    if found:
        lines.append("")
        for req in found[:_MAX_PROBLEMS]:
            first = (req.messages or ("",))[0].splitlines()
            detail = f": {first[0][:70]}" if first else ""
            lines.append(f"  {req.outcome:<5} {req.id:<11} {req.level:<6}{detail}")
        if len(found) > _MAX_PROBLEMS:
            lines.append(f"  … and {len(found) - _MAX_PROBLEMS} more in report.html")
    flakes = len(results.flakes)
    identity = results.run.identity
    lines += [""]
    if identity is not None:
        lines.append(f"product  {identity.label()}")
    lines += [
        f"target   {target_label(results)}",
        *(
            [f"note     {fault_banner(faults_of(results))}"]
            if faults_of(results)
            else []
        ),
        f"verdict  {results.verdict}"
        + (" (strict)" if results.strict else "")
        + (f" · {flakes} retried request(s)" if flakes else ""),
    ]
    stopped = interruption_line(results)
    if stopped is not None:
        lines.append(stopped)
    return "\n".join(lines)


def render_repro_lines(repros: Mapping[str, Repro]) -> str:
    """For ``-v``: each failing or warning test, the curl line that sends its request
    again (whole: it is for pasting) and the qbtsuite run line that re-checks it."""
    if not repros:
        return ""
    lines = ["", f"reproduce ({len(repros)} failing or warning tests)"]
    for repro in repros.values():
        lines += [
            f"  {repro.outcome:<5} {repro.nodeid} ({', '.join(repro.requirements)})",
            f"    {repro.curl}",
            f"    {repro.rerun}",
        ]
    return "\n".join(lines)
