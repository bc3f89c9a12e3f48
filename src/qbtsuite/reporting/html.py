"""``report.html``: one self-contained page (inline CSS, no scripts, no network).

Verdict first; then the requirement × outcome matrix by area; every failure with its
messages and request/response transcripts; the slowest tests; retries; what this
run did not check. Everything comes from the run's results and is HTML-escaped.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from qbtsuite.reporting._common import (
    OUTCOMES,
    PROBLEMS,
    area_counts,
    by_area,
    fault_banner,
    faults_of,
    interruption_line,
    problems,
    target_label,
)
from qbtsuite.reporting.html_style import CSS
from qbtsuite.reporting.reproduce import REPRODUCE_FOLDER, Repro
from qbtsuite.results.model import RequirementResult, RunResults, TestRecord
from qbtsuite.results.outcomes import Outcome, Verdict
from qbtsuite.results.records import left_out

__all__ = ["render_html"]

_SLOWEST = 12


_VERDICT_CSS = {Verdict.CONFORMANT: "ok", Verdict.NOT_CONFORMANT: "bad"}


def _badge(outcome: Outcome) -> str:
    name = escape(outcome.value)
    return f'<span class="badge o-{name}">{name}</span>'


def _bar(counts: Mapping[Outcome, int]) -> str:
    total = sum(counts.values()) or 1
    parts = "".join(
        f'<span class="o-{o}" style="width:{100 * counts[o] / total:.2f}%" title="{counts[o]} {o}"></span>'
        for o in OUTCOMES
        if counts.get(o)
    )
    return f'<div class="bar">{parts}</div>'


def _identity_facts(results: RunResults) -> list[tuple[str, str]]:
    identity = results.run.identity
    if identity is None:
        return []
    return [
        ("Product", f"{identity.product} {identity.version}"),
        ("Vendor", identity.vendor),
        ("URL", identity.url),
        ("Contact", identity.contact),
    ]


def _capability_facts(results: RunResults) -> list[tuple[str, str]]:
    target = results.run.target
    if target is None or results.run.identity is None:
        return []
    declared = target.capabilities
    shown = "not declared" if declared is None else (", ".join(declared) or "none")
    return [("Capabilities", shown)]


def _header(results: RunResults) -> str:
    run = results.run
    css = _VERDICT_CSS.get(results.verdict, "meh")
    strict = " · strict" if results.strict else ""
    omitted = left_out(run, results.not_checked)
    facts = [
        *_identity_facts(results),
        ("Target", target_label(results)),
        *_capability_facts(results),
        ("Profile", f"{run.profile}{strict}"),
        ("Suite", f"qbtsuite {run.suite_version}"),
        ("Started", run.started),
        ("Duration", f"{run.duration:.1f} s"),
        ("Catalogue", (run.digests.catalogue or "—")[:16]),
        ("Schemas", (run.digests.schemas or "—")[:16]),
    ]
    chips = "".join(
        f'<div class="chip o-{o}"><b>{results.totals.get(o, 0)}</b>{o}</div>'
        for o in OUTCOMES
    )
    if omitted:
        facts.append(("Left out", "; ".join(omitted)))
    rows = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts)
    verdict = results.verdict.value
    identity = run.identity
    subject = (
        f"Qubittron API conformance of {identity.label()}"
        if identity
        else "Qubittron API conformance"
    )
    stopped = interruption_line(results)
    subtitle = subject + (f" — {stopped}" if stopped else "")
    faults = faults_of(results)
    banner = f'<p class="banner">{escape(fault_banner(faults))}</p>' if faults else ""
    return (
        f'<header class="verdict {css}"><h1>{escape(verdict.capitalize())}</h1>'
        f"<p>{escape(subtitle)}</p></header>{banner}"
        f'<section class="facts"><dl>{rows}</dl><div class="chips">{chips}</div></section>'
    )


def _matrix(grouped: Mapping[str, list[RequirementResult]]) -> str:
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


def _req_link(req: RequirementResult) -> str:
    """The id, linked to its failure card when it has one."""
    rid = escape(req.id)
    if req.outcome in PROBLEMS:
        return f'<a href="#req-{rid}">{rid}</a>'
    return rid


def _area_tables(grouped: Mapping[str, list[RequirementResult]]) -> str:
    blocks = []
    for area, reqs in grouped.items():
        bad = any(r.outcome in PROBLEMS for r in reqs)
        rows = "".join(
            f"<tr><td>{_req_link(r)}</td>"
            f"<td>{escape(r.level)}</td><td>{_badge(r.outcome)}</td>"
            f"<td>{escape(r.statement)}</td>"
            f"<td class=num>{len(r.tests)}</td>"
            f"<td class=num>{r.duration:.2f}s</td></tr>"
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


def _repro_block(repro: Repro | None) -> str:
    """The curl line and the re-check line of a failing test."""
    if repro is None:
        return ""
    body = (
        f'<p class="note">body: <code>{escape(REPRODUCE_FOLDER)}/{escape(repro.body_name)}</code>'
        " beside this report</p>"
        if repro.body_name
        else ""
    )
    return (
        "<h4>Reproduce</h4>"
        f'<pre class="repro">{escape(repro.curl_shown)}</pre>{body}'
        f'<pre class="repro">{escape(repro.rerun)}</pre>'
    )


def _test_block(
    nodeid: str,
    test: TestRecord | None,
    outcome: Outcome,
    repro: Repro | None = None,
) -> str:
    if test is None:
        return f"<li><code>{escape(nodeid)}</code> {_badge(outcome)}</li>"
    notes = "".join(f'<p class="note">{escape(n)}</p>' for n in test.notes)
    kept = test.transcripts
    transcripts = "".join(
        f"<details{' open' if i == len(kept) and outcome != Outcome.PASS else ''}>"
        f"<summary>{escape(_exchange_label(i, t))}</summary>"
        f"<pre>{escape(t)}</pre></details>"
        for i, t in enumerate(kept, start=1)
    )
    omitted = test.omitted_transcripts
    if omitted:
        transcripts += f'<p class="note">{omitted} more exchanges not kept</p>'
    reason = test.reason
    return (
        f"<li><code>{escape(nodeid)}</code> {_badge(outcome)} "
        f"<span class=dim>{test.duration:.2f}s</span>"
        f"{f'<p class=reason>{escape(reason)}</p>' if reason else ''}{notes}"
        f"{_repro_block(repro)}{transcripts}</li>"
    )


def _source(req: RequirementResult) -> str:
    source = req.source
    if not source:
        return ""
    origin = req.origin
    label = {"openai": "OpenAI compatibility", "qubittron": "Qubittron contract"}.get(
        origin, origin
    )
    return f"<p class=dim>Source: {escape(source)}{f' · {escape(label)}' if label else ''}</p>"


def _problems(results: RunResults, repros: Mapping[str, Repro]) -> str:
    found = problems(results)
    if not found:
        return "<section><h2>Failures</h2><p>None: every checked requirement held.</p></section>"
    tests = results.tests
    cards = []
    for req in found:
        messages = "".join(f"<pre class=msg>{escape(m)}</pre>" for m in req.messages)
        checked = "".join(
            _test_block(t.nodeid, tests.get(t.nodeid), t.outcome, repros.get(t.nodeid))
            for t in req.tests
        )
        cards.append(
            f'<article class="card b-{escape(req.outcome.value)}" id="req-{escape(req.id)}">'
            f"<h3>{escape(req.id)} {_badge(req.outcome)}"
            f" <span class=dim>{escape(req.level)} · {escape(req.area)}"
            f" · {escape(req.endpoint)}</span></h3>"
            f"<p>{escape(req.statement)}</p>"
            f"{_source(req)}"
            f"{messages}<h4>Tests</h4><ul class=tests>{checked}</ul></article>"
        )
    return f"<section><h2>Failures, warnings and errors ({len(found)})</h2>{''.join(cards)}</section>"


def _timings(results: RunResults) -> str:
    tests = list(results.tests.values())
    slowest = sorted(tests, key=lambda t: -t.duration)[:_SLOWEST]
    rows = "".join(
        f"<tr><td><code>{escape(t.nodeid)}</code></td><td>{_badge(t.outcome)}</td>"
        f"<td class=num>{t.duration:.2f}s</td></tr>"
        for t in slowest
    )
    total = sum(t.duration for t in tests)
    return (
        f"<section><h2>Timings</h2><p>{len(tests)} tests, {total:.1f} s of test time.</p>"
        f'<table class="reqs"><thead><tr><th>slowest tests</th><th>outcome</th><th>time</th>'
        f"</tr></thead><tbody>{rows}</tbody></table></section>"
    )


def _extras(results: RunResults) -> str:
    parts = []
    flakes = results.flakes
    if flakes:
        items = "".join(
            f"<li><code>{escape(f.nodeid)}</code>: {escape(f.retry.method)} "
            f"{escape(f.retry.url)} — retry {f.retry.attempt} after {escape(f.retry.reason)}</li>"
            for f in flakes
        )
        parts.append(
            f"<section><h2>Retries (flakes): {len(flakes)}</h2><ul>{items}</ul></section>"
        )
    missing = results.not_checked
    if missing:
        ids = ", ".join(escape(i) for i in missing)
        parts.append(
            f"<section><details><summary><b>Not checked in this run: {len(missing)}</b>"
            f"</summary><p class=ids>{ids}</p></details></section>"
        )
    return "".join(parts)


def render_html(results: RunResults, repros: Mapping[str, Repro] | None = None) -> str:
    """The whole report page for ``results`` (with ``repros``: a curl line and a
    re-check line for each failing or warning test)."""
    grouped = by_area(results)
    body = (
        _header(results)
        + _matrix(grouped)
        + _problems(results, repros or {})
        + _area_tables(grouped)
        + _timings(results)
        + _extras(results)
    )
    title = f"Qubittron conformance — {results.verdict}"
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head>"
        f"<body><main>{body}<footer>Generated by qbtsuite "
        f"{escape(results.run.suite_version)} from results.json.</footer>"
        "</main></body></html>\n"
    )
