"""SLO lines in the terminal read as k6 prints thresholds: mark, objective, value."""

from __future__ import annotations

from typing import Any

import pytest

from qbtsuite.loadtest.slo import evaluate, format_measured, parse_objectives
from qbtsuite.loadtest.terminal import marks_for, slo_lines


def _figures() -> dict[str, Any]:
    endpoint = {
        "requests": 200,
        "outcomes": {"ok": 199, "rate-limited": 0, "failed": 1, "error": 0},
        "requests_per_s": 40.0,
        "ok_per_s": 39.8,
        "output_tokens_per_s": 300.0,
        "ttft_ms": {"count": 199, "p95": 612.4},
        "e2e_ms": {"count": 199, "p99": 12_345.0},
        "itl_ms": {"count": 0},
        "token_check": {"streams": 0, "mismatches": 0},
    }
    return {"endpoints": {"all": endpoint, "chat_stream": endpoint}, "arrival": {}}


def _lines(*specs: str) -> list[str]:
    verdicts = evaluate(parse_objectives(list(specs)), _figures())
    return slo_lines([v.to_json() for v in verdicts])


def test_each_slo_is_one_line_with_its_unit_measured_value_and_mark() -> None:
    lines = _lines(
        "ttft_p95<800ms", "error_rate<0.1%", "chat_stream.e2e_p99<=1m", "rps>=50"
    )
    assert lines == [
        "✓ ttft_p95 < 800 ms           612 ms",
        "✗ error_rate < 0.1%           0.50%",
        "✓ chat_stream.e2e_p99 <= 1m   12.35 s",
        "✗ rps >= 50 /s                40.0 /s",
    ]


def test_an_slo_without_data_is_a_breach_that_says_so() -> None:
    assert _lines("itl_p50<20ms") == ["✗ itl_p50 < 20 ms   no data"]


@pytest.mark.parametrize(
    ("unit", "value", "shown"),
    [
        ("ms", 612.4, "612 ms"),
        ("ms", 41.26, "41.3 ms"),
        ("ms", 2.344, "2.34 ms"),
        ("ms", 12_345.0, "12.35 s"),
        ("fraction", 0.004, "0.40%"),
        ("per_s", 63.25, "63.2 /s"),
        ("ratio", 0.9876, "0.988"),
        ("ms", None, "no data"),
    ],
)
def test_a_measured_value_is_shown_in_its_objectives_unit(
    unit: str, value: float | None, shown: str
) -> None:
    assert format_measured(unit, value) == shown


def test_a_terminal_that_cannot_print_check_marks_gets_words() -> None:
    assert marks_for("utf-8") == ("✓", "✗")
    assert marks_for("ascii") == ("ok", "FAIL")
    assert marks_for(None) == ("ok", "FAIL")
    verdicts = evaluate(parse_objectives(["ttft_p95<500ms"]), _figures())
    assert slo_lines([v.to_json() for v in verdicts], marks_for("ascii")) == [
        "FAIL ttft_p95 < 500 ms   612 ms"
    ]
