"""The ``isolation`` check (a saturated key neither throttles nor slows the witness
keys) and the ``latency`` figures (how fast a 429 is answered against an admitted
request)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from qbtsuite.loadtest.ratelimit.driver import (
    DRIVE,
    ISOLATION_BASELINE,
    ISOLATION_LOAD,
    ISOLATION_LOADED,
)
from qbtsuite.loadtest.ratelimit.keyview import KeyView
from qbtsuite.loadtest.ratelimit.settings import RateLimitSettings
from qbtsuite.loadtest.ratelimit.verdict import Check
from qbtsuite.loadtest.ratelimit.windows import admitted
from qbtsuite.loadtest.samples import Sample
from qbtsuite.loadtest.stats import distribution

__all__ = ["isolation_check", "latency_figures"]


def _latency_ms(samples: Sequence[Sample]) -> dict[str, float | int]:
    return distribution(x["e2e"] for x in samples if admitted(x))


def isolation_check(key: KeyView, s: RateLimitSettings) -> Check:
    check = Check("isolation")
    load = key.phase(ISOLATION_LOAD)
    refused = [x["t"] for x in load if x.get("status") == 429]
    witnesses = s.witnesses_for(key.subject)
    if not witnesses:
        check.add("admitted", None, "no witness key (--keys names one key only)")
        return check
    if not refused:
        why = "the key was never refused while driven: it was not saturated"
        check.add("admitted", None, why)
        check.add("latency", None, why)
        return check
    saturated = min(refused)
    threshold = f"{s.latency_factor:g} × baseline p50 + {s.latency_slack_ms:g} ms"
    figures: dict[str, Any] = {"saturated_from": round(saturated, 3)}
    bad: list[str] = []
    slow: list[str] = []
    judged = 0
    for w in witnesses:
        base = key.phase(ISOLATION_BASELINE, w)
        loaded = [x for x in key.phase(ISOLATION_LOADED, w) if x["t"] >= saturated]
        not_ok = [x for x in base + loaded if not admitted(x)]
        if not_ok:
            statuses = Counter(x.get("status") for x in not_ok)
            listed = ", ".join(f"{n}× {st}" for st, n in sorted(statuses.items()))
            bad.append(
                f"{w}: {len(not_ok)} of {len(base) + len(loaded)} refused ({listed})"
            )
        b, u = _latency_ms(base), _latency_ms(loaded)
        entry: dict[str, Any] = {"baseline_ms": b, "loaded_ms": u}
        if b.get("count", 0) >= 5 and u.get("count", 0) >= 5:
            limit = s.latency_factor * float(b["p50"]) + s.latency_slack_ms
            entry["threshold_ms"] = round(limit, 3)
            judged += 1
            if float(u["p50"]) > limit:
                slow.append(f"{w}: p50 {u['p50']:.1f} ms loaded > {limit:.1f} ms")
        figures[w] = entry
    check.figures = figures
    check.add(
        "admitted",
        not bad,
        "; ".join(bad) if bad else f"every request of {', '.join(witnesses)} admitted",
    )
    if not judged:
        check.add("latency", None, "fewer than 5 admitted witness requests per phase")
    else:
        check.add(
            "latency",
            not slow,
            "; ".join(slow) if slow else f"every witness p50 within {threshold}",
        )
    return check


def latency_figures(key: KeyView) -> Check:
    driven = key.phase(DRIVE) + key.phase(ISOLATION_LOAD)
    limited = distribution(x["e2e"] for x in driven if x.get("status") == 429)
    ok = _latency_ms(driven)
    ratio = (
        round(float(limited["p50"]) / float(ok["p50"]), 3)
        if limited.get("count") and ok.get("count") and ok["p50"]
        else None
    )
    figures = {"rate_limited_ms": limited, "admitted_ms": ok, "p50_ratio": ratio}
    return Check("latency", figures=figures, informative=True)
