"""The strict SSE parser: WHATWG HTML §9.2 semantics plus the facts checks need."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qbtsuite.errors import AnswerTooLarge
from qbtsuite.sse import SSEEvent, SSEParser, SSEStream, parse_stream


def one_shot(data: bytes) -> SSEStream:
    return parse_stream([(data, 0.0)])


def datas(stream: SSEStream) -> list[str]:
    return [e.data for e in stream.events]


# -- WHATWG examples (protocol-facts §5) ---------------------------------------------


def test_consecutive_data_lines_are_joined_with_line_feeds() -> None:
    stream = one_shot(b"data: YHOO\ndata: +2\ndata: 10\n\n")
    assert datas(stream) == ["YHOO\n+2\n10"]
    assert stream.events[0].data_lines == ("YHOO", "+2", "10")


def test_data_without_colon_dispatches_empty_and_newline_and_drops_unfinished() -> None:
    stream = one_shot(b"data\n\ndata\ndata\n\ndata:")
    assert datas(stream) == ["", "\n"]
    assert stream.tail.unterminated_line == b"data:"
    assert stream.tail.incomplete is None


def test_one_leading_space_is_removed_and_no_space_is_identical() -> None:
    stream = one_shot(b"data:test\n\ndata: test\n\ndata:  two\n\n")
    assert datas(stream) == ["test", "test", " two"]


def test_field_without_colon_is_a_name_with_empty_value() -> None:
    stream = one_shot(b"event\ndata\n\n")
    event = stream.events[0]
    assert event.fields == (("event", ""), ("data", ""))
    assert event.type == "message"


def test_field_names_are_case_sensitive() -> None:
    stream = one_shot(b"Data: x\n\n")
    assert stream.events == ()
    assert stream.blocks[0].fields == (("Data", "x"),)


# -- line endings and chunk boundaries -------------------------------------------


@pytest.mark.parametrize(
    ("eol", "name"), [(b"\n", "LF"), (b"\r\n", "CRLF"), (b"\r", "CR")]
)
def test_every_line_ending_style_gives_the_same_events(eol: bytes, name: str) -> None:
    body = eol.join([b"data: a", b"data: b", b"", b"data: c", b"", b""])  # 5 endings
    stream = one_shot(body)
    assert datas(stream) == ["a\nb", "c"]
    assert stream.tail.line_endings == {name: 5}


def test_crlf_split_across_chunks_is_one_line_ending() -> None:
    stream = parse_stream([(b"data: a\r", 1.0), (b"\n\r", 2.0), (b"\n", 3.0)])
    assert datas(stream) == ["a"]
    assert stream.tail.line_endings == {"CRLF": 2}
    assert stream.blocks == stream.events  # no stray empty block from the LF


def test_cr_at_chunk_end_followed_by_other_byte_is_a_lone_cr() -> None:
    stream = parse_stream([(b"data: a\r", 1.0), (b"\r", 2.0)])
    assert datas(stream) == ["a"]
    assert stream.tail.line_endings == {"CR": 2}


def test_event_is_dispatched_when_its_blank_line_ends_with_cr() -> None:
    parser = SSEParser()
    assert [e.data for e in parser.feed(b"data: a\r\r", 5.0)] == ["a"]


def test_lines_split_mid_line_are_joined_before_parsing() -> None:
    stream = parse_stream(
        [(b"da", 1.0), (b"ta: hel", 2.0), (b"lo\n", 3.0), (b"\n", 4.0)]
    )
    event = stream.events[0]
    assert event.data == "hello"
    assert (event.started_at, event.received_at) == (3.0, 4.0)


def test_multibyte_character_split_across_chunks_is_decoded() -> None:
    raw = "data: héllo €\n\n".encode()
    cut = raw.index("€".encode()) + 1
    stream = parse_stream([(raw[:cut], 1.0), (raw[cut:], 2.0)])
    assert datas(stream) == ["héllo €"]
    assert stream.tail.invalid_utf8 == ()


def test_invalid_utf8_is_replaced_and_reported() -> None:
    stream = one_shot(b"data: \xff\xfe\n\n")
    assert datas(stream) == ["\ufffd\ufffd"]
    [bad] = stream.tail.invalid_utf8
    assert bad.raw == b"data: \xff\xfe"
    assert bad.offset == 0


# -- BOM ---------------------------------------------------------------------------


def test_one_leading_bom_is_ignored_even_when_split() -> None:
    stream = parse_stream([(b"\xef", 1.0), (b"\xbb", 2.0), (b"\xbfdata: x\n\n", 3.0)])
    assert datas(stream) == ["x"]
    assert stream.tail.bom is True


def test_a_second_bom_is_part_of_the_field_name() -> None:
    stream = one_shot(b"\xef\xbb\xbf\xef\xbb\xbfdata: x\n\n")
    assert stream.events == ()
    assert stream.blocks[0].fields == (("\ufeffdata", "x"),)


def test_stream_shorter_than_a_bom_is_reported_as_unterminated() -> None:
    stream = one_shot(b"\xef\xbb")
    assert stream.tail.unterminated_line == b"\xef\xbb"
    assert stream.tail.bom is False


# -- comments and undispatched blocks ----------------------------------------------


def test_comments_are_recorded_but_not_dispatched() -> None:
    stream = one_shot(b": keep-alive\n\ndata: a\n: inside\n\n")
    assert datas(stream) == ["a"]
    assert [c.text for c in stream.comments] == [": keep-alive", ": inside"]
    event = stream.events[0]
    assert event.comments == (" inside",)
    [keepalive] = event.ignored_before
    assert keepalive.only_comments and not keepalive.dispatched


def test_event_only_block_is_seen_but_not_dispatched() -> None:
    stream = one_shot(b"event: ping\n\ndata: a\n\nretry: 3000\n\n")
    assert datas(stream) == ["a"]
    [ping] = stream.events[0].ignored_before
    assert ping.fields == (("event", "ping"),)
    assert not ping.only_comments
    [retry] = stream.tail.trailing
    assert retry.retry == 3000
    assert [b.dispatched for b in stream.blocks] == [False, True, False]


def test_blank_lines_without_content_make_no_block() -> None:
    stream = one_shot(b"\n\n\ndata: a\n\n\n")
    assert len(stream.blocks) == 1


# -- fields ------------------------------------------------------------------------


def test_event_type_id_and_retry_are_read() -> None:
    stream = one_shot(b"event: update\nid: 7\nretry: 1500\ndata: x\n\ndata: y\n\n")
    first, second = stream.events
    assert (first.type, first.id, first.last_event_id, first.retry) == (
        "update",
        "7",
        "7",
        1500,
    )
    # The event type resets; the last event ID persists (WHATWG).
    assert (second.type, second.id, second.last_event_id) == ("message", None, "7")


def test_id_with_nul_and_non_digit_retry_are_ignored() -> None:
    stream = one_shot(b"id: a\x00b\nretry: 1s\ndata: x\n\n")
    event = stream.events[0]
    assert (event.id, event.last_event_id, event.retry) == (None, "", None)
    assert event.field_names == ("id", "retry", "data")


def test_json_split_over_two_data_lines_is_visible() -> None:
    stream = one_shot(b'data: {"a":\ndata: 1}\n\n')
    event = stream.events[0]
    assert event.data == '{"a":\n1}'
    assert len(event.data_lines) == 2
    assert [line.raw for line in event.lines] == [b'data: {"a":', b"data: 1}"]


# -- end of stream -----------------------------------------------------------------


def test_event_without_final_blank_line_is_discarded_but_reported() -> None:
    stream = one_shot(b"data: a\n\ndata: [DONE]\n")
    assert datas(stream) == ["a"]
    incomplete = stream.tail.incomplete
    assert incomplete is not None
    assert incomplete.data_lines == ("[DONE]",)
    assert stream.tail.terminated is False


def test_bytes_after_done_are_counted_and_events_flagged() -> None:
    stream = one_shot(b"data: a\n\ndata: [DONE]\n\n: bye\n\ndata: late\n\n")
    assert [e.after_terminator for e in stream.events] == [False, False, True]
    assert stream.tail.terminated is True
    assert stream.tail.after_terminator == b": bye\n\ndata: late\n\n"
    assert stream.tail.after_terminator_size == len(b": bye\n\ndata: late\n\n")


def test_lf_completing_the_done_blank_line_is_not_counted_as_after() -> None:
    stream = parse_stream([(b"data: [DONE]\r\n\r", 1.0), (b"\n", 2.0)])
    assert stream.tail.terminated is True
    assert stream.tail.after_terminator_size == 0


def test_clean_done_stream_has_nothing_after() -> None:
    stream = one_shot(b'data: {"x":1}\n\ndata: [DONE]\n\n')
    assert stream.events[-1].is_done
    assert stream.tail.after_terminator_size == 0
    assert stream.tail.incomplete is None
    assert stream.tail.total_bytes == len(b'data: {"x":1}\n\ndata: [DONE]\n\n')


def test_feed_after_close_is_an_error() -> None:
    parser = SSEParser()
    parser.close()
    with pytest.raises(RuntimeError):
        parser.feed(b"data: x\n\n")


def test_offsets_locate_each_block_in_the_stream() -> None:
    body = b"data: a\n\ndata: b\n\n"
    first, second = one_shot(body).events
    assert (first.offset, first.end_offset) == (0, 8)
    assert (second.offset, second.end_offset) == (9, 17)
    assert body[second.offset : second.end_offset] == b"data: b\n"


# -- chunking never changes the result ------------------------------------------------


def summary(stream: SSEStream) -> Any:
    def event(e: SSEEvent) -> Any:
        lines = tuple((x.raw, x.ending, x.offset, x.valid_utf8) for x in e.lines)
        ignored = tuple(event(i) for i in e.ignored_before)
        return (
            e.event,
            e.data,
            e.data_lines,
            e.id,
            e.last_event_id,
            e.retry,
            e.fields,
            e.comments,
            e.dispatched,
            e.index,
            e.offset,
            e.end_offset,
            e.after_terminator,
            lines,
            ignored,
        )

    tail = stream.tail
    return (
        [event(e) for e in stream.events],
        [event(b) for b in stream.blocks],
        None if tail.incomplete is None else event(tail.incomplete),
        tail.unterminated_line,
        [event(t) for t in tail.trailing],
        tail.line_endings,
        [(x.raw, x.offset) for x in tail.invalid_utf8],
        tail.bom,
        tail.total_bytes,
        tail.terminated,
        tail.after_terminator,
    )


def split(data: bytes, cuts: list[int]) -> list[tuple[bytes, float | None]]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    edges = [0, *points, len(data)]
    return [(data[a:b], None) for a, b in pairwise(edges)]


_PIECES = [
    b"data",
    b"event",
    b"id",
    b"retry",
    b":",
    b" ",
    b"\r",
    b"\n",
    b"\r\n",
    b"x",
    b"12",
    b"[DONE]",
    b"\xef\xbb\xbf",
    "é€".encode(),
    b"\xff",
    b"\x00",
]
sse_like = st.lists(st.sampled_from(_PIECES), max_size=60).map(b"".join)


@settings(max_examples=300, deadline=None, database=None)
@given(data=sse_like | st.binary(max_size=80), cuts=st.lists(st.integers(0, 200)))
def test_any_chunking_gives_the_same_result_as_one_shot(
    data: bytes, cuts: list[int]
) -> None:
    assert summary(parse_stream(split(data, cuts))) == summary(one_shot(data))


@settings(max_examples=100, deadline=None, database=None)
@given(data=sse_like)
def test_byte_at_a_time_gives_the_same_result_as_one_shot(data: bytes) -> None:
    chunks = [(data[i : i + 1], None) for i in range(len(data))]
    assert summary(parse_stream(chunks)) == summary(one_shot(data))


def test_a_line_that_never_ends_is_the_targets_failure_not_memory() -> None:
    parser = SSEParser(max_line=1000)
    parser.feed(b'data: {"id":"1"}\n\n')
    with pytest.raises(AnswerTooLarge) as info:
        for _ in range(10):
            parser.feed(b'data: {"text":"' + b"x" * 300)
    assert "a line of more than 1000 bytes" in info.value.received


def test_a_stream_of_too_many_lines_is_the_targets_failure() -> None:
    with pytest.raises(AnswerTooLarge) as info:
        SSEParser(max_lines=50).feed(b"data: x\n\n" * 40)
    assert "more than 50 lines" in info.value.received
