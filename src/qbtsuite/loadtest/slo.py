"""Service-level objectives: ``--slo 'ttft_p95<800ms'`` turned into verdicts.

Grammar: ``[ENDPOINT.]METRIC OP VALUE[UNIT]``, e.g. ``ttft_p95<800ms``,
``chat_stream.itl_p50<=20ms``, ``error_rate<1%``, ``rps>=50``.

- ENDPOINT: an endpoint name (``chat_stream``, ``embeddings``, …) or ``all`` (default).
- METRIC: a latency ``ttft|itl|tpot|e2e|lag|rate_limited_e2e`` with a statistic
  ``_p50|_p90|_p95|_p99|_mean|_min|_max`` and a duration with a unit (``500us``,
  ``800ms``, ``1.5s``, ``1m30s``: :mod:`qbtsuite.loadtest.durations`); a
  share of requests ``error_rate`` (failed + error), ``failed_rate``,
  ``rate_limited_rate``, ``ok_rate``, ``mismatch_rate`` (token cross-check, of
  streams) (a fraction, or a percentage with ``%``); a rate ``rps``, ``ok_rps``,
  ``tokens_per_s``; or ``achieved_ratio`` (open loop: achieved / offered, ``all``).
- OP: ``<``, ``<=``, ``>``, ``>=``.

An objective that cannot be measured (no such requests in the window) is breached:
a gate that saw nothing must not pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from qbtsuite.errors import ConfigError
from qbtsuite.loadtest.durations import parse_duration
from qbtsuite.loadtest.plan import ENDPOINTS

__all__ = [
    "Objective",
    "Verdict",
    "evaluate",
    "format_measured",
    "parse_objective",
    "parse_objectives",
]

_SLO = re.compile(
    r"^(?:(?P<endpoint>[a-z_]+)\.)?(?P<metric>[a-z0-9_]+)\s*(?P<op><=|>=|<|>)\s*"
    r"(?P<amount>(?:\d+(?:\.\d*)?|\.\d+)(?:\s*[a-z%][a-z0-9.%]*)?)$"
)
_NUMBER = re.compile(r"(?P<value>\d+(?:\.\d*)?|\.\d+)\s*(?P<percent>%)?")
_SINGLE_UNIT = re.compile(r"(?P<value>\d+(?:\.\d*)?|\.\d+)\s*(?P<unit>[a-z]+)")
_LATENCIES = ("ttft", "itl", "tpot", "e2e", "lag", "rate_limited_e2e")
_STATS = ("p50", "p90", "p95", "p99", "mean", "min", "max")
_SHARES = ("error_rate", "failed_rate", "rate_limited_rate", "ok_rate", "mismatch_rate")
_RATES = {"rps": "requests_per_s", "ok_rps": "ok_per_s", "tokens_per_s": None}
_OPS = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


@dataclass(frozen=True, slots=True)
class Objective:
    """One parsed objective; ``threshold`` is in ms for latencies, a fraction for shares."""

    text: str
    endpoint: str
    metric: str
    op: str
    threshold: float
    unit: str  # "ms", "fraction", "per_s" or "ratio"
    bound: str = ""  # the threshold as written, for display: "800 ms", "1%", "50 /s"


@dataclass(frozen=True, slots=True)
class Verdict:
    """An objective checked against the figures."""

    objective: Objective
    value: float | None  # measured, in the objective's unit (None: no data)
    passed: bool

    def to_json(self) -> dict[str, Any]:
        o = self.objective
        return {
            "slo": o.text,
            "endpoint": o.endpoint,
            "metric": o.metric,
            "op": o.op,
            "threshold": o.threshold,
            "unit": o.unit,
            "bound": o.bound,
            "value": self.value,
            "passed": self.passed,
        }


def parse_objective(text: str) -> Objective:
    """Parse one objective; ConfigError naming what is wrong."""
    spec = text.strip()
    m = _SLO.match(spec)
    if m is None:
        raise ConfigError(
            f"malformed --slo {text!r}: expected [ENDPOINT.]METRIC OP VALUE[UNIT], "
            "e.g. 'ttft_p95<800ms' or 'error_rate<1%'"
        )
    endpoint = m["endpoint"] or "all"
    metric, op, amount = m["metric"], m["op"], m["amount"].replace(" ", "")
    if endpoint != "all" and endpoint not in ENDPOINTS:
        raise ConfigError(
            f"--slo {text!r}: unknown endpoint {endpoint!r} "
            f"(use all or one of {', '.join(ENDPOINTS)})"
        )
    number = _NUMBER.fullmatch(amount)
    base, _, stat = metric.rpartition("_")
    if base in _LATENCIES and stat in _STATS:
        if number is not None:
            raise ConfigError(
                f"--slo {text!r}: a latency needs a unit: us, ms or s (e.g. 800ms, 1m30s)"
            )
        seconds = parse_duration(amount, f"--slo {text!r}:")
        single = _SINGLE_UNIT.fullmatch(amount)  # "800 ms" as k6 shows it; "1m30s"
        spaced = single is not None and single["unit"] in ("us", "ms", "s")
        shown = f"{single['value']} {single['unit']}" if single and spaced else amount
        return Objective(spec, endpoint, metric, op, seconds * 1000, "ms", shown)
    if metric in _SHARES:
        if number is None:
            raise ConfigError(f"--slo {text!r}: a share is a fraction or a percentage")
        value = float(number["value"])
        share = value / 100 if number["percent"] else value
        if share > 1:
            raise ConfigError(f"--slo {text!r}: a share cannot exceed 100%")
        return Objective(spec, endpoint, metric, op, share, "fraction", amount)
    if metric in _RATES or metric == "achieved_ratio":
        if number is None or number["percent"]:
            raise ConfigError(f"--slo {text!r}: {metric} takes a plain number")
        value = float(number["value"])
        if metric == "achieved_ratio":
            return Objective(spec, endpoint, metric, op, value, "ratio", amount)
        return Objective(spec, endpoint, metric, op, value, "per_s", f"{amount} /s")
    raise ConfigError(
        f"--slo {text!r}: unknown metric {metric!r} (latencies "
        f"{'|'.join(_LATENCIES)} with _{'|_'.join(_STATS)}; "
        f"{', '.join(_SHARES)}; rps, ok_rps, tokens_per_s, achieved_ratio)"
    )


def parse_objectives(texts: list[str] | tuple[str, ...]) -> list[Objective]:
    """Parse all; a later objective on the same endpoint, metric and op replaces one."""
    chosen: dict[tuple[str, str, str], Objective] = {}
    for text in texts:
        o = parse_objective(text)
        chosen[(o.endpoint, o.metric, o.op.rstrip("="))] = o
    return list(chosen.values())


def _measure(o: Objective, figures: dict[str, Any]) -> float | None:
    ep = figures["endpoints"].get(o.endpoint)
    if ep is None or not ep.get("requests"):
        return None
    base, _, stat = o.metric.rpartition("_")
    if o.unit == "ms":
        value = ep[f"{base}_ms"].get(stat)
        return None if value is None else float(value)
    if o.unit == "fraction":
        if o.metric == "mismatch_rate":
            check = ep["token_check"]
            streams = int(check["streams"])
            return check["mismatches"] / streams if streams else None
        counts = ep["outcomes"]
        share = {
            "error_rate": counts["failed"] + counts["error"],
            "failed_rate": counts["failed"],
            "rate_limited_rate": counts["rate-limited"],
            "ok_rate": counts["ok"],
        }[o.metric]
        return float(share / ep["requests"])
    if o.metric == "achieved_ratio":
        ratio = figures["arrival"].get("achieved_ratio")
        return None if ratio is None else float(ratio)
    field = _RATES[o.metric] or "output_tokens_per_s"
    return float(ep[field])


def evaluate(objectives: list[Objective], figures: dict[str, Any]) -> list[Verdict]:
    """Check every objective against the figures (see :mod:`qbtsuite.loadtest.stats`)."""
    verdicts = []
    for o in objectives:
        value = _measure(o, figures)
        passed = value is not None and bool(_OPS[o.op](value, o.threshold))
        verdicts.append(Verdict(o, None if value is None else round(value, 6), passed))
    return verdicts


def format_measured(unit: str, value: float | None) -> str:
    """A measured value in its objective's unit: ``612 ms``, ``1.25 s``, ``0.40%``."""
    if value is None:
        return "no data"
    if unit == "ms":
        if value >= 10_000:
            return f"{value / 1000:.2f} s"
        digits = 0 if value >= 100 else 1 if value >= 10 else 2
        return f"{value:.{digits}f} ms"
    if unit == "fraction":
        return f"{value * 100:.2f}%"
    if unit == "per_s":
        return f"{value:.1f} /s"
    return f"{value:.3f}"
