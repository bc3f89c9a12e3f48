"""PNG plots of a load run (matplotlib's Agg canvas: no display, no pyplot state).

- ``latency_over_time.png``: e2e and TTFT p50/p95 per second, warm-up shaded;
- ``ttft_itl_distribution.png``: histograms of TTFT and pooled ITL (window, ok only);
- ``throughput_outcomes.png``: completed requests per second by outcome (ok,
  rate-limited, failed, error), with the offered rate of an open-loop plan.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from qbtsuite.loadtest.plan import Plan
from qbtsuite.loadtest.samples import Sample, SampleOutcome

__all__ = ["PLOTS", "write_plots"]

PLOTS = {
    "latency_over_time": "latency_over_time.png",
    "distributions": "ttft_itl_distribution.png",
    "throughput": "throughput_outcomes.png",
}
_COLOURS = {
    SampleOutcome.OK: "#2e7d32",
    SampleOutcome.RATE_LIMITED: "#f9a825",
    SampleOutcome.FAILED: "#c62828",
    SampleOutcome.ERROR: "#6a1b9a",
}


def _figure(width: float, height: float) -> Figure:
    """A figure on its own Agg canvas (the global backend is left alone)."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _warmup(ax: Axes, plan: Plan) -> None:
    if plan.warmup > 0:
        ax.axvspan(0, plan.warmup, color="#9e9e9e", alpha=0.2, label="warm-up")
    ax.axvline(plan.duration, color="#616161", linestyle=":", linewidth=1)


def _latency(series: dict[str, list[float]], plan: Plan, path: Path) -> None:
    fig = _figure(9, 4.5)
    ax = fig.add_subplot()
    x = series.get("second", [])
    for key, label, style in (
        ("e2e_p50", "e2e p50", "-"),
        ("e2e_p95", "e2e p95", "--"),
        ("ttft_p50", "TTFT p50", "-"),
        ("ttft_p95", "TTFT p95", "--"),
    ):
        y = series.get(key, [])
        if any(not math.isnan(v) for v in y):
            ax.plot(x, y, style, label=label, marker=".")
    _warmup(ax, plan)
    ax.set_xlabel("seconds since start (by completion)")
    ax.set_ylabel("milliseconds")
    ax.set_title("Latency percentiles over time (ok requests)")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize="small")
    fig.savefig(path, dpi=100)


def _histogram(ax: Axes, values: Sequence[float], title: str) -> None:
    if not values:
        ax.text(0.5, 0.5, "no streamed requests", ha="center", va="center")
        ax.set_title(title)
        return
    ordered = sorted(values)
    ax.hist(ordered, bins=min(60, max(10, len(ordered) // 5)), color="#1565c0")
    for q, style in ((0.5, "-"), (0.95, "--")):
        v = ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1) + 0.5))]
        ax.axvline(
            v, color="#c62828", linestyle=style, label=f"p{int(q * 100)} {v:.1f}"
        )
    ax.set_title(f"{title} (n={len(ordered)})")
    ax.set_xlabel("milliseconds")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)


def _distributions(samples: Sequence[Sample], path: Path) -> None:
    ok = [s for s in samples if s["outcome"] == SampleOutcome.OK]
    ttft = [float(s["ttft"] or 0) * 1000 for s in ok if s.get("ttft") is not None]
    itl = [g * 1000 for s in ok for g in s.get("itl", ())]
    fig = _figure(10, 4)
    left, right = fig.subplots(1, 2)
    _histogram(left, ttft, "Time to first token")
    _histogram(right, itl, "Inter-token latency (pooled gaps)")
    fig.savefig(path, dpi=100)


def _throughput(series: dict[str, list[float]], plan: Plan, path: Path) -> None:
    fig = _figure(9, 4.5)
    ax = fig.add_subplot()
    x = series.get("second", [])
    bottom = [0.0] * len(x)
    for outcome in SampleOutcome:
        y = series.get(outcome.value, [0.0] * len(x))
        if any(y):
            ax.bar(
                x,
                y,
                width=0.9,
                bottom=bottom,
                align="edge",
                color=_COLOURS[outcome],
                label=outcome.value,
            )
            bottom = [b + v for b, v in zip(bottom, y, strict=True)]
    if plan.open_loop:
        edges, rates, start = [], [], 0.0
        for stage in plan.stages:
            edges += [start, start + stage.duration]
            rates += [stage.rate or 0.0] * 2
            start += stage.duration
        ax.plot(edges, rates, color="black", linewidth=1.5, label="offered rate")
    _warmup(ax, plan)
    ax.set_xlabel("seconds since start (by completion)")
    ax.set_ylabel("requests per second")
    ax.set_title("Requests per second by outcome")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(loc="upper left", fontsize="small")
    fig.savefig(path, dpi=100)


def write_plots(
    run_dir: Path,
    series: dict[str, list[float]],
    measured: Sequence[Sample],
    plan: Plan,
) -> dict[str, str]:
    """Write the three PNGs into ``run_dir``; returns their file names by role."""
    _latency(series, plan, run_dir / PLOTS["latency_over_time"])
    _distributions(measured, run_dir / PLOTS["distributions"])
    _throughput(series, plan, run_dir / PLOTS["throughput"])
    return dict(PLOTS)
