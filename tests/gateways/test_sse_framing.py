"""Events are split wherever the bytes break and re-framed with the chosen line end."""

from __future__ import annotations

from tests.gateways.jsonvalue import JsonValue
from tests.gateways.sse import EventSplitter, reframe_event


def _same(value: JsonValue) -> JsonValue:
    return value


def test_events_split_across_chunks_come_out_whole() -> None:
    stream = b'data: {"a":1}\n\ndata: {"a":2}\r\n\r\ndata: [DONE]\n\n'
    for cut in range(1, len(stream)):
        splitter = EventSplitter()
        events = splitter.feed(stream[:cut]) + splitter.feed(stream[cut:])
        assert events == [b'data: {"a":1}', b'data: {"a":2}', b"data: [DONE]"], cut
        assert splitter.rest() == b""


def test_a_cr_at_the_end_of_a_chunk_waits_for_its_lf() -> None:
    splitter = EventSplitter()
    assert splitter.feed(b"data: x\r\n\r") == []
    assert splitter.feed(b"\n") == [b"data: x"]


def test_json_data_is_transformed_and_other_lines_kept() -> None:
    def bump(value: JsonValue) -> JsonValue:
        return {"a": 2} if value == {"a": 1} else value

    event = b': comment\nevent: x\ndata: {"a": 1}'
    assert reframe_event(event, bump, b"\r\n") == (
        b': comment\r\nevent: x\r\ndata: {"a":2}\r\n\r\n'
    )


def test_an_unchanged_data_line_keeps_its_bytes() -> None:
    assert reframe_event(b'data: {"a" : 1}', _same, b"\n") == b'data: {"a" : 1}\n\n'
