"""What ``qbtsuite load`` prints when a run is over: endpoints, SLO lines, limiter.

SLO lines read as k6 prints its thresholds: a mark, the objective with its unit,
then what was measured, aligned in columns::

    ✓ error_rate < 1%      0.00%
    ✗ ttft_p95 < 800 ms    912 ms

A terminal that cannot print ✓ and ✗ gets ``ok`` and ``FAIL`` instead.
"""

from __future__ import annotations

from typing import Any

from qbtsuite.loadtest.slo import format_measured

__all__ = ["marks_for", "render_summary", "slo_lines"]

_MARKS = ("✓", "✗")
_ASCII_MARKS = ("ok", "FAIL")


def marks_for(encoding: str | None) -> tuple[str, str]:
    """(met, breached) marks that ``encoding`` can print."""
    try:
        "".join(_MARKS).encode(encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return _ASCII_MARKS
    return _MARKS


def _objective(v: dict[str, Any]) -> str:
    name = v["metric"] if v["endpoint"] == "all" else f"{v['endpoint']}.{v['metric']}"
    return f"{name} {v['op']} {v.get('bound') or v['threshold']}"


def slo_lines(
    verdicts: list[dict[str, Any]], marks: tuple[str, str] = _MARKS
) -> list[str]:
    """One line per SLO verdict of ``load.json``: mark, objective, measured value."""
    if not verdicts:
        return []
    left = [
        f"{marks[0] if v['passed'] else marks[1]} {_objective(v)}" for v in verdicts
    ]
    width = max(len(text) for text in left)
    return [
        f"{text:<{width}}   {format_measured(v['unit'], v['value'])}"
        for text, v in zip(left, verdicts, strict=True)
    ]


def render_summary(report: dict[str, Any], marks: tuple[str, str] = _MARKS) -> str:
    """The terminal summary of a finished run (the content of ``load.json``)."""
    w = report["window"]
    lines = [
        f"load {report['profile']}: {report['target']['base_url']}, "
        f"{w['measured_s']:.1f} s measured after {w['warmup_s']:.1f} s warm-up"
    ]
    for name, ep in report["endpoints"].items():
        o = ep["outcomes"]
        line = (
            f"  {name:<19} {ep['requests']:>6} req  ok {o['ok']}  429 "
            f"{o['rate-limited']}  failed {o['failed']}  error {o['error']}  "
            f"{ep['requests_per_s']:.1f} req/s"
        )
        for label, key in (("TTFT", "ttft_ms"), ("ITL", "itl_ms"), ("e2e", "e2e_ms")):
            if ep[key].get("count"):
                line += f"  {label} p50 {ep[key]['p50']:.1f} ms"
        lines.append(line)
    arrival = report["arrival"]
    if arrival.get("open_loop"):
        lines.append(
            f"  offered {arrival['offered_rps']:.2f} req/s, "
            f"achieved {arrival['achieved_rps']:.2f} req/s"
        )
    if report["slo"]:
        title = "  SLOs" + (
            " (not judged: interrupted)" if report.get("interrupted") else ""
        )
        lines += ["", title, *(f"    {x}" for x in slo_lines(report["slo"], marks))]
    limiter = report.get("ratelimit")
    if limiter is not None:
        lines += _limiter_lines(limiter)
    aborted = report.get("aborted")
    if aborted:
        lines.append(f"  aborted at {aborted['at_s']:.1f} s: {aborted['reason']}")
    return "\n".join(lines)


def _limiter_lines(limiter: dict[str, Any]) -> list[str]:
    declared = limiter["settings"]["declared_limit"]
    lines = []
    for subject, key in limiter["keys"].items():
        verdicts = ", ".join(
            f"{name} {'FAIL' if check['verdict'] == 'fail' else check['verdict']}"
            for name, check in key["checks"].items()
            if check["verdict"] != "info"
        )
        rate = key["checks"]["limit"]["figures"].get("admitted_per_window")
        shown = f"{rate:.1f}" if rate is not None else "–"
        lines.append(
            f"  rate limit {subject}: {shown} admitted per window (declared "
            f"{declared}); {verdicts}"
        )
    return lines
