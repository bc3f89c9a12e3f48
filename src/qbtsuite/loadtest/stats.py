"""Figures of a load run, computed from the exact samples.

Only requests *sent* inside the measurement window count: from t0 + warm-up to the end
of the last stage. Latency distributions (TTFT, pooled ITL, TPOT, e2e) are over ``ok``
requests only, so fast 429 answers cannot flatter them; the latency of 429 answers is
reported on its own. Percentiles interpolate linearly between closest ranks (numpy's
default) over the exact values; times are reported in milliseconds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from qbtsuite.loadtest.plan import Plan
from qbtsuite.loadtest.samples import Sample, SampleOutcome, SampleSet

__all__ = ["PERCENTILES", "Window", "distribution", "figures", "timeline"]

PERCENTILES = (50, 90, 95, 99)
ALL = "all"


class Window:
    """The measurement window, in epoch seconds.

    A scripted plan (the ratelimit profile) has no fixed timeline, only a deadline:
    its window ends with its last request (``last_sent``).
    """

    def __init__(self, t0: float, plan: Plan, last_sent: float | None = None) -> None:
        self.t0 = t0
        self.start = t0 + plan.warmup
        self.end = t0 + plan.duration
        if plan.ratelimit is not None and last_sent is not None:
            self.end = min(self.end, last_sent + 1e-6)
        self.seconds = max(self.end - self.start, 1e-9)

    def holds(self, sample: Sample) -> bool:
        return self.start <= sample["t"] < self.end


def distribution(values: Iterable[float]) -> dict[str, float | int]:
    """Count, p50/p90/p95/p99, mean, min and max of seconds, in milliseconds."""
    data = np.fromiter(values, dtype=float)
    if data.size == 0:
        return {"count": 0}
    ms = data * 1000.0
    out: dict[str, float | int] = {"count": int(ms.size)}
    for p, v in zip(PERCENTILES, np.percentile(ms, PERCENTILES), strict=True):
        out[f"p{p}"] = round(float(v), 3)
    out["mean"] = round(float(ms.mean()), 3)
    out["min"] = round(float(ms.min()), 3)
    out["max"] = round(float(ms.max()), 3)
    return out


def _values(samples: Sequence[Sample], name: str) -> list[float]:
    """The non-null values of an optional float field (``ttft``, ``tpot``)."""
    out = []
    for s in samples:
        value = s.get(name)
        if isinstance(value, float | int):
            out.append(float(value))
    return out


def _lags(samples: Sequence[Sample]) -> list[float]:
    """Open loop: seconds each first attempt was sent after its due time."""
    out = []
    for s in samples:
        due = s.get("due")
        if due is not None and s.get("attempt", 0) == 0:
            out.append(s["t"] - due)
    return out


def _endpoint(samples: Sequence[Sample], seconds: float) -> dict[str, Any]:
    outcomes = Counter(s["outcome"] for s in samples)
    ok = [s for s in samples if s["outcome"] == SampleOutcome.OK]
    streams = [s for s in ok if "chunks" in s]
    tokens = sum(s.get("tokens", 0) for s in ok)
    problems = Counter(s.get("problem") for s in samples if s.get("problem"))
    return {
        "requests": len(samples),
        "outcomes": {o.value: outcomes.get(o, 0) for o in SampleOutcome},
        "statuses": dict(sorted(Counter(str(s["status"]) for s in samples).items())),
        "requests_per_s": round(len(samples) / seconds, 3),
        "ok_per_s": round(len(ok) / seconds, 3),
        "output_tokens": tokens,
        "output_tokens_per_s": round(tokens / seconds, 3),
        "retries": sum(1 for s in samples if s.get("attempt", 0) > 0),
        "ttft_ms": distribution(_values(ok, "ttft")),
        "itl_ms": distribution(g for s in ok for g in s.get("itl", ())),
        "tpot_ms": distribution(_values(ok, "tpot")),
        "e2e_ms": distribution(s["e2e"] for s in ok),
        "rate_limited_e2e_ms": distribution(
            s["e2e"] for s in samples if s["outcome"] == SampleOutcome.RATE_LIMITED
        ),
        "lag_ms": distribution(_lags(samples)),
        "token_check": {
            "streams": len(streams),
            "with_usage": sum(1 for s in streams if s.get("usage_tokens") is not None),
            "usage_missing": sum(1 for s in streams if s.get("usage_tokens") is None),
            "mismatches": sum(1 for s in streams if s.get("mismatch")),
        },
        "problems": dict(problems.most_common(5)),
    }


def figures(sset: SampleSet, plan: Plan) -> dict[str, Any]:
    """Per-endpoint and overall figures of the measurement window."""
    samples = sset.samples
    t0 = sset.t0 if sset.t0 is not None else min((s["t"] for s in samples), default=0)
    window = Window(t0, plan, max((s["t"] for s in samples), default=None))
    measured = [s for s in samples if window.holds(s)]
    names = sorted({s["name"] for s in measured})
    endpoints = {
        n: _endpoint([s for s in measured if s["name"] == n], window.seconds)
        for n in names
    }
    endpoints[ALL] = _endpoint(measured, window.seconds)
    first_tries = sum(1 for s in measured if s.get("attempt", 0) == 0)
    arrival: dict[str, Any] = {"open_loop": plan.open_loop}
    if plan.open_loop:
        offered = plan.offered(plan.warmup, plan.duration) / window.seconds
        achieved = first_tries / window.seconds
        arrival |= {
            "offered_rps": round(offered, 3),
            "achieved_rps": round(achieved, 3),
            "achieved_ratio": round(achieved / offered, 4) if offered else None,
        }
        endpoints[ALL]["offered_rps"] = arrival["offered_rps"]
        endpoints[ALL]["achieved_rps"] = arrival["achieved_rps"]
    keys = sorted({s.get("key", "") for s in measured})
    return {
        "window": {
            "t0": t0,
            "start": window.start,
            "end": window.end,
            "warmup_s": plan.warmup,
            "measured_s": round(window.seconds, 3),
        },
        "samples": {
            "total": len(samples),
            "measured": len(measured),
            "excluded_warmup": sum(1 for s in samples if s["t"] < window.start),
            "excluded_after_end": sum(1 for s in samples if s["t"] >= window.end),
        },
        "arrival": arrival,
        "endpoints": endpoints,
        "by_key": {
            k: dict(Counter(s["outcome"] for s in measured if s.get("key", "") == k))
            for k in keys
        },
    }


def timeline(sset: SampleSet, t0: float, step: float = 1.0) -> dict[str, list[float]]:
    """Per-``step`` series from t0 (all samples, warm-up included, for the plots).

    ``second`` is the bucket start; counts are of requests *completed* in the bucket;
    latency percentiles are of ``ok`` requests completed in it (NaN when none).
    """
    samples = sset.samples
    if not samples:
        return {"second": []}
    last = max(s["end"] for s in samples)
    buckets = int((last - t0) // step) + 1
    series: dict[str, list[float]] = {"second": [i * step for i in range(buckets)]}
    for o in SampleOutcome:
        series[o.value] = [0.0] * buckets
    e2e: list[list[float]] = [[] for _ in range(buckets)]
    ttft: list[list[float]] = [[] for _ in range(buckets)]
    for s in samples:
        i = int((s["end"] - t0) // step)
        if not 0 <= i < buckets:
            continue
        series[s["outcome"]][i] += 1 / step
        if s["outcome"] == SampleOutcome.OK:
            e2e[i].append(s["e2e"] * 1000)
            if s.get("ttft") is not None:
                ttft[i].append(float(s["ttft"] or 0) * 1000)
    for label, values in (("e2e", e2e), ("ttft", ttft)):
        for p in (50, 95):
            series[f"{label}_p{p}"] = [
                float(np.percentile(v, p)) if v else float("nan") for v in values
            ]
    return series
