"""``--slo-abort``: end a run as soon as an SLO can no longer be met.

An SLO is judged over the requests *sent* in the window (after the warm-up, before
the end of the last stage). While Locust runs, the samples already answered are a
subset of the window's final set, and the final set has at most ``N`` requests:

    N = min(max_requests, arrivals planned in the whole timeline if open loop)
        × (1 + retries)

(each first attempt passes the request cap; an open-loop process sends only its
scheduled arrivals; each may be retried ``retries`` times). An objective is
*breached beyond recovery* when it would still be breached if every request still
to come were as good as can be and the window held ``N`` of them:

- a share with an upper bound (``error_rate<1%``, ``failed_rate``,
  ``rate_limited_rate``, ``ok_rate<…``, ``mismatch_rate`` over ok streams): ``c``
  counted requests so far, and ``c / N`` already breaks the bound; with a lower
  bound (``ok_rate>=0.99``): ``n`` requests outside it so far, and ``1 − n / N``
  already breaks it;
- a latency percentile with an upper bound (``ttft_p95<800ms``; ``ttft``, ``tpot``,
  ``e2e``, ``lag``, ``rate_limited_e2e``): ``k`` values so far at or over the bound
  and ``k ≥ N − ⌊p·(N − 1) / 100⌋ + 1``; the interpolated percentile of any final
  set of at most ``N`` values then lies between two values over the bound (one
  value of margin for rounding);
- a maximum with an upper bound (``e2e_max<2s``): one value at or over it;
- a mean with an upper bound (``e2e_mean<1s``): the sum so far, divided by ``N``,
  is already at or over it.

Other objectives (``itl``, pooled gaps whose count has no bound; minimums; lower
bounds on latencies; rates; ``achieved_ratio``) are judged at the end only. The
window's own requests decide, so a warm-up request never aborts a run, and nothing
is judged before the warm-up is over. A smaller ``--max-requests`` makes ``N``
tighter and the abort earlier; it is never premature: a run aborted for an SLO
breaches that SLO over the requests it sent.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from qbtsuite.loadtest.plan import Plan
from qbtsuite.loadtest.slo import Objective, format_measured

__all__ = [
    "Abort",
    "AbortWatch",
    "SamplesTail",
    "judged_early",
    "request_ceiling",
]

# Margins so that the rounding of the final figures (3 decimals of ms, 6 of a
# share) can never turn a breach proven here into a pass.
_MS_MARGIN = 0.001
_SHARE_MARGIN = 1e-6
_LATENCIES = ("ttft", "tpot", "e2e", "lag", "rate_limited_e2e")
_STATS = {"p50": 50, "p90": 90, "p95": 95, "p99": 99}

Record = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Abort:
    """Why and when a run was ended early."""

    slo: str  # the objective as written
    reason: str  # one sentence: what was measured against what it allows
    at_s: float  # seconds after t0 when it was found

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Abort:
        return cls(str(data["slo"]), str(data["reason"]), float(data["at_s"]))


def request_ceiling(plan: Plan) -> int:
    """``N``: the most requests (attempts) the window can hold."""
    first = plan.max_requests
    if plan.open_loop:
        first = min(first, math.floor(plan.offered(0.0, plan.duration)) + 1)
    return first * (1 + plan.retries)


def judged_early(o: Objective) -> bool:
    """Whether ``--slo-abort`` can find ``o`` breached before the end."""
    return _rule(o, 1) is not None


def _breaks(o: Objective, value: float, margin: float) -> bool:
    """``value`` already breaks ``o`` (an upper bound) with a rounding margin."""
    return value >= o.threshold + (margin if o.op == "<=" else 0.0)


def _latency(metric: str) -> Callable[[Record], float | None]:
    """The value, in ms, that a sample adds to a latency metric (None: it adds none)."""

    def ok_field(name: str) -> Callable[[Record], float | None]:
        def value(s: Record) -> float | None:
            v = s.get(name)
            if s.get("outcome") != "ok" or not isinstance(v, int | float):
                return None
            return float(v) * 1000

        return value

    def lag(s: Record) -> float | None:
        due = s.get("due")
        first = s.get("attempt", 0) == 0
        return (
            (float(s["t"]) - float(due)) * 1000 if due is not None and first else None
        )

    def limited(s: Record) -> float | None:
        ok = s.get("outcome") == "rate-limited"
        return float(s["e2e"]) * 1000 if ok else None

    return {"lag": lag, "rate_limited_e2e": limited}.get(metric) or ok_field(metric)


_SHARES: dict[str, tuple[Callable[[Record], bool], Callable[[Record], bool], str]] = {
    # metric: (in the population, counted, what the counted ones are)
    "error_rate": (
        lambda s: True,
        lambda s: s.get("outcome") in ("failed", "error"),
        "failed or without an answer",
    ),
    "failed_rate": (
        lambda s: True,
        lambda s: s.get("outcome") == "failed",
        "failed",
    ),
    "rate_limited_rate": (
        lambda s: True,
        lambda s: s.get("outcome") == "rate-limited",
        "rate-limited",
    ),
    "ok_rate": (lambda s: True, lambda s: s.get("outcome") == "ok", "ok"),
    "mismatch_rate": (
        lambda s: s.get("outcome") == "ok" and "chunks" in s,
        lambda s: bool(s.get("mismatch")),
        "streams whose usage and content events differ",
    ),
}


class _Rule:
    """One objective, fed the window's samples, judged against ``ceiling``."""

    def __init__(self, o: Objective, ceiling: int) -> None:
        self.objective = o
        self.ceiling = ceiling
        self.counted = 0  # shares: counted; latencies: values breaking the bound
        self.others = 0  # shares: the rest of the population
        self.total = 0.0  # latencies: sum of values (ms)
        self.worst = 0.0  # latencies: largest value (ms)

    def feed(self, sample: Record) -> None:
        raise NotImplementedError

    def breach(self) -> str | None:
        raise NotImplementedError


class _ShareRule(_Rule):
    def __init__(self, o: Objective, ceiling: int) -> None:
        super().__init__(o, ceiling)
        self.member, self.counts, self.label = _SHARES[o.metric]

    def feed(self, sample: Record) -> None:
        if self.member(sample):
            if self.counts(sample):
                self.counted += 1
            else:
                self.others += 1

    def breach(self) -> str | None:
        o, n = self.objective, self.ceiling
        if o.op in ("<", "<="):
            least = self.counted / n
            if not _breaks(o, least, _SHARE_MARGIN):
                return None
            return (
                f"{self.counted} requests {self.label} already, of at most {n} in the "
                f"window: {o.metric} cannot end below {format_measured('fraction', least)}"
            )
        most = 1 - self.others / n
        if most > o.threshold - (_SHARE_MARGIN if o.op == ">=" else 0.0):
            return None
        return (
            f"{self.others} requests not {self.label} already, of at most {n} in the "
            f"window: {o.metric} cannot end above {format_measured('fraction', most)}"
        )


class _LatencyRule(_Rule):
    def __init__(self, o: Objective, ceiling: int) -> None:
        super().__init__(o, ceiling)
        base, _, self.stat = o.metric.rpartition("_")
        self.value = _latency(base)

    def feed(self, sample: Record) -> None:
        v = self.value(sample)
        if v is None:
            return
        self.total += v
        self.worst = max(self.worst, v)
        if _breaks(self.objective, v, _MS_MARGIN):
            self.counted += 1

    def breach(self) -> str | None:
        o, n = self.objective, self.ceiling
        if self.stat == "max":
            if not self.counted:
                return None
            return f"a value of {format_measured('ms', self.worst)} already"
        if self.stat == "mean":
            least = self.total / n
            if not _breaks(o, least, _MS_MARGIN):
                return None
            return (
                f"the values so far add up to {self.total:.0f} ms: their mean over at "
                f"most {n} requests cannot end below {format_measured('ms', least)}"
            )
        p = _STATS[self.stat]
        needed = n - (p * (n - 1)) // 100 + 1
        if self.counted < needed:
            return None
        return (
            f"{self.counted} values at or over {o.bound or o.threshold} already; with at "
            f"most {n} requests in the window, {needed} keep the {self.stat} over it"
        )


def _rule(o: Objective, ceiling: int) -> _Rule | None:
    if o.unit == "fraction" and o.metric in _SHARES:
        return _ShareRule(o, ceiling)
    base, _, stat = o.metric.rpartition("_")
    upper = o.op in ("<", "<=")
    if (
        o.unit == "ms"
        and upper
        and base in _LATENCIES
        and stat in (*_STATS, "max", "mean")
    ):
        return _LatencyRule(o, ceiling)
    return None


class AbortWatch:
    """Samples in, the first objective breached beyond recovery out."""

    def __init__(self, plan: Plan, objectives: list[Objective]) -> None:
        self.plan = plan
        self.ceiling = request_ceiling(plan)
        rules = [(o, _rule(o, self.ceiling)) for o in objectives]
        self.rules = [r for _, r in rules if r is not None]
        self.t0: float | None = None

    def feed(self, records: Iterable[Record]) -> None:
        for record in records:
            kind = record.get("kind")
            if kind == "start":
                self.t0 = float(record["t0"])
            elif kind == "sample" and self._in_window(record):
                for rule in self.rules:
                    o = rule.objective
                    if o.endpoint in ("all", record.get("name")):
                        rule.feed(record)

    def _in_window(self, sample: Record) -> bool:
        if self.t0 is None:
            return False
        start = self.t0 + self.plan.warmup
        return start <= float(sample["t"]) < self.t0 + self.plan.duration

    def check(self, now: float) -> Abort | None:
        """The first objective breached beyond recovery at epoch ``now``, if any."""
        if self.t0 is None or now < self.t0 + self.plan.warmup:
            return None  # never during the warm-up
        for rule in self.rules:
            why = rule.breach()
            if why is not None:
                o = rule.objective
                reason = f"{o.text} can no longer be met: {why}"
                return Abort(o.text, reason, round(now - self.t0, 3))
        return None


class SamplesTail:
    """The lines appended to ``samples.jsonl`` since the last read (whole lines only)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0

    def read(self) -> list[Record]:
        try:
            with self.path.open("rb") as f:
                f.seek(self.offset)
                chunk = f.read()
        except FileNotFoundError:
            return []
        end = chunk.rfind(b"\n") + 1
        self.offset += end
        records = []
        for line in chunk[:end].splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue  # counted by the final reading (read_samples)
            if isinstance(record, dict):
                records.append(record)
        return records
