"""SLO objectives: the grammar, its errors, and verdicts that cannot pass by default."""

from __future__ import annotations

from typing import Any

import pytest

from qbtsuite.errors import ConfigError
from qbtsuite.loadtest.slo import evaluate, parse_objective, parse_objectives


def test_a_latency_objective_is_kept_in_milliseconds() -> None:
    o = parse_objective("ttft_p95<0.8s")
    assert (o.endpoint, o.metric, o.op, o.threshold, o.unit) == (
        "all",
        "ttft_p95",
        "<",
        800.0,
        "ms",
    )
    assert parse_objective("chat_stream.itl_p50 <= 500us").threshold == 0.5


def test_a_share_is_a_fraction_or_a_percentage() -> None:
    assert parse_objective("error_rate<1%").threshold == pytest.approx(0.01)
    assert parse_objective("rate_limited_rate<=0.25").threshold == 0.25


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ttft_p95 800ms", "malformed --slo"),
        ("ttft_p95<800", "needs a unit"),
        ("ttft_p42<800ms", "unknown metric"),
        ("fax.e2e_p95<1s", "unknown endpoint 'fax'"),
        ("error_rate<150%", "cannot exceed"),
        ("error_rate<1ms", "fraction or a percentage"),
        ("rps>5ms", "plain number"),
        ("", "malformed"),
    ],
)
def test_a_malformed_objective_is_a_config_error(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_objective(text)


def test_a_later_objective_replaces_one_on_the_same_metric() -> None:
    chosen = parse_objectives(["ttft_p95<800ms", "error_rate<1%", "ttft_p95<=500ms"])
    assert [o.text for o in chosen] == ["ttft_p95<=500ms", "error_rate<1%"]


def _figures(**all_: Any) -> dict[str, Any]:
    endpoint = {
        "requests": 100,
        "outcomes": {"ok": 90, "rate-limited": 6, "failed": 3, "error": 1},
        "requests_per_s": 20.0,
        "ok_per_s": 18.0,
        "output_tokens_per_s": 300.0,
        "ttft_ms": {"count": 90, "p50": 151.0, "p95": 170.0},
        "itl_ms": {"count": 0},
        "token_check": {"streams": 90, "mismatches": 9},
    }
    endpoint.update(all_)
    return {"endpoints": {"all": endpoint}, "arrival": {"achieved_ratio": 0.9}}


@pytest.mark.parametrize(
    ("text", "value", "passed"),
    [
        ("ttft_p95<200ms", 170.0, True),
        ("ttft_p95<150ms", 170.0, False),
        ("ttft_p50>=0.151s", 151.0, True),
        ("error_rate<5%", 0.04, True),
        ("error_rate<4%", 0.04, False),  # failed + error, 429s not counted
        ("rate_limited_rate<=6%", 0.06, True),
        ("mismatch_rate<=0", 0.1, False),
        ("rps>=20", 20.0, True),
        ("tokens_per_s>300", 300.0, False),
        ("achieved_ratio>=0.95", 0.9, False),
    ],
)
def test_verdicts_compare_the_measured_value(
    text: str, value: float, passed: bool
) -> None:
    (verdict,) = evaluate([parse_objective(text)], _figures())
    assert verdict.value == pytest.approx(value)
    assert verdict.passed is passed


def test_an_objective_without_data_is_breached() -> None:
    verdicts = evaluate(
        [parse_objective("itl_p95<1s"), parse_objective("images.e2e_p95<1s")],
        _figures(),
    )
    assert [(v.value, v.passed) for v in verdicts] == [(None, False), (None, False)]
