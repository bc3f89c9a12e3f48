"""Figures from exact samples: the window, outcomes, percentiles, rates."""

from __future__ import annotations

from typing import Any

import pytest

from qbtsuite.loadtest.plan import Plan, Stage
from qbtsuite.loadtest.samples import SampleSet, outcome_for
from qbtsuite.loadtest.stats import distribution, figures, timeline

T0 = 1_000_000.0


def _sample(t: float, outcome: str = "ok", **extra: Any) -> dict[str, Any]:
    status = {"ok": 200, "rate-limited": 429, "failed": 500, "error": 0}[outcome]
    e2e = extra.pop("e2e", 0.1)
    return {
        "kind": "sample",
        "name": extra.pop("name", "chat"),
        "key": "main",
        "t": T0 + t,
        "end": T0 + t + e2e,
        "e2e": e2e,
        "status": status,
        "outcome": outcome,
        "attempt": 0,
        **extra,
    }


def _figures(samples: list[dict[str, Any]], plan: Plan) -> dict[str, Any]:
    return figures(SampleSet(samples=samples, t0=T0, processes=1), plan)  # type: ignore[arg-type]


PLAN = Plan("p", "", (Stage(10.0, 2),), warmup=2.0)


@pytest.mark.parametrize(
    ("status", "problem", "outcome"),
    [
        (200, None, "ok"),
        (429, None, "rate-limited"),
        (429, "HTTP 429", "rate-limited"),
        (503, "HTTP 503", "failed"),
        (200, "stream ended without [DONE]", "failed"),
        (0, "no answer", "error"),
    ],
)
def test_outcomes_keep_429_apart_from_failures(
    status: int, problem: str | None, outcome: str
) -> None:
    assert outcome_for(status, problem) == outcome


def test_percentiles_are_exact_not_bucketed() -> None:
    d = distribution([0.147, 0.148, 0.149, 0.151])
    assert d["p50"] == pytest.approx(148.5)  # Locust's buckets would say 150
    assert (d["count"], d["min"], d["max"]) == (4, 147.0, 151.0)
    assert distribution([]) == {"count": 0}


def test_warm_up_and_late_requests_are_excluded_from_figures() -> None:
    samples = [_sample(1.0, e2e=9.0), _sample(3.0), _sample(4.0), _sample(10.5)]
    figs = _figures(samples, PLAN)
    assert figs["samples"] == {
        "total": 4,
        "measured": 2,
        "excluded_warmup": 1,
        "excluded_after_end": 1,
    }
    assert figs["endpoints"]["all"]["e2e_ms"]["max"] == pytest.approx(100.0)
    assert figs["window"]["measured_s"] == 8.0


def test_latency_is_of_ok_requests_and_429s_are_counted_apart() -> None:
    samples = [
        _sample(3.0, e2e=0.2),
        _sample(3.1, "rate-limited", e2e=0.001, retry_after="2"),
        _sample(3.2, "failed", e2e=5.0, problem="HTTP 500 upstream_error"),
        _sample(3.3, "error", e2e=1.0, problem="no answer"),
    ]
    ep = _figures(samples, PLAN)["endpoints"]["chat"]
    assert ep["outcomes"] == {"ok": 1, "rate-limited": 1, "failed": 1, "error": 1}
    assert ep["e2e_ms"]["count"] == 1 and ep["e2e_ms"]["max"] == pytest.approx(200.0)
    assert ep["rate_limited_e2e_ms"]["p50"] == pytest.approx(1.0)
    assert ep["statuses"] == {"0": 1, "200": 1, "429": 1, "500": 1}
    assert ep["problems"]["HTTP 500 upstream_error"] == 1


def test_streams_pool_their_gaps_and_report_token_rates() -> None:
    stream: dict[str, Any] = {
        "ttft": 0.15,
        "itl": [0.01, 0.02],
        "chunks": 3,
        "tokens": 3,
    }
    samples = [
        _sample(3.0, name="chat_stream", usage_tokens=3, mismatch=False, **stream),
        _sample(4.0, name="chat_stream", usage_tokens=4, mismatch=True, **stream),
    ]
    ep = _figures(samples, PLAN)["endpoints"]["chat_stream"]
    assert ep["itl_ms"]["count"] == 4 and ep["itl_ms"]["p50"] == pytest.approx(15.0)
    assert ep["output_tokens"] == 6
    assert ep["output_tokens_per_s"] == pytest.approx(6 / 8.0)
    assert ep["token_check"] == {
        "streams": 2,
        "with_usage": 2,
        "usage_missing": 0,
        "mismatches": 1,
    }


def test_open_loop_reports_offered_achieved_and_lag() -> None:
    plan = Plan("p", "", (Stage(10.0, 4, rate=2.0),), warmup=2.0)
    samples = [_sample(2.0 + i * 0.5 + 0.01, due=T0 + 2.0 + i * 0.5) for i in range(12)]
    figs = _figures(samples, plan)
    assert figs["arrival"]["offered_rps"] == pytest.approx(2.0)
    assert figs["arrival"]["achieved_rps"] == pytest.approx(1.5)
    assert figs["arrival"]["achieved_ratio"] == pytest.approx(0.75)
    assert figs["endpoints"]["all"]["lag_ms"]["p50"] == pytest.approx(10.0, abs=1e-6)


def test_retries_are_counted_and_keys_report_their_outcomes() -> None:
    samples = [
        _sample(3.0, "rate-limited"),
        _sample(4.0, attempt=1),
        {**_sample(5.0, "rate-limited"), "key": "second"},
    ]
    figs = _figures(samples, PLAN)
    assert figs["endpoints"]["all"]["retries"] == 1
    assert figs["by_key"] == {
        "main": {"rate-limited": 1, "ok": 1},
        "second": {"rate-limited": 1},
    }


def test_the_timeline_counts_completions_per_second_by_outcome() -> None:
    samples = [_sample(0.2), _sample(0.5, "rate-limited"), _sample(1.5)]
    series = timeline(SampleSet(samples=samples, t0=T0), T0)  # type: ignore[arg-type]
    assert series["second"] == [0.0, 1.0]
    assert series["ok"] == [1.0, 1.0] and series["rate-limited"] == [1.0, 0.0]
    assert series["e2e_p50"] == pytest.approx([100.0, 100.0])
