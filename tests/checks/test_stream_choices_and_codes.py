"""Checks for streamed choices closing, streamed usage covering output, and code sets."""

from __future__ import annotations

from qbtsuite.checks import (
    error_code_is,
    sse_choices_each_finish,
    sse_completion_tokens_cover_output,
)

from .support import chat_chunk, chat_stream, error_response, fails, frame, passes, sse

USAGE = {"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9}


def two_choices(second_finish: str | None) -> str:
    chunks = [
        chat_chunk({"role": "assistant", "content": "a"}, index=0),
        chat_chunk({"role": "assistant", "content": "b"}, index=1),
        chat_chunk({}, "stop", index=0),
        chat_chunk({}, second_finish, index=1),
    ]
    return "".join(frame(c) for c in chunks) + "data: [DONE]\n\n"


def test_every_streamed_choice_must_end_with_its_own_finish_reason() -> None:
    passes(sse_choices_each_finish, sse(two_choices("length")))
    failure = fails(sse_choices_each_finish, sse(two_choices(None)))
    assert "choice 1" in failure.received
    assert "choice 0" not in failure.received


def test_a_stream_without_choices_has_no_choice_that_finishes() -> None:
    failure = fails(sse_choices_each_finish, sse("data: [DONE]\n\n"))
    assert failure.received == "no chunk with choices"


def test_streamed_content_must_be_counted_in_the_usage_chunk() -> None:
    passes(sse_completion_tokens_cover_output, sse(chat_stream(usage=USAGE)))
    uncounted = {**USAGE, "completion_tokens": 0, "total_tokens": 5}
    failure = fails(
        sse_completion_tokens_cover_output, sse(chat_stream(usage=uncounted))
    )
    assert "completion_tokens 0" in failure.received


def test_an_empty_stream_may_count_zero_completion_tokens() -> None:
    zero = {**USAGE, "completion_tokens": 0, "total_tokens": 5}
    passes(sse_completion_tokens_cover_output, sse(chat_stream(("",), usage=zero)))


def test_error_code_is_accepts_any_code_of_a_set() -> None:
    either = ("invalid_request", "model_not_found")
    passes(error_code_is, error_response(400, "model_not_found"), 400, either)
    passes(error_code_is, error_response(400, "invalid_request"), 400, either)
    failure = fails(
        error_code_is, error_response(400, "rate_limit_exceeded"), 400, either
    )
    assert failure.expected == (
        "400 with code invalid_request or model_not_found in the error envelope"
    )
