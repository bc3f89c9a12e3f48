"""``report.html``: one self-contained page (inline CSS, no scripts, no network).

Verdict first; then the requirement × outcome matrix by area; every failure with its
messages and request/response transcripts; the slowest tests; retries; what this
run did not check. Everything comes from ``results.json`` and is HTML-escaped.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from qbtsuite.reporting._common import (
    OUTCOMES,
    area_counts,
    by_area,
    problems,
    target_label,
)
from qbtsuite.reporting.html_style import CSS

__all__ = ["render_html"]

_SLOWEST = 12


def _badge(outcome: str) -> str:
    return f'<span class="badge o-{escape(outcome)}">{escape(outcome)}</span>'


def _bar(counts: Mapping[str, int]) -> str:
    total = sum(counts.values()) or 1
    parts = "".join(
        f'<span class="o-{o}" style="width:{100 * counts[o] / total:.2f}%" title="{counts[o]} {o}"></span>'
        for o in OUTCOMES
        if counts.get(o)
    )
    return f'<div class="bar">{parts}</div>'


def _header(results: Mapping[str, Any]) -> str:
    verdict = str(results.get("verdict", "?"))
    css = {"conformant": "ok", "not conformant": "bad"}.get(verdict, "meh")
    digests = results.get("digests") or {}
    strict = " · strict" if results.get("strict") else ""
    facts = [
        ("Target", target_label(results)),
        ("Profile", f"{results.get('profile')}{strict}"),
        ("Suite", f"qbtsuite {results.get('suite_version')}"),
        ("Started", str(results.get("started"))),
        ("Duration", f"{float(results.get('duration') or 0):.1f} s"),
        ("Catalogue", str(digests.get("catalogue") or "—")[:16]),
        ("Schemas", str(digests.get("schemas") or "—")[:16]),
    ]
    rows = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts)
    totals = results.get("totals") or {}
    chips = "".join(
        f'<div class="chip o-{o}"><b>{int(totals.get(o, 0))}</b>{o}</div>'
        for o in OUTCOMES
    )
    return (
        f'<header class="verdict {css}"><h1>{escape(verdict.capitalize())}</h1>'
        f"<p>Qubittron API conformance</p></header>"
        f'<section class="facts"><dl>{rows}</dl><div class="chips">{chips}</div></section>'
    )


def _matrix(grouped: Mapping[str, list[Mapping[str, Any]]]) -> str:
    head = "".join(f"<th>{o}</th>" for o in OUTCOMES)
    rows = []
    for area, reqs in grouped.items():
        counts = area_counts(reqs)
        cells = "".join(
            f'<td class="{"n o-" + o if counts[o] else "zero"}">{counts[o] or "·"}</td>'
            for o in OUTCOMES
        )
        rows.append(
            f'<tr><th><a href="#area-{escape(area)}">{escape(area)}</a></th>'
            f"<td>{len(reqs)}</td>{cells}<td>{_bar(counts)}</td></tr>"
        )
    return (
        '<section><h2>Requirements × outcome, by area</h2><table class="matrix">'
        f"<thead><tr><th>area</th><th>checked</th>{head}<th></th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def _req_link(req: Mapping[str, Any]) -> str:
    """The id, linked to its failure card when it has one."""
    rid = escape(str(req["id"]))
    if req["outcome"] in {"fail", "warn", "error"}:
        return f'<a href="#req-{rid}">{rid}</a>'
    return rid


def _area_tables(grouped: Mapping[str, list[Mapping[str, Any]]]) -> str:
    blocks = []
    for area, reqs in grouped.items():
        bad = any(r["outcome"] in {"fail", "warn", "error"} for r in reqs)
        rows = "".join(
            f"<tr><td>{_req_link(r)}</td>"
            f"<td>{escape(str(r.get('level', '')))}</td><td>{_badge(str(r['outcome']))}</td>"
            f"<td>{escape(str(r.get('statement', '')))}</td>"
            f"<td class=num>{len(r.get('tests', []))}</td>"
            f"<td class=num>{float(r.get('duration') or 0):.2f}s</td></tr>"
            for r in reqs
        )
        blocks.append(
            f'<details id="area-{escape(area)}"{" open" if bad else ""}>'
            f"<summary><b>{escape(area)}</b> {_bar(area_counts(reqs))}</summary>"
            '<table class="reqs"><thead><tr><th>id</th><th>level</th><th>outcome</th>'
            "<th>statement</th><th>tests</th><th>time</th></tr></thead>"
            f"<tbody>{rows}</tbody></table></details>"
        )
    return f"<section><h2>Requirements</h2>{''.join(blocks)}</section>"


def _exchange_label(number: int, transcript: str) -> str:
    """``3 · POST /v1/embeddings → 200 OK`` from a transcript's request and status lines."""
    lines = transcript.splitlines()
    request = lines[0].removeprefix("> ").split(" ", 1) if lines else []
    status = next((ln[2:] for ln in lines if ln.startswith("< HTTP/")), "")
    if len(request) < 2:
        return f"exchange {number}"
    path = "/" + request[1].split("://", 1)[-1].split("/", 1)[-1]
    answer = status.split(" ", 1)[1] if " " in status else "no response"
    return f"{number} · {request[0]} {path} → {answer}"


def _test_block(nodeid: str, test: Mapping[str, Any] | None, outcome: str) -> str:
    if test is None:
        return f"<li><code>{escape(nodeid)}</code> {_badge(outcome)}</li>"
    notes = "".join(
        f'<p class="note">{escape(str(n))}</p>' for n in test.get("notes", [])
    )
    kept = list(test.get("transcripts", []))
    transcripts = "".join(
        f"<details{' open' if i == len(kept) and outcome != 'pass' else ''}>"
        f"<summary>{escape(_exchange_label(i, str(t)))}</summary>"
        f"<pre>{escape(str(t))}</pre></details>"
        for i, t in enumerate(kept, start=1)
    )
    omitted = int(test.get("omitted_transcripts") or 0)
    if omitted:
        transcripts += f'<p class="note">{omitted} more exchanges not kept</p>'
    reason = str(test.get("reason") or "")
    return (
        f"<li><code>{escape(nodeid)}</code> {_badge(outcome)} "
        f"<span class=dim>{float(test.get('duration') or 0):.2f}s</span>"
        f"{f'<p class=reason>{escape(reason)}</p>' if reason else ''}{notes}{transcripts}</li>"
    )


def _source(req: Mapping[str, Any]) -> str:
    source = str(req.get("source") or "")
    if not source:
        return ""
    origin = str(req.get("origin") or "")
    label = {"openai": "OpenAI compatibility", "qubittron": "Qubittron contract"}.get(
        origin, origin
    )
    return f"<p class=dim>Source: {escape(source)}{f' · {escape(label)}' if label else ''}</p>"


def _problems(results: Mapping[str, Any]) -> str:
    found = problems(results)
    if not found:
        return "<section><h2>Failures</h2><p>None: every checked requirement held.</p></section>"
    tests = results.get("tests") or {}
    cards = []
    for req in found:
        messages = "".join(
            f"<pre class=msg>{escape(str(m))}</pre>" for m in req.get("messages", [])
        )
        checked = "".join(
            _test_block(str(t["nodeid"]), tests.get(t["nodeid"]), str(t["outcome"]))
            for t in req.get("tests", [])
        )
        cards.append(
            f'<article class="card b-{escape(str(req["outcome"]))}" id="req-{escape(str(req["id"]))}">'
            f"<h3>{escape(str(req['id']))} {_badge(str(req['outcome']))}"
            f" <span class=dim>{escape(str(req.get('level')))} · {escape(str(req.get('area')))}"
            f" · {escape(str(req.get('endpoint') or ''))}</span></h3>"
            f"<p>{escape(str(req.get('statement', '')))}</p>"
            f"{_source(req)}"
            f"{messages}<h4>Tests</h4><ul class=tests>{checked}</ul></article>"
        )
    return f"<section><h2>Failures, warnings and errors ({len(found)})</h2>{''.join(cards)}</section>"


def _timings(results: Mapping[str, Any]) -> str:
    tests = list((results.get("tests") or {}).values())
    slowest = sorted(tests, key=lambda t: -float(t.get("duration") or 0))[:_SLOWEST]
    rows = "".join(
        f"<tr><td><code>{escape(str(t['nodeid']))}</code></td><td>{_badge(str(t['outcome']))}</td>"
        f"<td class=num>{float(t.get('duration') or 0):.2f}s</td></tr>"
        for t in slowest
    )
    total = sum(float(t.get("duration") or 0) for t in tests)
    return (
        f"<section><h2>Timings</h2><p>{len(tests)} tests, {total:.1f} s of test time.</p>"
        f'<table class="reqs"><thead><tr><th>slowest tests</th><th>outcome</th><th>time</th>'
        f"</tr></thead><tbody>{rows}</tbody></table></section>"
    )


def _extras(results: Mapping[str, Any]) -> str:
    parts = []
    flakes = results.get("flakes") or []
    if flakes:
        items = "".join(
            f"<li><code>{escape(str(f['nodeid']))}</code>: {escape(str(f['method']))} "
            f"{escape(str(f['url']))} — retry {f['attempt']} after {escape(str(f['reason']))}</li>"
            for f in flakes
        )
        parts.append(
            f"<section><h2>Retries (flakes): {len(flakes)}</h2><ul>{items}</ul></section>"
        )
    missing = results.get("not_checked") or []
    if missing:
        ids = ", ".join(escape(str(i)) for i in missing)
        parts.append(
            f"<section><details><summary><b>Not checked in this run: {len(missing)}</b>"
            f"</summary><p class=ids>{ids}</p></details></section>"
        )
    return "".join(parts)


def render_html(results: Mapping[str, Any]) -> str:
    """The whole report page for ``results``."""
    grouped = by_area(results)
    body = (
        _header(results)
        + _matrix(grouped)
        + _problems(results)
        + _area_tables(grouped)
        + _timings(results)
        + _extras(results)
    )
    title = f"Qubittron conformance — {results.get('verdict', '?')}"
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head>"
        f"<body><main>{body}<footer>Generated by qbtsuite "
        f"{escape(str(results.get('suite_version')))} from results.json.</footer>"
        "</main></body></html>\n"
    )
