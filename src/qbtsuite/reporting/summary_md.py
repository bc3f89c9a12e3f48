"""``summary.md``: the verdict and the failures, ready for a CI job summary page."""

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
from qbtsuite.results.outcomes import Verdict
from qbtsuite.results.records import left_out

__all__ = ["render_summary_md"]

_ICON = {
    Verdict.CONFORMANT: "✅",
    Verdict.NOT_CONFORMANT: "❌",
    Verdict.INCOMPLETE: "⚠️",
    Verdict.PARTIAL: "◐",
    Verdict.INTERRUPTED: "⏹️",
}
_MAX_PROBLEMS = 50
_MAX_MESSAGE = 600


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _fence(text: str) -> str:
    text = text if len(text) <= _MAX_MESSAGE else text[:_MAX_MESSAGE] + " …"
    return "```text\n" + text.replace("```", "'''") + "\n```"


def _repro_lines(repros: Mapping[str, Repro]) -> list[str]:
    if not repros:
        return []
    lines = ["", f"### Reproduce ({len(repros)} failing or warning tests)", ""]
    for repro in list(repros.values())[:_MAX_PROBLEMS]:
        lines += [
            f"- `{repro.nodeid}` ({repro.outcome}: {', '.join(repro.requirements)})",
            "",
            "```sh",
            repro.curl_shown,
            repro.rerun,
            "```",
            "",
        ]
    if len(repros) > _MAX_PROBLEMS:
        lines.append(f"- … and {len(repros) - _MAX_PROBLEMS} more (see report.html)")
    return lines


def render_summary_md(
    results: RunResults, repros: Mapping[str, Repro] | None = None
) -> str:
    """The Markdown summary of one run (with a curl line per failing test)."""
    run = results.run
    verdict = results.verdict
    faults = faults_of(results)
    strict = " (strict: SHOULD failures count)" if results.strict else ""
    identity = run.identity
    lines = [
        f"## {_ICON.get(verdict, 'ℹ️')} Qubittron conformance: {verdict}{strict}",
        "",
        *([f"> ⚠️ **{fault_banner(faults)}**", ""] if faults else []),
    ]
    if identity is not None:
        lines += [
            f"- Product: **{_cell(identity.product)} {_cell(identity.version)}** by "
            f"{_cell(identity.vendor)} ({_cell(identity.url)}; {_cell(identity.contact)})",
        ]
    omitted = left_out(run, results.not_checked)
    if omitted:
        lines.append(f"- Left out: {_cell('; '.join(omitted))}")
    lines += [
        f"- Target: `{target_label(results)}`",
        f"- Profile: `{run.profile}` · suite {run.suite_version}"
        f" · {run.started} · {run.duration:.1f} s",
    ]
    stopped = interruption_line(results)
    if stopped is not None:
        lines.append(f"- **{stopped}**")
    lines += [
        "",
        "| area | " + " | ".join(OUTCOMES) + " |",
        "|---|" + "---:|" * len(OUTCOMES),
    ]
    for area, reqs in by_area(results).items():
        counts = area_counts(reqs)
        lines.append(
            f"| {area} | " + " | ".join(str(counts[o] or "") for o in OUTCOMES) + " |"
        )
    totals = results.totals
    lines.append(
        "| **total** | "
        + " | ".join(f"**{totals.get(o, 0)}**" for o in OUTCOMES)
        + " |"
    )
    found = problems(results)
    if found:
        lines += ["", f"### Failures, warnings and errors ({len(found)})", ""]
        for req in found[:_MAX_PROBLEMS]:
            lines.append(
                f"- **{req.id}** `{req.outcome}` ({req.level}, {req.area}): "
                f"{_cell(req.statement)}"
            )
            if req.messages:
                lines += ["", _fence(req.messages[0]), ""]
        if len(found) > _MAX_PROBLEMS:
            lines.append(f"- … and {len(found) - _MAX_PROBLEMS} more (see report.html)")
    lines += _repro_lines(repros or {})
    flakes = results.flakes
    if flakes:
        lines += ["", f"### Retries (flakes): {len(flakes)}", ""]
        lines += [
            f"- `{f.nodeid}`: {f.retry.method} retry {f.retry.attempt} after {_cell(f.retry.reason)}"
            for f in flakes[:20]
        ]
    lines += ["", "Full report: `report.html` · machine-readable: `results.json`", ""]
    return "\n".join(lines)
