"""Streams judged like answers (finish_reason, stop sequences) and no usage chunk unasked."""

from __future__ import annotations

from typing import Any

from qbtsuite.checks import (
    finish_reason_stop_at_sequence,
    sse_finish_reason_stop_at_sequence,
    sse_no_unasked_usage_chunk,
    sse_truncated_after_one_token,
    stopped_at_sequence,
    stream_answer,
)

from .support import (
    chat_chunk,
    chat_stream,
    completion_chunk,
    fails,
    frame,
    passes,
    sse,
)

USAGE = {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}
UNSTOPPED = " the river carries light over stone."


def frames(*chunks: dict[str, Any]) -> str:
    return "".join(frame(c) for c in chunks) + "data: [DONE]\n\n"


def completion_stream(*pieces: str, finish: str | None) -> str:
    chunks = [completion_chunk(p) for p in pieces]
    return frames(*chunks, completion_chunk("", finish))


# -- the answer a stream stands for ---------------------------------------------------


def test_a_chat_stream_stands_for_its_reassembled_choices_and_usage() -> None:
    answer = stream_answer(sse(chat_stream(("Hel", "lo"), usage=USAGE)))
    assert answer == {
        "choices": [{"index": 0, "text": "Hello", "finish_reason": "stop"}],
        "usage": USAGE,
    }


def test_interleaved_choices_are_reassembled_per_index_in_index_order() -> None:
    stream = frames(
        completion_chunk("b", index=1),
        completion_chunk("a", index=0),
        completion_chunk("c", index=1),
        completion_chunk("", "length", index=1),
        completion_chunk("", "stop", index=0),
    )
    assert stream_answer(sse(stream))["choices"] == [
        {"index": 0, "text": "a", "finish_reason": "stop"},
        {"index": 1, "text": "bc", "finish_reason": "length"},
    ]


def test_a_stream_without_a_usage_chunk_stands_for_an_answer_without_usage() -> None:
    assert "usage" not in stream_answer(sse(chat_stream()))


# -- max_tokens=1 ---------------------------------------------------------------------


def test_a_stream_cut_by_max_tokens_must_say_length() -> None:
    passes(sse_truncated_after_one_token, sse(chat_stream((" Once",), finish="length")))
    passes(
        sse_truncated_after_one_token,
        sse(completion_stream(" Once", finish="length")),
    )
    failure = fails(
        sse_truncated_after_one_token, sse(chat_stream((" Once",), finish="stop"))
    )
    assert failure.title == 'Streamed answer: max_tokens=1 cut not reported as "length"'
    assert "the stream's reassembled answer" in failure.received
    assert '["stop"]' in failure.received


def test_a_stream_that_ran_on_past_one_token_fails_even_when_it_says_length() -> None:
    long = completion_stream(" Once", " upon", " a", " time", finish="length")
    failure = fails(sse_truncated_after_one_token, sse(long))
    assert failure.title == "Streamed answer: max_tokens=1 not applied"
    assert "4 words" in failure.received
    natural = completion_stream(" Once", " upon", " a", " time", finish="stop")
    failure = fails(sse_truncated_after_one_token, sse(natural))
    assert failure.title == "Streamed answer: max_tokens=1 not applied"


def test_a_streamed_usage_of_more_than_one_token_per_choice_fails() -> None:
    over = {**USAGE, "completion_tokens": 5, "total_tokens": 10}
    stream = chat_stream((" Once",), usage=over, finish="length")
    failure = fails(sse_truncated_after_one_token, sse(stream))
    assert "completion_tokens 5" in failure.received


def test_a_choice_that_never_finishes_is_not_a_cut() -> None:
    stream = frames(completion_chunk(" Once"))
    failure = fails(sse_truncated_after_one_token, sse(stream))
    assert "[null]" in failure.received


# -- stop sequences -------------------------------------------------------------------


def test_a_reply_cut_where_the_stop_sequence_begins_was_stopped_by_it() -> None:
    assert stopped_at_sequence(" the river carries ", UNSTOPPED, "light")
    assert stopped_at_sequence(" the river carries", UNSTOPPED, "light")
    assert not stopped_at_sequence(" the river", UNSTOPPED, "light")
    assert not stopped_at_sequence(" a quiet stream", UNSTOPPED, "light")
    assert not stopped_at_sequence(" the river carries", UNSTOPPED, "moon")
    assert not stopped_at_sequence("", UNSTOPPED, "")


def body(text: str, finish: str | None) -> dict[str, Any]:
    return {"choices": [{"index": 0, "text": text, "finish_reason": finish}]}


def test_a_whole_answer_ended_by_a_stop_sequence_must_say_stop() -> None:
    passes(
        finish_reason_stop_at_sequence,
        body(" the river carries ", "stop"),
        UNSTOPPED,
        "light",
    )
    failure = fails(
        finish_reason_stop_at_sequence,
        body(" the river carries ", "length"),
        UNSTOPPED,
        "light",
    )
    assert 'finish_reason "length"' in failure.received
    assert "'light'" in failure.received


def test_a_chat_message_ended_by_a_stop_sequence_must_say_stop() -> None:
    message = {"role": "assistant", "content": " the river carries "}
    reply = {"choices": [{"index": 0, "message": message, "finish_reason": "length"}]}
    fails(finish_reason_stop_at_sequence, reply, UNSTOPPED, "light")


def test_an_answer_that_went_another_way_is_not_judged_on_its_finish_reason() -> None:
    passes(
        finish_reason_stop_at_sequence,
        body(" a quiet stream", "length"),
        UNSTOPPED,
        "light",
    )


def test_a_stream_ended_by_a_stop_sequence_must_say_stop_on_its_last_chunk() -> None:
    pieces = (" the", " river", " carries ")
    passes(
        sse_finish_reason_stop_at_sequence,
        sse(chat_stream(pieces, finish="stop")),
        UNSTOPPED,
        "light",
    )
    failure = fails(
        sse_finish_reason_stop_at_sequence,
        sse(completion_stream(*pieces, finish="length")),
        UNSTOPPED,
        "light",
    )
    assert failure.title == "Streamed answer: Stop sequence not reported as stop"


# -- nothing unasked-for --------------------------------------------------------------


def test_a_stream_without_include_usage_has_no_usage_chunk() -> None:
    passes(sse_no_unasked_usage_chunk, sse(chat_stream()))
    nulls = frames({**chat_chunk({"content": "a"}, "stop"), "usage": None})
    passes(sse_no_unasked_usage_chunk, sse(nulls))
    failure = fails(sse_no_unasked_usage_chunk, sse(chat_stream(usage=USAGE)))
    assert '"choices": []' in failure.received
    assert failure.received.startswith("event #6 at byte")


def test_usage_on_a_content_chunk_nobody_asked_for_fails_too() -> None:
    stream = frames(chat_chunk({"content": "a"}, "stop", usage=USAGE))
    failure = fails(sse_no_unasked_usage_chunk, sse(stream))
    assert '"choices": []' not in failure.received
    assert "usage {" in failure.received


def test_an_empty_choices_chunk_without_usage_is_still_a_usage_chunk() -> None:
    stream = frames(chat_chunk({"content": "a"}, "stop"), chat_chunk(None))
    failure = fails(sse_no_unasked_usage_chunk, sse(stream))
    assert failure.received.startswith("event #2 at byte")


def test_a_mid_stream_error_is_not_a_usage_chunk() -> None:
    error = {"error": {"message": "m", "type": "api_error", "param": None, "code": "x"}}
    passes(sse_no_unasked_usage_chunk, sse(frames(chat_chunk({"content": "a"}), error)))
