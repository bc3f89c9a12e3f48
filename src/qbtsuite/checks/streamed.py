"""Streamed answers judged like answers: what a stream adds up to, and what it must not add.

A stream stands for the answer that would have been sent whole: each choice index
with its text reassembled from the chunks and the finish_reason of its last chunk,
and the usage chunk if one came. :func:`stream_answer` builds that body, so the
semantic checks of whole answers (:mod:`qbtsuite.checks.text`) judge streams too: a
stream cut by ``max_tokens`` says ``length``, one ended by a stop sequence says
``stop``. A failure says it was found in a stream.

Nothing unasked-for may appear in a stream either: the usage chunk
(``"choices": []``) comes only with ``stream_options.include_usage`` — "An optional
field that will only be present when you set `stream_options: {"include_usage":
true}`" (spec/openai-openapi.yaml, CreateChatCompletionStreamResponse.usage) — and a
client reading ``choices[0]`` of every chunk breaks on one it did not ask for.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from qbtsuite.checks._format import describe_value, failure
from qbtsuite.checks._registry import check
from qbtsuite.checks.chunks import Chunk, chunk_content, json_chunks
from qbtsuite.checks.text import (
    choice_text,
    choices_of,
    truncated_after_one_token,
)
from qbtsuite.errors import CheckFailure
from qbtsuite.sse import SSEStream

__all__ = [
    "finish_reason_stop_at_sequence",
    "sse_finish_reason_stop_at_sequence",
    "sse_no_unasked_usage_chunk",
    "sse_truncated_after_one_token",
    "stopped_at_sequence",
    "stream_answer",
]


def stream_answer(stream: SSEStream) -> dict[str, Any]:
    """The whole answer a stream stands for: ``{"choices": [...], "usage"?: {...}}``.

    Each choice is ``{"index", "text", "finish_reason"}``, in index order: the text of
    all its chunks (``delta.content`` or ``text``) and the finish_reason of its last
    chunk. ``usage`` is the last non-null usage object, when a chunk carried one.
    Mid-stream error chunks are left out.
    """
    texts: dict[int, str] = {}
    finishes: dict[int, Any] = {}
    usage: Mapping[str, Any] | None = None
    for chunk in json_chunks(stream):
        if chunk.is_error:
            continue
        for choice in chunk.choices():
            index = choice.get("index")
            if not isinstance(index, int):
                continue
            texts[index] = texts.get(index, "") + (chunk_content(choice) or "")
            finishes[index] = choice.get("finish_reason")
        if isinstance(chunk.body.get("usage"), Mapping):
            usage = chunk.body["usage"]
    answer: dict[str, Any] = {
        "choices": [
            {"index": i, "text": texts[i], "finish_reason": finishes[i]}
            for i in sorted(texts)
        ]
    }
    if usage is not None:
        answer["usage"] = dict(usage)
    return answer


def _in_stream(judge: Callable[[], None]) -> None:
    """Run a whole-answer check on a stream's answer; say the failure was streamed."""
    try:
        judge()
    except CheckFailure as exc:
        raise failure(
            f"Streamed answer: {exc.title}",
            f"the stream's reassembled answer: {exc.received}",
            exc.expected,
            exc.requirement,
        ) from None


@check
def sse_truncated_after_one_token(stream: SSEStream) -> None:
    """A stream asked for max_tokens=1 ends every choice with "length" after one token
    (COMP-010, CHAT-009), judged on :func:`stream_answer` as a whole answer is."""
    answer = stream_answer(stream)
    _in_stream(lambda: truncated_after_one_token(answer))


def stopped_at_sequence(text: str, unstopped: str, stop: str) -> bool:
    """True when ``text`` is ``unstopped`` cut where ``stop`` begins in it.

    ``unstopped`` is the reply to the same request without ``stop``: a reply equal
    to its prefix up to the stop sequence proves the sequence ended it (trailing
    white space aside, which gateways trim differently). A reply that went another
    way (sampling) proves nothing, and this is False.
    """
    at = unstopped.find(stop) if stop else -1
    return at >= 0 and text.rstrip() == unstopped[:at].rstrip()


@check
def finish_reason_stop_at_sequence(body: Any, unstopped: str, stop: str) -> None:
    """Every choice that ``stop`` ended says finish_reason "stop" (COMP-014, CHAT-014).

    A choice is ended by the stop sequence when :func:`stopped_at_sequence` holds
    for its text; other choices are not judged here (the caller makes sure one is).
    """
    for choice in choices_of(body):
        text = choice_text(choice) or ""
        reason = choice.get("finish_reason")
        if stopped_at_sequence(text, unstopped, stop) and reason != "stop":
            raise failure(
                "Stop sequence not reported as stop",
                f"choice {choice.get('index')}: finish_reason {describe_value(reason)}"
                f" with text {describe_value(text, 120)}, which is the reply without "
                f"stop cut where {stop!r} begins",
                'finish_reason "stop" when a stop sequence ended the choice',
            )


@check
def sse_finish_reason_stop_at_sequence(
    stream: SSEStream, unstopped: str, stop: str
) -> None:
    """A streamed choice that ``stop`` ended says "stop" on its last chunk (COMP-014,
    CHAT-014), judged on :func:`stream_answer` as a whole answer is."""
    answer = stream_answer(stream)
    _in_stream(lambda: finish_reason_stop_at_sequence(answer, unstopped, stop))


def _usage_signs(chunk: Chunk) -> list[str]:
    signs = []
    if chunk.body.get("choices") == []:
        signs.append('"choices": []')
    if chunk.body.get("usage") is not None:
        signs.append(f"usage {describe_value(chunk.body['usage'], 80)}")
    return signs


@check
def sse_no_unasked_usage_chunk(stream: SSEStream) -> None:
    """Without include_usage no chunk has empty choices or a non-null usage (SSE-016).

    Only call it on a stream whose request did not set
    ``stream_options.include_usage``; ``"usage": null`` is allowed.
    """
    for chunk in json_chunks(stream):
        if chunk.is_error:
            continue
        signs = _usage_signs(chunk)
        if signs:
            raise failure(
                "Usage chunk nobody asked for",
                f"{chunk.where}: {', '.join(signs)}, in a stream requested without "
                "stream_options.include_usage",
                'no chunk with "choices": [] or a usage object unless '
                "stream_options.include_usage was set",
            )
