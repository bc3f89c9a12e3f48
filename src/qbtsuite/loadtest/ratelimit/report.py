"""The ``ratelimit`` section of ``load.json`` rendered for ``summary.md`` and
``report.html``: a verdict table (key × check), each check's parts with what was
measured, the rejection latency, the timeline plots and the criteria."""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

from qbtsuite.loadtest.ratelimit.verdict import CHECKS, CheckVerdict

__all__ = ["html_section", "markdown_section"]

_JUDGED = [c for c in CHECKS if c != "latency"]


def _headline(section: dict[str, Any]) -> str:
    s = section["settings"]
    verdict = section["verdict"]
    failed = f" ({', '.join(section['failed'])})" if section["failed"] else ""
    return (
        f"Declared limit {s['declared_limit']} per {s['window']:g} s window for "
        f"{', '.join(s['keys'])}; {s['windows']} measured windows, driven at "
        f"{s['overdrive']:g}× the rate. Verdict: {verdict}{failed}."
    )


def _rate_line(key: dict[str, Any]) -> str:
    f = key["checks"]["limit"]["figures"]
    if "admitted" not in f:
        return "Admitted rate: not measured."
    w = f["windows"]
    low = w * f["declared_limit"] - 1
    return (
        f"Admitted rate: {f['admitted']} in {w} windows = "
        f"{f['admitted_per_window']:.1f} per window (declared {f['declared_limit']}; "
        f"tolerance {low}–{f['allowed_at_most']} over the span); fewest in one window "
        f"{f['fewest_in_one_window']}, most certainly within one window "
        f"{f['most_within_one_window']}."
    )


def _latency_line(key: dict[str, Any]) -> str:
    f = key["checks"]["latency"]["figures"]
    limited, ok = f["rate_limited_ms"], f["admitted_ms"]

    def pair(d: dict[str, Any]) -> str:
        return f"{d['p50']:.1f} / {d['p95']:.1f} ms" if d.get("count") else "–"

    ratio = f"; p50 ratio {f['p50_ratio']:.2f}" if f.get("p50_ratio") else ""
    return (
        f"429 answered in {pair(limited)} (p50 / p95, n={limited.get('count', 0)}), "
        f"admitted in {pair(ok)} (n={ok.get('count', 0)}){ratio}."
    )


def markdown_section(section: dict[str, Any], image_prefix: str = "") -> str:
    """``### Rate limiter`` for ``summary.md``."""
    lines = ["### Rate limiter", "", _headline(section), ""]
    lines += [
        "| key | " + " | ".join(_JUDGED) + " |",
        "|---" * (len(_JUDGED) + 1) + "|",
    ]
    for name, key in section["keys"].items():
        cells = []
        for check in _JUDGED:
            verdict = key["checks"][check]["verdict"]
            cells.append(f"**{verdict}**" if verdict == CheckVerdict.FAIL else verdict)
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    for name, key in section["keys"].items():
        lines += ["", f"#### Key {name}", "", _rate_line(key), _latency_line(key), ""]
        for check, data in key["checks"].items():
            if data["verdict"] == CheckVerdict.INFO:
                continue
            for part in data["parts"]:
                lines.append(
                    f"- {check}.{part['name']}: {part['verdict']} — {part['detail']}"
                )
        plot = key.get("plot")
        if plot:
            lines += ["", f"![rate limiter, key {name}]({image_prefix}{plot})"]
    lines += ["", "Criteria:", ""]
    lines += [f"- **{name}**: {text}" for name, text in section["criteria"].items()]
    return "\n".join(lines) + "\n"


def html_section(
    section: dict[str, Any], run_dir: Path | None = None, image_prefix: str = ""
) -> str:
    """The same as an HTML ``<section>``; with ``run_dir`` the plots are embedded."""
    esc = html.escape
    head = "".join(f"<th>{esc(c)}</th>" for c in ["key", *_JUDGED])
    rows = ""
    for name, key in section["keys"].items():
        cells = "".join(
            f"<td class='{esc(key['checks'][c]['verdict'].replace(' ', '-'))}'>"
            f"{esc(key['checks'][c]['verdict'])}</td>"
            for c in _JUDGED
        )
        rows += f"<tr><td>{esc(name)}</td>{cells}</tr>"
    parts = [
        "<section class='qbt-ratelimit'>",
        "<h3>Rate limiter</h3>",
        f"<p>{esc(_headline(section))}</p>",
        f"<table class='qbt-load-table'><thead><tr>{head}</tr></thead>"
        f"<tbody>{rows}</tbody></table>",
    ]
    for name, key in section["keys"].items():
        items = "".join(
            f"<li><b>{esc(check)}.{esc(p['name'])}</b>: {esc(p['verdict'])} — "
            f"{esc(p['detail'])}</li>"
            for check, data in key["checks"].items()
            if data["verdict"] != CheckVerdict.INFO
            for p in data["parts"]
        )
        parts += [
            f"<h4>Key {esc(name)}</h4>",
            f"<p>{esc(_rate_line(key))}<br>{esc(_latency_line(key))}</p>",
            f"<ul>{items}</ul>",
        ]
        plot = key.get("plot")
        if plot:
            src = esc(image_prefix + plot)
            if run_dir is not None and (run_dir / plot).is_file():
                data = base64.b64encode((run_dir / plot).read_bytes()).decode()
                src = f"data:image/png;base64,{data}"
            parts.append(
                f"<figure><img alt='rate limiter, key {esc(name)}' src='{src}'></figure>"
            )
    parts.append(
        "<dl>"
        + "".join(
            f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>"
            for k, v in section["criteria"].items()
        )
        + "</dl></section>"
    )
    return "\n".join(parts)
