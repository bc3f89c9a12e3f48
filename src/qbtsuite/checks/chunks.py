"""What the chunks of a completion or chat stream say: identity, finish, usage, timing.

The chunks are the JSON objects of the events before ``[DONE]`` (events that are not
JSON objects are skipped here; :func:`~qbtsuite.checks.stream.sse_data_is_single_line_json`
reports them). Chat chunks carry ``choices[].delta.content``, completion chunks
``choices[].text``; :func:`chunk_content` reads either. Chunks holding an ``error``
object are mid-stream errors (SSE-015), not content.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from qbtsuite.checks._format import describe_value, failure
from qbtsuite.checks._registry import check
from qbtsuite.checks.envelope import error_body_conforms
from qbtsuite.checks.payload import conforms_to_schema, usage_adds_up
from qbtsuite.checks.stream import describe_event
from qbtsuite.checks.text import (
    completion_tokens_cover_output,
    completion_tokens_within_max,
)
from qbtsuite.sse import SSEEvent, SSEStream

__all__ = [
    "Chunk",
    "chunk_content",
    "json_chunks",
    "sse_choices_count_is",
    "sse_choices_each_finish",
    "sse_chunks_validate",
    "sse_completion_tokens_cover_output",
    "sse_completion_tokens_within_max",
    "sse_errors_use_envelope",
    "sse_finish_reason_only_at_end",
    "sse_first_delta_has_assistant_role",
    "sse_identity_consistent",
    "sse_text_avoids_stop",
    "sse_usage_adds_up",
    "sse_usage_chunk_present_and_last",
    "sse_usage_null_on_other_chunks",
    "stream_text",
    "stream_usage",
]

IDENTITY_FIELDS = ("id", "object", "model", "created")


@dataclass(frozen=True, slots=True)
class Chunk:
    """One decoded chunk and the event that carried it."""

    event: SSEEvent
    body: dict[str, Any]

    @property
    def where(self) -> str:
        return describe_event(self.event)

    @property
    def is_error(self) -> bool:
        return "error" in self.body

    def choices(self) -> list[Mapping[str, Any]]:
        choices = self.body.get("choices")
        if not isinstance(choices, list):
            return []
        return [c for c in choices if isinstance(c, Mapping)]


def json_chunks(stream: SSEStream) -> list[Chunk]:
    """The JSON-object events before ``[DONE]``, in order."""
    chunks = []
    for event in stream.events:
        if event.is_done or event.after_terminator:
            continue
        try:
            body = json.loads(event.data)
        except (ValueError, RecursionError):
            continue
        if isinstance(body, dict):
            chunks.append(Chunk(event, body))
    return chunks


def _content_chunks(stream: SSEStream) -> list[Chunk]:
    return [c for c in json_chunks(stream) if not c.is_error]


def chunk_content(choice: Mapping[str, Any]) -> str | None:
    """``delta.content`` of a chat choice, ``text`` of a completion choice."""
    delta = choice.get("delta")
    if isinstance(delta, Mapping):
        content = delta.get("content")
        return content if isinstance(content, str) else None
    text = choice.get("text")
    return text if isinstance(text, str) else None


def stream_text(stream: SSEStream) -> dict[int, str]:
    """The text of each choice index, reassembled from the chunks."""
    texts: dict[int, str] = {}
    for chunk in _content_chunks(stream):
        for choice in chunk.choices():
            index = choice.get("index")
            if isinstance(index, int):
                texts[index] = texts.get(index, "") + (chunk_content(choice) or "")
    return texts


def stream_usage(stream: SSEStream) -> Mapping[str, Any] | None:
    """The last non-null ``usage`` object of the stream, if any."""
    found = None
    for chunk in _content_chunks(stream):
        if isinstance(chunk.body.get("usage"), Mapping):
            found = chunk.body["usage"]
    return found


@check
def sse_chunks_validate(stream: SSEStream, schema_name: str) -> None:
    """Every chunk (mid-stream errors aside) is valid against ``schema_name`` (SSE-004/005)."""
    chunks = _content_chunks(stream)
    if not chunks:
        raise failure(
            f"No chunks to match schema {schema_name}",
            f"{len(stream.events)} event(s), none a JSON chunk",
            "at least one chunk",
        )
    for chunk in chunks:
        conforms_to_schema(chunk.body, schema_name, where=chunk.where)


@check
def sse_identity_consistent(stream: SSEStream) -> None:
    """id, object, model and created are the same on every chunk (SSE-006)."""
    chunks = _content_chunks(stream)
    if not chunks:
        return
    first = chunks[0]
    for chunk in chunks[1:]:
        for name in IDENTITY_FIELDS:
            if chunk.body.get(name) != first.body.get(name):
                raise failure(
                    f"Chunks disagree on {name}",
                    f"{first.where}: {name} {describe_value(first.body.get(name))}; "
                    f"{chunk.where}: {describe_value(chunk.body.get(name))}",
                    f"one {name} for the whole stream",
                )


def _by_choice(
    chunks: Sequence[Chunk],
) -> dict[int, list[tuple[Chunk, Mapping[str, Any]]]]:
    seen: dict[int, list[tuple[Chunk, Mapping[str, Any]]]] = {}
    for chunk in chunks:
        for choice in chunk.choices():
            index = choice.get("index")
            if isinstance(index, int):
                seen.setdefault(index, []).append((chunk, choice))
    return seen


@check
def sse_finish_reason_only_at_end(stream: SSEStream) -> None:
    """Per choice: finish_reason null until its last chunk, which carries one (SSE-007)."""
    expected = (
        "finish_reason null on every chunk of a choice except its last, "
        "which has a non-null finish_reason"
    )
    for index, entries in sorted(_by_choice(_content_chunks(stream)).items()):
        *before, (last, last_choice) = entries
        for chunk, choice in before:
            if choice.get("finish_reason") is not None:
                raise failure(
                    "finish_reason before the end",
                    f"{chunk.where}: choice {index} finish_reason "
                    f"{describe_value(choice['finish_reason'])}, but choice {index} "
                    f"continues until {last.where}",
                    expected,
                )
        if last_choice.get("finish_reason") is None:
            raise failure(
                "Choice never finishes",
                f"choice {index}: last chunk {last.where} has finish_reason null",
                expected,
            )


@check
def sse_choices_count_is(stream: SSEStream, n: int) -> None:
    """Chunks appear for exactly the choice indexes 0..n-1 (SSE-013; COMP-012 streamed)."""
    indexes = sorted(_by_choice(_content_chunks(stream)))
    if indexes != list(range(n)):
        raise failure(
            "Wrong choices in the stream",
            f"choice indexes {indexes}",
            f"choice indexes {list(range(n))}",
        )


@check
def sse_choices_each_finish(stream: SSEStream) -> None:
    """Every choice's last chunk carries a non-null finish_reason (SSE-013).

    Unlike :func:`sse_finish_reason_only_at_end`, an early finish_reason is not
    judged here: this is about each choice of an ``n`` > 1 stream being closed.
    """
    by_choice = _by_choice(_content_chunks(stream))
    open_choices = [
        f"choice {index} (last chunk {entries[-1][0].where})"
        for index, entries in sorted(by_choice.items())
        if entries[-1][1].get("finish_reason") is None
    ]
    if not by_choice or open_choices:
        raise failure(
            "Choice never finishes",
            ", ".join(open_choices) or "no chunk with choices",
            "each choice index ends with its own non-null finish_reason",
        )


@check
def sse_first_delta_has_assistant_role(stream: SSEStream) -> None:
    """The first chat chunk of each choice has ``delta.role`` "assistant" (SSE-008)."""
    by_choice = _by_choice(_content_chunks(stream))
    if not by_choice:
        raise failure("No choices in the stream", "no chunk with choices", "chunks")
    for index, entries in sorted(by_choice.items()):
        chunk, choice = entries[0]
        delta = choice.get("delta")
        role = delta.get("role") if isinstance(delta, Mapping) else None
        if role != "assistant":
            raise failure(
                "First delta lacks the assistant role",
                f"{chunk.where}: choice {index} delta {describe_value(delta)}",
                'the first delta of each choice with "role": "assistant"',
            )


@check
def sse_usage_chunk_present_and_last(stream: SSEStream) -> None:
    """With include_usage: one chunk has usage and ``choices: []``, the last one (SSE-011).

    Other chunks may omit ``usage`` or set it to null here; SSE-012 asks for null,
    see :func:`sse_usage_null_on_other_chunks`.
    """
    expected = (
        'exactly one chunk with "choices": [] and a usage object, right before [DONE]'
    )
    chunks = _content_chunks(stream)
    with_usage = [c for c in chunks if c.body.get("usage") is not None]
    if len(with_usage) != 1:
        where = ", ".join(c.where for c in with_usage[:3]) or "none"
        raise failure(
            "No single usage chunk",
            f"{len(with_usage)} chunk(s) with usage ({where})",
            expected,
        )
    chunk = with_usage[0]
    if chunk is not chunks[-1] or chunk.body.get("choices") != []:
        raise failure(
            "Usage chunk misplaced or misshapen",
            f"{chunk.where} (chunk {chunks.index(chunk) + 1} of {len(chunks)}) with "
            f"choices {describe_value(chunk.body.get('choices'), 80)}",
            expected,
        )
    if not isinstance(chunk.body["usage"], Mapping):
        raise failure(
            "Usage chunk misshapen",
            f"{chunk.where}: usage {describe_value(chunk.body['usage'])}",
            expected,
        )


@check
def sse_usage_null_on_other_chunks(stream: SSEStream) -> None:
    """With include_usage, every chunk but the usage chunk says ``"usage": null`` (SSE-012)."""
    for chunk in _content_chunks(stream)[:-1]:
        if "usage" not in chunk.body or chunk.body["usage"] is not None:
            shown = (
                "no usage key"
                if "usage" not in chunk.body
                else f"usage {describe_value(chunk.body['usage'], 80)}"
            )
            raise failure(
                "Chunk without usage: null",
                f"{chunk.where}: {shown}",
                '"usage": null on every chunk before the usage chunk',
            )


def _usage_body(stream: SSEStream) -> dict[str, Any]:
    usage = stream_usage(stream)
    if usage is None:
        raise failure("Usage missing", "no chunk with a usage object", "a usage chunk")
    return {
        "usage": usage,
        "choices": [{} for _ in _by_choice(_content_chunks(stream))],
    }


@check
def sse_usage_adds_up(stream: SSEStream) -> None:
    """The stream's usage chunk adds up (METER-005)."""
    usage_adds_up(_usage_body(stream))


@check
def sse_completion_tokens_within_max(
    stream: SSEStream, max_tokens: int, n: int | None = None
) -> None:
    """The stream's usage.completion_tokens ≤ max_tokens × n (METER-005)."""
    completion_tokens_within_max(_usage_body(stream), max_tokens, n)


@check
def sse_completion_tokens_cover_output(stream: SSEStream) -> None:
    """The stream's usage.completion_tokens ≥ 1 whenever content was streamed (METER-005)."""
    body = _usage_body(stream)
    texts = stream_text(stream)
    body["choices"] = [{"text": texts[i]} for i in sorted(texts)]
    completion_tokens_cover_output(body)


@check
def sse_text_avoids_stop(stream: SSEStream, stop: str | Sequence[str]) -> None:
    """No reassembled choice text contains a stop sequence (COMP-011, CHAT-011)."""
    stops = [stop] if isinstance(stop, str) else [s for s in stop if s]
    for index, text in sorted(stream_text(stream).items()):
        for sequence in stops:
            if sequence in text:
                raise failure(
                    "Streamed text runs past a stop sequence",
                    f"choice {index}: {describe_value(text)} contains {sequence!r}",
                    f"no text containing any of {describe_value(stops)}",
                )


@check
def sse_errors_use_envelope(stream: SSEStream) -> None:
    """A mid-stream error is one data event with the error envelope (SSE-015)."""
    for chunk in json_chunks(stream):
        if chunk.is_error:
            error_body_conforms(chunk.body, where=f"{chunk.where}:")
