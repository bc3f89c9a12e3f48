"""The load report: ``load.json``, a Markdown section and an HTML fragment.

``load.json`` is the record (per endpoint: counts by outcome, p50/p90/p95/p99 of every
metric, requests/s, output tokens/s; offered vs achieved rate; SLO verdicts; for the
ratelimit profile, its ``ratelimit`` section). :func:`markdown_section` and
:func:`html_fragment` render it for ``summary.md`` and ``report.html``; both take the
parsed ``load.json`` so any report writer can include a load run it finds on disk.
The run folder gets its own ``summary.md`` and ``report.html`` (plots embedded) made
of these sections. Keys never appear: the record knows key *roles* only.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

from qbtsuite.exitcodes import ExitCode
from qbtsuite.loadtest.ratelimit import report as limiter_report

__all__ = [
    "DEFINITIONS",
    "EXIT_CODES",
    "html_fragment",
    "markdown_section",
    "read_report",
    "write_report",
]

DEFINITIONS = {
    "ttft": "time to first token: request sent → first event with non-empty content",
    "itl": "inter-token latency: every gap between content events, pooled over requests",
    "tpot": "time per output token, per request: (e2e − TTFT) / (tokens − 1)",
    "e2e": "request sent → answer complete (stream: the [DONE] event)",
    "lag": "open loop: how late a request was sent after its due time",
    "tokens": "output tokens from usage.completion_tokens; content events as a cross-check",
    "window": "requests sent after the warm-up and before the end of the last stage",
    "percentiles": "exact samples, linear interpolation (not Locust's rounded buckets)",
}
EXIT_CODES = {
    ExitCode.OK: "every SLO met, no rate-limit check failed",
    ExitCode.USAGE: "usage or configuration error",
    ExitCode.UNREACHABLE: "target unreachable, or it answered none of the requests",
    ExitCode.INCOMPLETE: "internal error (the load generator failed)",
    ExitCode.SLO_BREACHED: "an SLO was breached",
    ExitCode.LIMITER_FAILED: "a rate-limit check failed (ratelimit profile)",
}
_STYLE = (
    "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
    "td,th{border:1px solid #ccc;padding:2px 6px}td.fail{background:#ffcdd2}"
    "td.pass{background:#c8e6c9}img{max-width:100%}</style>"
)
_COLUMNS = (
    ("requests", "requests"),
    ("ok", "ok"),
    ("rate-limited", "429"),
    ("failed", "failed"),
    ("error", "error"),
)


def write_report(run_dir: Path, report: dict[str, Any]) -> None:
    """Write ``load.json``, ``load.md`` and a standalone ``load.html``."""
    (run_dir / "load.json").write_text(
        json.dumps(report, indent=2, sort_keys=False) + "\n", encoding="utf-8"
    )
    (run_dir / "load.md").write_text(markdown_section(report), encoding="utf-8")
    page = (
        "<!doctype html>\n<html><head><meta charset='utf-8'>"
        f"<title>Load: {html.escape(report['profile'])}</title></head><body>\n"
        f"{html_fragment(report)}\n</body></html>\n"
    )
    (run_dir / "load.html").write_text(page, encoding="utf-8")
    summary = "# qbtsuite load run\n\n" + markdown_section(report)
    (run_dir / "summary.md").write_text(summary, encoding="utf-8")
    title = html.escape(f"qbtsuite load run: {report['profile']}")
    full = (
        "<!doctype html>\n<html><head><meta charset='utf-8'>"
        f"<title>{title}</title>{_STYLE}</head><body>\n<h1>{title}</h1>\n"
        f"{html_fragment(report, run_dir)}\n</body></html>\n"
    )
    (run_dir / "report.html").write_text(full, encoding="utf-8")


def read_report(run_dir: Path) -> dict[str, Any]:
    """The parsed ``load.json`` of a run folder."""
    data: dict[str, Any] = json.loads((run_dir / "load.json").read_text("utf-8"))
    return data


def _ms(dist: dict[str, Any], *stats: str) -> str:
    if not dist.get("count"):
        return "–"
    return " / ".join(f"{dist[s]:.1f}" for s in stats)


def _rows(report: dict[str, Any]) -> list[list[str]]:
    rows = []
    for name, ep in report["endpoints"].items():
        counts = [str(ep["requests"])] + [
            str(ep["outcomes"][o]) for o, _ in _COLUMNS[1:]
        ]
        rows.append(
            [
                name,
                *counts,
                f"{ep['requests_per_s']:.2f}",
                f"{ep['output_tokens_per_s']:.1f}",
                _ms(ep["ttft_ms"], "p50", "p95"),
                _ms(ep["itl_ms"], "p50", "p95"),
                _ms(ep["tpot_ms"], "p50"),
                _ms(ep["e2e_ms"], "p50", "p95", "p99"),
            ]
        )
    return rows


_HEAD = [
    "endpoint",
    *(label for _, label in _COLUMNS),
    "req/s",
    "out tok/s",
    "TTFT p50/p95 ms",
    "ITL p50/p95 ms",
    "TPOT p50 ms",
    "e2e p50/p95/p99 ms",
]


def _verdict_value(v: dict[str, Any]) -> str:
    if v["value"] is None:
        return "no data"
    unit = {"ms": " ms", "fraction": "", "per_s": " /s", "ratio": ""}[v["unit"]]
    if v["unit"] == "fraction":
        return f"{v['value'] * 100:.2f}%"
    return f"{v['value']:.3f}{unit}"


def markdown_section(report: dict[str, Any], image_prefix: str = "") -> str:
    """A Markdown section (``## Load: …``) for ``summary.md``.

    Plots are linked as ``image_prefix + file`` (e.g. the run folder's relative path).
    """
    w = report["window"]
    gen = report["generator"]
    lines = [
        f"## Load: {report['profile']}",
        "",
        f"{report.get('description', '')}".strip(),
        "",
        f"- Target: `{report['target']['base_url']}`"
        + (" (embedded reference server)" if report["target"]["embedded"] else ""),
        f"- Window: {w['measured_s']:.1f} s measured, warm-up {w['warmup_s']:.1f} s "
        f"excluded ({report['samples']['excluded_warmup']} requests)",
        f"- Generator: {gen['processes']} Locust process(es)"
        + (f", master + {gen['workers']} workers" if gen["workers"] else ""),
        f"- Verdict: **{report['verdict']}** (exit code {report['exit_code']}: "
        f"{EXIT_CODES.get(report['exit_code'], '?')})",
    ]
    arrival = report["arrival"]
    if arrival.get("open_loop"):
        lag = report["endpoints"]["all"]["lag_ms"]
        lines.append(
            f"- Open loop: offered {arrival['offered_rps']:.2f} req/s, achieved "
            f"{arrival['achieved_rps']:.2f} req/s; send lag p95 {_ms(lag, 'p95')} ms"
        )
    lines += ["", "| " + " | ".join(_HEAD) + " |", "|" + "---|" * len(_HEAD)]
    lines += ["| " + " | ".join(row) + " |" for row in _rows(report)]
    check = report["endpoints"]["all"]["token_check"]
    if check["streams"]:
        lines += [
            "",
            f"Token cross-check: {check['mismatches']} of {check['streams']} streams "
            f"differ between usage and the content-event count; "
            f"{check['usage_missing']} without usage.",
        ]
    if report["slo"]:
        lines += ["", "| SLO | measured | verdict |", "|---|---|---|"]
        for v in report["slo"]:
            mark = "met" if v["passed"] else "**breached**"
            lines.append(f"| `{v['slo']}` | {_verdict_value(v)} | {mark} |")
    if report.get("ratelimit"):
        lines += [
            "",
            limiter_report.markdown_section(report["ratelimit"], image_prefix),
        ]
    plots = report["files"]["plots"]
    lines += ["", *(f"![{role}]({image_prefix}{name})" for role, name in plots.items())]
    lines += [
        "",
        "Definitions: "
        + "; ".join(f"**{k}** {v}" for k, v in DEFINITIONS.items())
        + ".",
        "",
    ]
    return "\n".join(lines)


def _table(head: list[str], rows: list[list[str]]) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
        for row in rows
    )
    return f"<table class='qbt-load-table'><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def html_fragment(
    report: dict[str, Any], run_dir: Path | None = None, image_prefix: str = ""
) -> str:
    """An HTML ``<section>`` for ``report.html``.

    Plots are linked as ``image_prefix + file``; with ``run_dir`` they are embedded
    as data URIs instead, so the fragment stands alone.
    """
    esc = html.escape
    w = report["window"]
    parts = [
        "<section class='qbt-load'>",
        f"<h2>Load: {esc(report['profile'])}</h2>",
        f"<p>{esc(report.get('description', ''))}</p>",
        "<p>Target <code>"
        + esc(report["target"]["base_url"])
        + "</code>; "
        + esc(
            f"{w['measured_s']:.1f} s measured after a {w['warmup_s']:.1f} s warm-up. "
            f"Verdict: {report['verdict']} (exit code {report['exit_code']})."
        )
        + "</p>",
        _table(_HEAD, _rows(report)),
    ]
    if report["slo"]:
        rows = [
            [v["slo"], _verdict_value(v), "met" if v["passed"] else "BREACHED"]
            for v in report["slo"]
        ]
        parts.append(_table(["SLO", "measured", "verdict"], rows))
    if report.get("ratelimit"):
        parts.append(
            limiter_report.html_section(report["ratelimit"], run_dir, image_prefix)
        )
    for role, name in report["files"]["plots"].items():
        src = esc(image_prefix + name)
        if run_dir is not None and (run_dir / name).is_file():
            data = base64.b64encode((run_dir / name).read_bytes()).decode()
            src = f"data:image/png;base64,{data}"
        parts.append(f"<figure><img alt='{esc(role)}' src='{src}'></figure>")
    parts.append(
        "<dl>"
        + "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in DEFINITIONS.items())
        + "</dl></section>"
    )
    return "\n".join(parts)
