"""The load report: ``load.json``, a Markdown section and an HTML fragment.

``load.json`` is the record (per endpoint: counts by outcome, p50/p90/p95/p99 of every
metric, requests/s, output tokens/s; offered vs achieved rate; SLO verdicts; for the
ratelimit profile, its ``ratelimit`` section). :func:`markdown_section` and
:func:`html_fragment` render it for ``summary.md`` and ``report.html``; both take the
parsed ``load.json`` so any report writer can include a load run it finds on disk.
The run folder gets its own ``summary.md``, ``junit.xml`` and ``report.html`` made
of these sections; ``report.html`` and ``load.html`` have the conformance report's
look (:mod:`qbtsuite.reporting.html_style`), the target's host in the header, and
their plots inline as data URIs, so each page opens from disk alone. Keys never
appear: the record knows key *roles* only.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from qbtsuite.exitcodes import ExitCode
from qbtsuite.loadtest.interrupted import interruption_text
from qbtsuite.loadtest.junit import write_junit
from qbtsuite.loadtest.ratelimit import report as limiter_report
from qbtsuite.loadtest.samples import SampleOutcome
from qbtsuite.loadtest.slo import format_measured
from qbtsuite.reporting.html_style import CSS

__all__ = [
    "DEFINITIONS",
    "EXIT_CODES",
    "html_fragment",
    "html_page",
    "markdown_section",
    "read_report",
    "target_host",
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
    ExitCode.INTERRUPTED: "interrupted by SIGINT (the samples so far reported)",
    ExitCode.TERMINATED: "interrupted by SIGTERM (the samples so far reported)",
}
# The conformance report's stylesheet, and the few rules only a load page needs.
_LOAD_CSS = (
    "figure{margin:16px 0}figure img{max-width:100%;height:auto;"
    "border:1px solid var(--line);border-radius:6px}"
    "td.pass{color:var(--pass);font-weight:600}td.fail{color:var(--fail);font-weight:600}"
    "td.not-judged,td.incomplete{color:var(--warn);font-weight:600}"
    ".qbt-load dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px}"
    ".qbt-load dt{color:#57606a}.qbt-load dd{margin:0}"
)
_VERDICTS = {  # verdict → (headline, header colour of html_style)
    "pass": ("Pass", "ok"),
    "slo-breached": ("SLO breached", "bad"),
    "ratelimit-failed": ("Rate-limit check failed", "bad"),
    "internal-error": ("Internal error", "meh"),
    "interrupted": ("Interrupted", "meh"),
}
_CHIPS = (  # outcome → colour class of html_style
    ("ok", "o-pass"),
    ("rate-limited", "o-warn"),
    ("failed", "o-fail"),
    ("error", "o-error"),
)
_COLUMNS = (
    ("requests", "requests"),
    (SampleOutcome.OK, "ok"),
    (SampleOutcome.RATE_LIMITED, "429"),
    (SampleOutcome.FAILED, "failed"),
    (SampleOutcome.ERROR, "error"),
)


def write_report(run_dir: Path, report: dict[str, Any]) -> None:
    """Write ``load.json``, ``load.md``, ``load.html``, ``summary.md``, ``junit.xml``
    and ``report.html``."""
    (run_dir / "load.json").write_text(
        json.dumps(report, indent=2, sort_keys=False) + "\n", encoding="utf-8"
    )
    (run_dir / "load.md").write_text(markdown_section(report), encoding="utf-8")
    (run_dir / "load.html").write_text(
        html_page(report, run_dir, header=False), encoding="utf-8"
    )
    summary = "# qbtsuite load run\n\n" + markdown_section(report)
    (run_dir / "summary.md").write_text(summary, encoding="utf-8")
    write_junit(run_dir, report)
    (run_dir / "report.html").write_text(html_page(report, run_dir), encoding="utf-8")


def target_host(report: dict[str, Any]) -> str:
    """``host[:port]`` of the target, for headings."""
    return urlsplit(str(report["target"]["base_url"])).netloc or "?"


def _header(report: dict[str, Any]) -> str:
    esc = html.escape
    headline, colour = _VERDICTS.get(report["verdict"], (report["verdict"], "meh"))
    w, gen = report["window"], report["generator"]
    target = str(report["target"]["base_url"])
    if report["target"].get("embedded"):
        target += " (embedded reference server)"
    facts = [
        ("Target", target),
        ("Profile", f"{report['profile']}: {report.get('description', '')}"),
        ("Started", str(report.get("started", "–"))),
        (
            "Window",
            f"{w['measured_s']:.1f} s measured after {w['warmup_s']:.1f} s warm-up",
        ),
        (
            "Generator",
            f"Locust {gen['locust_version']}, {gen['processes']} process(es)"
            + (f", master + {gen['workers']} workers" if gen["workers"] else ""),
        ),
        (
            "Exit code",
            f"{report['exit_code']}: {EXIT_CODES.get(report['exit_code'], '?')}",
        ),
    ]
    aborted = report.get("aborted")
    if aborted:
        facts.append(("Aborted", f"at {aborted['at_s']:.1f} s: {aborted['reason']}"))
    stopped = interruption_text(report)
    if stopped:
        facts.append(("Interrupted", stopped))
    rows = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in facts)
    counts = report["endpoints"]["all"]["outcomes"]
    chips = "".join(
        f'<div class="chip {css}"><b>{int(counts.get(o, 0))}</b>{esc(o)}</div>'
        for o, css in _CHIPS
    )
    return (
        f'<header class="verdict {colour}"><h1>{esc(headline)}</h1>'
        f"<p>Qubittron API load · {esc(report['profile'])} · "
        f"{esc(target_host(report))}</p></header>"
        f'<section class="facts"><dl>{rows}</dl><div class="chips">{chips}</div>'
        "</section>"
    )


def html_page(
    report: dict[str, Any], run_dir: Path | None = None, header: bool = True
) -> str:
    """A whole page, styled as the conformance report; with ``run_dir`` the plots
    are inline, so the page opens from disk alone. ``header``: the verdict banner
    and facts (``report.html``); without, the section alone (``load.html``)."""
    esc = html.escape
    title = f"Qubittron load — {report['profile']} on {target_host(report)}: {report['verdict']}"
    top = _header(report) if header else ""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}{_LOAD_CSS}</style></head>"
        f"<body><main>{top}\n{html_fragment(report, run_dir)}\n"
        f"<footer>Generated by qbtsuite "
        f"{esc(str(report['generator']['qbtsuite_version']))} from load.json.</footer>"
        "</main></body></html>\n"
    )


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
    return format_measured(v["unit"], v["value"])


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
    stopped = interruption_text(report)
    if stopped:
        lines += ["", f"**Interrupted** {stopped}"]
    aborted = report.get("aborted")
    if aborted:
        lines += [
            "",
            f"**Aborted** at {aborted['at_s']:.1f} s of {aborted['planned_s']:g} s "
            f"(`--slo-abort`): {aborted['reason']}. The figures are of the requests "
            "sent until then.",
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


class _Markup(str):
    """Cell content that is HTML already (a badge), not text to escape."""


def _cell(text: str, first: bool) -> str:
    """A cell; figures are right-aligned (``td.num`` of the stylesheet)."""
    numeric = not first and (text[:1].isdigit() or text == "–")
    css = " class='num'" if numeric else ""
    shown = text if isinstance(text, _Markup) else html.escape(text)
    return f"<td{css}>{shown}</td>"


def _table(head: list[str], rows: list[list[str]]) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(_cell(c, i == 0) for i, c in enumerate(row)) + "</tr>"
        for row in rows
    )
    return (
        f"<table class='qbt-load-table'><thead><tr>{th}</tr></thead>"
        f"<tbody>{body}</tbody></table>"
    )


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
    aborted = report.get("aborted")
    if aborted:
        parts.append(
            "<div class='card'><p><b>Aborted</b> at "
            + esc(f"{aborted['at_s']:.1f} s of {aborted['planned_s']:g} s")
            + f" (--slo-abort): {esc(aborted['reason'])}</p>"
            "<p class='note'>The figures are of the requests sent until then.</p></div>"
        )
    if report["slo"]:
        rows = [
            [
                v["slo"],
                _verdict_value(v),
                _Markup("<span class='badge o-pass'>met</span>")
                if v["passed"]
                else _Markup("<span class='badge o-fail'>breached</span>"),
            ]
            for v in report["slo"]
        ]
        parts += ["<h3>SLOs</h3>", _table(["SLO", "measured", "verdict"], rows)]
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
