"""SSE framing, chunk semantics and incremental delivery, on streams parsed strictly."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from qbtsuite.checks import (
    json_chunks,
    sse_choices_count_is,
    sse_chunks_validate,
    sse_completion_tokens_within_max,
    sse_content_type_is_event_stream,
    sse_data_is_single_line_json,
    sse_done_exactly_once_and_last,
    sse_errors_use_envelope,
    sse_events_are_data_only,
    sse_finish_reason_only_at_end,
    sse_first_delta_has_assistant_role,
    sse_identity_consistent,
    sse_is_incremental,
    sse_is_valid_utf8,
    sse_nothing_after_done_but_comments,
    sse_text_avoids_stop,
    sse_usage_adds_up,
    sse_usage_chunk_present_and_last,
    sse_usage_null_on_other_chunks,
    stream_text,
    stream_usage,
)

from .support import (
    chat_chunk,
    chat_stream,
    completion_chunk,
    fails,
    passes,
    response,
    sse,
)

USAGE = {"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9}
GOOD = sse(chat_stream())
WITH_USAGE = sse(chat_stream(usage=USAGE))


def frames(*chunks: Mapping[str, Any], done: bool = True) -> str:
    body = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks)
    return body + ("data: [DONE]\n\n" if done else "")


# -- framing --------------------------------------------------------------------------


def test_event_stream_content_type_with_charset_passes() -> None:
    passes(
        sse_content_type_is_event_stream,
        response(200, "", "text/event-stream; charset=utf-8"),
    )
    failure = fails(
        sse_content_type_is_event_stream,
        response(200, "data: {}\n\n", "application/json"),
    )
    assert failure.received.startswith("200 application/json")


def test_invalid_utf8_is_reported_by_byte_offset() -> None:
    passes(sse_is_valid_utf8, sse('data: {"x": "caf\u00e9"}\n\n'))
    failure = fails(sse_is_valid_utf8, sse(b"data: {}\n\ndata: \xff\xfe\n\n"))
    assert "first at byte 10" in failure.received


def test_comment_keepalives_are_data_only() -> None:
    passes(sse_events_are_data_only, GOOD)
    passes(
        sse_events_are_data_only, sse(": keep-alive\n\n" + chat_stream() + ": bye\n")
    )


@pytest.mark.parametrize(
    ("prefix", "shown"),
    [
        ("event: ping\n\n", "'event: ping'"),
        ("retry: 3000\n\n", "'retry: 3000'"),
        ("id: 7\n\n", "'id: 7'"),
        ("event: message\n", "'event: message'"),
    ],
)
def test_other_fields_fail_data_only(prefix: str, shown: str) -> None:
    failure = fails(sse_events_are_data_only, sse(prefix + chat_stream()))
    assert shown in failure.received


def test_each_event_is_one_line_of_json_object() -> None:
    passes(sse_data_is_single_line_json, GOOD)
    split = chat_stream().replace('"choices": ', '\ndata: "choices": ', 1)
    failure = fails(sse_data_is_single_line_json, sse(split))
    assert "event #1 at byte 0: 2 data: lines" in failure.received
    fails(sse_data_is_single_line_json, sse("data: hello world\n\ndata: [DONE]\n\n"))
    fails(sse_data_is_single_line_json, sse("data: [1, 2]\n\ndata: [DONE]\n\n"))


def test_exactly_one_done_and_it_is_last() -> None:
    passes(sse_done_exactly_once_and_last, GOOD)
    passes(sse_done_exactly_once_and_last, WITH_USAGE)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (chat_stream(done=""), "without [DONE]"),
        (chat_stream(done="data: [DONE]\n\ndata: [DONE]\n\n"), "2 [DONE] events"),
        (chat_stream(done="data: [DONE] \n\n"), "not exactly [DONE]"),
        (chat_stream(done="data: [done]\n\n"), "not exactly [DONE]"),
        (chat_stream(done="data: [DONE]\n"), "without the blank line"),
        (chat_stream(done="data: [DONE]"), "ends mid-line"),
        (chat_stream(done='data: [DONE]\n\ndata: {"late": 1}\n\n'), "event #7"),
    ],
)
def test_missing_repeated_or_misspelt_done_fails(body: str, problem: str) -> None:
    failure = fails(sse_done_exactly_once_and_last, sse(body))
    assert problem in failure.received


def test_only_comments_and_blank_lines_after_done() -> None:
    passes(sse_nothing_after_done_but_comments, sse(chat_stream() + ": done\n\n\n"))
    passes(sse_nothing_after_done_but_comments, sse(chat_stream(done="")))
    failure = fails(
        sse_nothing_after_done_but_comments, sse(chat_stream() + "data: [DONE]\n\n")
    )
    assert "'data: [DONE]'" in failure.received
    fails(sse_nothing_after_done_but_comments, sse(chat_stream() + "garbage"))


# -- chunks -----------------------------------------------------------------------------


def test_chunks_validate_against_the_chunk_schema() -> None:
    passes(sse_chunks_validate, GOOD, "chat_completion_chunk")
    passes(sse_chunks_validate, WITH_USAGE, "chat_completion_chunk")
    bad = chat_chunk({"content": "x"})
    del bad["choices"][0]["delta"]
    failure = fails(sse_chunks_validate, sse(frames(bad)), "chat_completion_chunk")
    assert "event #1 at byte 0: $.choices[0].delta" in failure.received
    fails(sse_chunks_validate, sse("data: [DONE]\n\n"), "chat_completion_chunk")


def test_completion_chunks_validate_with_null_finish_reason() -> None:
    stream = sse(
        frames(
            completion_chunk("Ott"),
            completion_chunk("awa."),
            completion_chunk("", "stop"),
        )
    )
    passes(sse_chunks_validate, stream, "completion_chunk")
    passes(sse_finish_reason_only_at_end, stream)
    assert stream_text(stream) == {0: "Ottawa."}


def test_identity_is_the_same_on_every_chunk() -> None:
    passes(sse_identity_consistent, WITH_USAGE)
    drifting = frames(
        chat_chunk({"content": "a"}), chat_chunk({"content": "b"}, id="chatcmpl-2")
    )
    failure = fails(sse_identity_consistent, sse(drifting))
    assert failure.title == "Chunks disagree on id"
    fails(
        sse_identity_consistent, sse(frames(chat_chunk({}), chat_chunk({}, created=1)))
    )


def test_finish_reason_only_on_the_last_chunk_of_each_choice() -> None:
    passes(sse_finish_reason_only_at_end, GOOD)
    passes(sse_finish_reason_only_at_end, WITH_USAGE)
    early = frames(
        chat_chunk({"content": "a"}, "stop"), chat_chunk({"content": "b"}, "stop")
    )
    failure = fails(sse_finish_reason_only_at_end, sse(early))
    assert 'event #1 at byte 0: choice 0 finish_reason "stop"' in failure.received
    never = frames(chat_chunk({"content": "a"}), chat_chunk({"content": "b"}))
    assert (
        fails(sse_finish_reason_only_at_end, sse(never)).title
        == "Choice never finishes"
    )


def test_two_choices_each_finish_on_their_own() -> None:
    two = frames(
        chat_chunk({"role": "assistant", "content": "a"}, index=0),
        chat_chunk({"role": "assistant", "content": "b"}, index=1),
        chat_chunk({}, "stop", index=0),
        chat_chunk({"content": "c"}, index=1),
        chat_chunk({}, "length", index=1),
    )
    stream = sse(two)
    passes(sse_finish_reason_only_at_end, stream)
    passes(sse_choices_count_is, stream, 2)
    passes(sse_first_delta_has_assistant_role, stream)
    assert stream_text(stream) == {0: "a", 1: "bc"}
    failure = fails(sse_choices_count_is, GOOD, 2)
    assert failure.received == "choice indexes [0]"


def test_first_delta_carries_the_assistant_role() -> None:
    passes(sse_first_delta_has_assistant_role, GOOD)
    failure = fails(
        sse_first_delta_has_assistant_role, sse(frames(chat_chunk({"content": "a"})))
    )
    assert 'delta {"content":"a"}' in failure.received


def test_include_usage_gives_one_final_usage_chunk() -> None:
    passes(sse_usage_chunk_present_and_last, WITH_USAGE)
    passes(sse_usage_null_on_other_chunks, WITH_USAGE)
    assert stream_usage(WITH_USAGE) == USAGE


def test_usage_chunk_missing_misplaced_or_with_choices_fails() -> None:
    assert (
        "0 chunk(s) with usage"
        in fails(sse_usage_chunk_present_and_last, GOOD).received
    )
    usage_first = frames(
        chat_chunk(None, usage=USAGE), chat_chunk({"content": "a"}, "stop")
    )
    fails(sse_usage_chunk_present_and_last, sse(usage_first))
    with_choices = frames(chat_chunk({"content": "a"}, "stop", usage=USAGE))
    failure = fails(sse_usage_chunk_present_and_last, sse(with_choices))
    assert failure.title == "Usage chunk misplaced or misshapen"
    everywhere = frames(
        chat_chunk({"content": "a"}, usage=USAGE), chat_chunk(None, usage=USAGE)
    )
    assert (
        "2 chunk(s) with usage"
        in fails(sse_usage_chunk_present_and_last, sse(everywhere)).received
    )


def test_other_chunks_must_say_usage_null() -> None:
    no_key = frames(chat_chunk({"content": "a"}, "stop"), chat_chunk(None, usage=USAGE))
    passes(sse_usage_chunk_present_and_last, sse(no_key))
    assert "no usage key" in fails(sse_usage_null_on_other_chunks, sse(no_key)).received


def test_stream_usage_adds_up_and_respects_max_tokens() -> None:
    passes(sse_usage_adds_up, WITH_USAGE)
    passes(sse_completion_tokens_within_max, WITH_USAGE, 4)
    inflated = sse(
        chat_stream(usage={**USAGE, "completion_tokens": 6, "total_tokens": 11})
    )
    failure = fails(sse_completion_tokens_within_max, inflated, 4)
    assert "usage.completion_tokens 6" in failure.received
    fails(sse_usage_adds_up, sse(chat_stream(usage={**USAGE, "total_tokens": 10})))
    assert fails(sse_usage_adds_up, GOOD).title == "Usage missing"


def test_streamed_text_avoids_the_stop_sequence_even_across_chunks() -> None:
    passes(sse_text_avoids_stop, GOOD, "bye")
    failure = fails(sse_text_avoids_stop, GOOD, "lo th")
    assert "'lo th'" in failure.received


def test_mid_stream_error_uses_the_envelope() -> None:
    envelope = {
        "error": {
            "message": "upstream died",
            "type": "api_error",
            "param": None,
            "code": "upstream_error",
        }
    }
    passes(sse_errors_use_envelope, sse(frames(chat_chunk({"content": "a"}), envelope)))
    passes(sse_errors_use_envelope, GOOD)
    failure = fails(sse_errors_use_envelope, sse(frames({"error": "upstream died"})))
    assert failure.received.startswith("event #1 at byte 0: ")


def test_error_chunks_are_not_content() -> None:
    envelope = {
        "error": {"message": "m", "type": "api_error", "code": "upstream_error"}
    }
    stream = sse(
        frames(chat_chunk({"role": "assistant", "content": "a"}, "stop"), envelope)
    )
    passes(sse_identity_consistent, stream)
    assert len(json_chunks(stream)) == 2


# -- incremental delivery ---------------------------------------------------------------


def events_of(pieces: int = 8) -> list[str]:
    """A chat stream cut into one string per event."""
    text = chat_stream([f"t{i} " for i in range(pieces)])
    return [event + "\n\n" for event in text.split("\n\n") if event]


def test_chunks_spread_over_time_are_incremental() -> None:
    events = events_of()
    passes(
        sse_is_incremental, sse(events, [0.1 + 0.002 * i for i in range(len(events))])
    )


def test_slow_first_token_does_not_make_a_stream_look_buffered() -> None:
    events = events_of()
    times = [5.0 + 0.002 * i for i in range(len(events))]  # 5 s queue, then tokens
    passes(sse_is_incremental, sse(events, times))


def test_a_stream_delivered_in_one_burst_is_buffered() -> None:
    events = events_of()
    failure = fails(sse_is_incremental, sse("".join(events), [0.5]))
    assert "8 content chunks arrived within 0.000 ms" in failure.received


def test_a_stream_too_short_to_judge_passes() -> None:
    passes(sse_is_incremental, sse(chat_stream(["a", "b"]), [0.5]))


def test_incremental_check_needs_arrival_times() -> None:
    with pytest.raises(ValueError, match="arrival times"):
        sse_is_incremental(sse(chat_stream(["a", "b", "c", "d", "e"])))


def test_a_hiccup_that_bunches_part_of_a_stream_is_still_incremental() -> None:
    events = events_of(32)
    times = [0.2] * 20 + [0.2 + 0.002 * i for i in range(len(events) - 20)]
    passes(sse_is_incremental, sse(events, times))


def test_a_buffered_stream_split_over_two_reads_is_still_buffered() -> None:
    events = events_of(16)
    half = len(events) // 2
    reads = ["".join(events[:half]), "".join(events[half:])]
    fails(sse_is_incremental, sse(reads, [0.5, 0.50002]))
