"""truncated_after_one_token: "length" must come after one token, not at a default cap."""

from __future__ import annotations

from typing import Any

from qbtsuite.checks import truncated_after_one_token

from .support import fails, passes


def completion(
    *texts: str, reason: str = "length", tokens: int | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "choices": [
            {"index": i, "text": t, "finish_reason": reason}
            for i, t in enumerate(texts)
        ]
    }
    if tokens is not None:
        body["usage"] = {"prompt_tokens": 9, "completion_tokens": tokens}
    return body


def chat(content: str | None, reason: str = "length") -> dict[str, Any]:
    message = {"role": "assistant", "content": content}
    return {"choices": [{"index": 0, "message": message, "finish_reason": reason}]}


def test_one_token_cut_for_length_passes() -> None:
    passes(truncated_after_one_token, completion(" Once", tokens=1))
    passes(truncated_after_one_token, completion(" The", " A", tokens=2))
    passes(truncated_after_one_token, chat(None))
    passes(truncated_after_one_token, chat(" Once"))


def test_a_natural_stop_with_text_fails() -> None:
    failure = fails(truncated_after_one_token, chat(" Once upon a time.", "stop"))
    assert 'finish_reason ["stop"]' in failure.received


def test_length_after_a_default_cap_fails_by_usage() -> None:
    failure = fails(truncated_after_one_token, completion(" Once", tokens=16))
    assert "usage.completion_tokens 16" in failure.received


def test_length_after_many_words_fails_without_usage() -> None:
    failure = fails(
        truncated_after_one_token, completion(" Once upon a time there was")
    )
    assert "6 words" in failure.received
