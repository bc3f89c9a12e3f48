"""``summary.md``: the verdict and the failures, ready for a CI job summary page."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from qbtsuite.reporting._common import (
    OUTCOMES,
    area_counts,
    by_area,
    problems,
    target_label,
)

__all__ = ["render_summary_md"]

_ICON = {"conformant": "✅", "not conformant": "❌", "incomplete": "⚠️"}
_MAX_PROBLEMS = 50
_MAX_MESSAGE = 600


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _fence(text: str) -> str:
    text = text if len(text) <= _MAX_MESSAGE else text[:_MAX_MESSAGE] + " …"
    return "```text\n" + text.replace("```", "'''") + "\n```"


def render_summary_md(results: Mapping[str, Any]) -> str:
    """The Markdown summary of one run."""
    verdict = str(results.get("verdict", "?"))
    strict = " (strict: SHOULD failures count)" if results.get("strict") else ""
    lines = [
        f"## {_ICON.get(verdict, 'ℹ️')} Qubittron conformance: {verdict}{strict}",
        "",
        f"- Target: `{target_label(results)}`",
        f"- Profile: `{results.get('profile')}` · suite {results.get('suite_version')}"
        f" · {results.get('started')} · {results.get('duration', 0):.1f} s",
        "",
        "| area | " + " | ".join(OUTCOMES) + " |",
        "|---|" + "---:|" * len(OUTCOMES),
    ]
    for area, reqs in by_area(results).items():
        counts = area_counts(reqs)
        lines.append(
            f"| {area} | " + " | ".join(str(counts[o] or "") for o in OUTCOMES) + " |"
        )
    totals = results.get("totals", {})
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
                f"- **{req['id']}** `{req['outcome']}` ({req['level']}, {req['area']}): "
                f"{_cell(str(req.get('statement', '')))}"
            )
            messages = req.get("messages") or []
            if messages:
                lines += ["", _fence(str(messages[0])), ""]
        if len(found) > _MAX_PROBLEMS:
            lines.append(f"- … and {len(found) - _MAX_PROBLEMS} more (see report.html)")
    flakes = results.get("flakes") or []
    if flakes:
        lines += ["", f"### Retries (flakes): {len(flakes)}", ""]
        lines += [
            f"- `{f['nodeid']}`: {f['method']} retry {f['attempt']} after {_cell(str(f['reason']))}"
            for f in flakes[:20]
        ]
    lines += ["", "Full report: `report.html` · machine-readable: `results.json`", ""]
    return "\n".join(lines)
