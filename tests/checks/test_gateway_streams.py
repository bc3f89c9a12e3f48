"""Streams the way real gateways frame them stay conformant.

WHATWG HTML §9.2 lets a line end in CRLF, LF or CR, and makes ``:`` lines comments,
which gateways send as keep-alives; OpenAI's chunks carry ``system_fingerprint``, and
gateways fill optional members with null (``"usage": null``, ``"tool_calls": null``,
``"logprobs": null``). None of that may fail a stream check.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from qbtsuite.checks import (
    sse_choices_count_is,
    sse_choices_each_finish,
    sse_chunks_validate,
    sse_data_is_single_line_json,
    sse_done_exactly_once_and_last,
    sse_events_are_data_only,
    sse_finish_reason_only_at_end,
    sse_first_delta_has_assistant_role,
    sse_identity_consistent,
    sse_is_valid_utf8,
    sse_no_unasked_usage_chunk,
    sse_nothing_after_done_but_comments,
    sse_text_avoids_stop,
    sse_usage_adds_up,
    sse_usage_chunk_present_and_last,
    sse_usage_null_on_other_chunks,
    stream_answer,
)
from qbtsuite.sse import SSEStream

from .support import chat_chunk, completion_chunk, fails, passes, sse

FINGERPRINT: dict[str, Any] = {"system_fingerprint": "fp_44709d6fcb"}
USAGE = {
    "prompt_tokens": 5,
    "completion_tokens": 3,
    "total_tokens": 8,
    "prompt_tokens_details": {"cached_tokens": None},
    "completion_tokens_details": None,
}


def chat_chunks(include_usage: bool) -> list[dict[str, Any]]:
    nulls = {"refusal": None, "tool_calls": None, "function_call": None}
    chunks = [
        chat_chunk({"role": "assistant", "content": "", **nulls}, **FINGERPRINT),
        chat_chunk({"content": "Ottawa", **nulls}, **FINGERPRINT),
        chat_chunk({"content": ".", "role": None}, **FINGERPRINT),
        chat_chunk({}, "stop", **FINGERPRINT),
    ]
    chunks = [{**c, "usage": None} for c in chunks]  # sent with or without the option
    if include_usage:
        chunks.append(chat_chunk(None, usage=USAGE, **FINGERPRINT))
    return chunks


def completion_chunks(include_usage: bool) -> list[dict[str, Any]]:
    chunks = [
        {**completion_chunk(" Ottawa"), **FINGERPRINT, "usage": None},
        {**completion_chunk("", "stop"), **FINGERPRINT, "usage": None},
    ]
    if include_usage:
        last = {**completion_chunk(""), **FINGERPRINT, "choices": [], "usage": USAGE}
        chunks.append(last)
    return chunks


def gateway_framing(chunks: list[dict[str, Any]]) -> bytes:
    """CRLF line ends, a comment before the first event and a keep-alive between events."""
    out = ": connected\r\n\r\n"
    for chunk in chunks:
        out += f"data: {json.dumps(chunk)}\r\n\r\n: keep-alive\r\n\r\n"
    return (out + "data: [DONE]\r\n\r\n: bye\r\n").encode()


def byte_at_a_time(raw: bytes) -> SSEStream:
    pieces = [raw[i : i + 1] for i in range(len(raw))]
    return sse(pieces, [float(i) for i in range(len(raw))])


FRAMING: list[Callable[[SSEStream], None]] = [
    sse_events_are_data_only,
    sse_is_valid_utf8,
    sse_data_is_single_line_json,
    sse_done_exactly_once_and_last,
    sse_nothing_after_done_but_comments,
    sse_identity_consistent,
    sse_finish_reason_only_at_end,
    sse_choices_each_finish,
]
TEXTS = {"chat": "Ottawa.", "completions": " Ottawa"}
KINDS = {
    "chat": (chat_chunks, "chat_completion_chunk"),
    "completions": (completion_chunks, "completion_chunk"),
}


@pytest.mark.parametrize("split", [sse, byte_at_a_time], ids=["whole", "bytewise"])
@pytest.mark.parametrize("endpoint", sorted(KINDS))
def test_a_crlf_stream_with_keepalives_and_fingerprints_passes_every_stream_check(
    endpoint: str, split: Callable[[bytes], SSEStream]
) -> None:
    make, schema = KINDS[endpoint]
    stream = split(gateway_framing(make(True)))
    assert set(stream.tail.line_endings) == {"CRLF"}
    for check in FRAMING:
        passes(check, stream)
    passes(sse_chunks_validate, stream, schema)
    passes(sse_choices_count_is, stream, 1)
    passes(sse_usage_chunk_present_and_last, stream)
    passes(sse_usage_null_on_other_chunks, stream)
    passes(sse_usage_adds_up, stream)
    passes(sse_text_avoids_stop, stream, "Toronto")
    if endpoint == "chat":
        passes(sse_first_delta_has_assistant_role, stream)
    [choice] = stream_answer(stream)["choices"]
    assert choice["text"] == TEXTS[endpoint]
    assert choice["finish_reason"] == "stop"


@pytest.mark.parametrize("endpoint", sorted(KINDS))
def test_usage_null_on_every_chunk_of_a_stream_without_include_usage_passes(
    endpoint: str,
) -> None:
    make, schema = KINDS[endpoint]
    stream = sse(gateway_framing(make(False)))
    passes(sse_no_unasked_usage_chunk, stream)
    passes(sse_chunks_validate, stream, schema)


def test_the_same_crlf_stream_with_an_unasked_usage_chunk_fails() -> None:
    fails(sse_no_unasked_usage_chunk, sse(gateway_framing(chat_chunks(True))))
