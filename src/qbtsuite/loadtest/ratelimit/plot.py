"""The timeline plot of one key under test (matplotlib's Agg canvas, no pyplot state).

Top: the key's requests per second by sending time, admitted against refused (429),
with the declared rate (limit / window) drawn and every Retry-After value marked on
a second axis. Bottom: admitted requests in the trailing window, against the declared
limit, which a correct limiter never crosses. The scenario's phases are shaded.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from qbtsuite.loadtest.ratelimit.settings import RateLimitSettings
from qbtsuite.loadtest.ratelimit.windows import admitted, integer_retry_after
from qbtsuite.loadtest.samples import Sample

__all__ = ["plot_file", "write_timeline"]

_PHASE_COLOURS = {
    "recovery": "#e3f2fd",
    "drive": "#f1f8e9",
    "boundary": "#fff3e0",
    "isolation": "#f3e5f5",
}


def plot_file(subject: str) -> str:
    return f"ratelimit_{subject}.png"


def _trailing(
    times: Sequence[float], end: float, window: float
) -> tuple[list[float], list[int]]:
    """Admitted requests sent in ``(x − window, x]``, sampled every 50 ms."""
    xs: list[float] = []
    ys: list[int] = []
    x = 0.0
    while x <= end:
        xs.append(x)
        ys.append(bisect_right(times, x) - bisect_right(times, x - window))
        x += 0.05
    return xs, ys


def write_timeline(
    path: Path,
    subject: str,
    samples: Sequence[Sample],
    s: RateLimitSettings,
    t0: float,
    phases: dict[str, list[float]],
) -> None:
    """Draw ``subject``'s timeline (its own requests) into ``path``."""
    own = sorted((x for x in samples if x.get("key") == subject), key=lambda x: x["t"])
    end = max((x["end"] - t0 for x in own), default=1.0)
    seconds = int(end) + 1
    ok = [0] * seconds
    refused = [0] * seconds
    for x in own:
        i = int(x["t"] - t0)
        if 0 <= i < seconds:
            if admitted(x):
                ok[i] += 1
            elif x.get("status") == 429:
                refused[i] += 1
    fig = Figure(figsize=(12, 6.5), layout="constrained")
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    for ax in (top, bottom):
        for phase, (first, last) in phases.items():
            family = phase.split(".")[0]
            ax.axvspan(first, last, color=_PHASE_COLOURS.get(family, "#eeeeee"))
    shaded = [
        Patch(color=colour, label=f"phase: {family}")
        for family, colour in _PHASE_COLOURS.items()
        if any(p.split(".")[0] == family for p in phases)
    ]
    bars = list(range(seconds))
    top.bar(bars, ok, width=0.9, align="edge", color="#2e7d32", label="admitted")
    top.bar(
        bars, refused, width=0.9, align="edge", bottom=ok, color="#f9a825", label="429"
    )
    rate = s.declared_limit / s.window
    top.axhline(
        rate,
        color="black",
        linestyle="--",
        linewidth=1.2,
        label=f"declared rate ({s.declared_limit} per {s.window:g} s)",
    )
    top.set_ylabel("requests per second (by sending time)")
    top.grid(alpha=0.3, axis="y")
    retry = top.twinx()
    marks = [
        (x["t"] - t0, integer_retry_after(x.get("retry_after")))
        for x in own
        if x.get("status") == 429
    ]
    shown = [(t, r) for t, r in marks if r is not None]
    if shown:
        retry.scatter(
            [t for t, _ in shown],
            [r for _, r in shown],
            marker="x",
            s=14,
            color="#6a1b9a",
            label="Retry-After (s)",
        )
    retry.set_ylabel("Retry-After, seconds")
    retry.set_ylim(bottom=0)
    handles, labels = top.get_legend_handles_labels()
    more, more_labels = retry.get_legend_handles_labels()
    top.set_title(f"Rate limiter: key {subject}")
    times = [x["t"] - t0 for x in own if admitted(x)]
    xs, ys = _trailing(times, end, s.window)
    bottom.step(
        xs, ys, where="post", color="#1565c0", label="admitted, trailing window"
    )
    bottom.axhline(
        s.declared_limit,
        color="#c62828",
        linestyle="--",
        label=f"declared limit ({s.declared_limit})",
    )
    bottom.set_xlabel("seconds since start")
    bottom.set_ylabel(f"admitted in the last {s.window:g} s")
    bottom.grid(alpha=0.3)
    lines, names = bottom.get_legend_handles_labels()
    bottom.legend(
        handles + more + lines + shaded,
        labels + more_labels + names + [str(p.get_label()) for p in shaded],
        loc="lower left",
        bbox_to_anchor=(1.08, 0.0),
        fontsize="small",
    )
    fig.savefig(path, dpi=90)
