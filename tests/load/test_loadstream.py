"""Timing of one stream: TTFT, pooled gaps, TPOT, and the token cross-check."""

from __future__ import annotations

import json
from typing import Any

import pytest

from qbtsuite.loadtest.stream import StreamObserver


def _event(payload: dict[str, Any] | str) -> bytes:
    data = payload if isinstance(payload, str) else json.dumps(payload)
    return f"data: {data}\n\n".encode()


def _chat(content: str | None, role: bool = False) -> dict[str, Any]:
    delta: dict[str, Any] = {} if content is None else {"content": content}
    if role:
        delta["role"] = "assistant"
    return {
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": delta}],
    }


def _usage(tokens: int) -> dict[str, Any]:
    return {"choices": [], "usage": {"completion_tokens": tokens, "prompt_tokens": 3}}


def _observe(chunks: list[tuple[float, bytes]], end: float, kind: str = "chat") -> Any:
    observer = StreamObserver(kind, sent=10.0)
    for at, data in chunks:
        observer.feed(data, at)
    return observer.finish(end)


def test_ttft_is_the_first_event_with_content_not_the_role_delta() -> None:
    result = _observe(
        [
            (10.05, _event(_chat("", role=True))),
            (10.15, _event(_chat("Hel"))),
            (10.165, _event(_chat("lo"))),
            (10.18, _event(_chat("!"))),
            (10.18, _event(_usage(3)) + _event("[DONE]")),
        ],
        end=10.181,
    )
    assert result.problem is None
    assert result.ttft == pytest.approx(0.15)
    assert result.itl == pytest.approx((0.015, 0.015))
    assert result.e2e == pytest.approx(0.181)
    assert result.tpot == pytest.approx((0.181 - 0.15) / 2)
    assert (result.chunks, result.usage_tokens, result.tokens) == (3, 3, 3)
    assert not result.mismatch


def test_an_event_is_timed_when_its_closing_line_arrives() -> None:
    whole = _event(_chat("a"))
    result = _observe(
        [
            (10.1, whole[:10]),  # a partial line: nothing dispatched yet
            (10.2, whole[10:]),
            (10.3, _event(_chat("b")) + _event("[DONE]")),
        ],
        end=10.3,
    )
    assert result.ttft == pytest.approx(0.2)
    assert result.itl == pytest.approx((0.1,))


def test_usage_and_chunk_count_that_differ_are_a_mismatch() -> None:
    result = _observe(
        [(10.1, _event(_chat("ab"))), (10.2, _event(_usage(2)) + _event("[DONE]"))],
        end=10.2,
    )
    assert (result.chunks, result.usage_tokens, result.tokens) == (1, 2, 2)
    assert result.mismatch
    assert result.tpot == pytest.approx(0.1)  # (e2e − TTFT) / (tokens − 1), tokens=2


def test_without_usage_the_client_count_stands_in() -> None:
    result = _observe(
        [(10.1, _event(_chat("a"))), (10.2, _event(_chat("b")) + _event("[DONE]"))],
        end=10.2,
    )
    assert result.usage_tokens is None and result.tokens == 2 and not result.mismatch


def test_completions_streams_count_text() -> None:
    chunk = {"object": "text_completion", "choices": [{"index": 0, "text": "hi"}]}
    result = _observe(
        [(10.1, _event(chunk)), (10.1, _event("[DONE]"))], end=10.1, kind="completions"
    )
    assert result.chunks == 1 and result.ttft == pytest.approx(0.1)


@pytest.mark.parametrize(
    ("chunks", "problem"),
    [
        ([(10.1, _event(_chat("a")))], "without [DONE]"),
        ([(10.1, _event("{not json")), (10.2, _event("[DONE]"))], "not JSON"),
        (
            [
                (10.1, _event({"error": {"code": "upstream_error"}})),
                (10.2, _event("[DONE]")),
            ],
            "error event in the stream (upstream_error)",
        ),
        ([(10.1, _event("[DONE]") + _event(_chat("late")))], "data after [DONE]"),
        ([(10.1, _event("[DONE]") + b"data: {}")], "bytes after the last event"),
    ],
)
def test_a_malformed_stream_names_its_problem(
    chunks: list[tuple[float, bytes]], problem: str
) -> None:
    result = _observe(chunks, end=10.3)
    assert result.problem is not None and problem in result.problem


def test_no_content_means_no_ttft_and_no_tpot() -> None:
    result = _observe([(10.1, _event("[DONE]"))], end=10.1)
    assert result.ttft is None and result.tpot is None and result.itl == ()
