"""SSE framing of completion and chat streams, judged on :mod:`qbtsuite.sse`'s strict parse.

OpenAI streams are data-only events of one-line JSON, terminated by exactly one
``data: [DONE]`` (protocol-facts §5.1); comments (``:`` lines) are the only allowed
keep-alive, because ``event:``/``id:``/``retry:``-only blocks break the official SDKs
(protocol-facts §3.3). Checks take the whole :class:`~qbtsuite.sse.SSEStream` so they
see undispatched blocks and the bytes after ``[DONE]`` as well as the events.
"""

from __future__ import annotations

import json
import re

from qbtsuite.checks._format import (
    ResponseLike,
    describe_response,
    failure,
    redact_text,
    truncate,
)
from qbtsuite.checks._registry import check
from qbtsuite.sse import DONE, SSEEvent, SSEStream

__all__ = [
    "describe_event",
    "sse_content_type_is_event_stream",
    "sse_data_is_single_line_json",
    "sse_done_exactly_once_and_last",
    "sse_events_are_data_only",
    "sse_is_valid_utf8",
    "sse_nothing_after_done_but_comments",
]

_NON_EMPTY_LINE = re.compile(rb"[^\r\n]+")


def describe_event(event: SSEEvent) -> str:
    """``event #3 at byte 812``: where an event or block is, for messages."""
    if event.index >= 0:
        return f"event #{event.index + 1} at byte {event.offset}"
    return f"block at byte {event.offset}"


def _quote(text: str, limit: int = 120) -> str:
    return redact_text(truncate(repr(text), limit))


@check
def sse_content_type_is_event_stream(response: ResponseLike) -> None:
    """A stream answers 200 with ``text/event-stream`` (charset allowed) (SSE-001)."""
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if response.status_code != 200 or kind != "text/event-stream":
        raise failure(
            "Stream is not an event stream",
            describe_response(response),
            "200 with Content-Type text/event-stream",
        )


@check
def sse_is_valid_utf8(stream: SSEStream) -> None:
    """Every line of the stream is valid UTF-8 (WHATWG: streams are always UTF-8)."""
    bad = stream.tail.invalid_utf8
    if bad:
        raise failure(
            "Stream is not valid UTF-8",
            f"{len(bad)} line(s), first at byte {bad[0].offset}: "
            f"{redact_text(truncate(repr(bad[0].raw), 120))}",
            "UTF-8 throughout",
        )


@check
def sse_events_are_data_only(stream: SSEStream) -> None:
    """No ``event:``, ``id:``, ``retry:`` or other field; keep-alives are comments (SSE-002)."""
    blocks = list(stream.blocks)
    if stream.tail.incomplete is not None:
        blocks.append(stream.tail.incomplete)
    for block in blocks:
        for line in block.lines:
            if line.is_comment:
                continue
            name = line.text.partition(":")[0]
            if name != "data":
                kind = "" if block.dispatched else " (a block without data)"
                raise failure(
                    "Stream uses fields other than data",
                    f"{describe_event(block)}{kind}: line {_quote(line.text)}",
                    "data: lines only; keep-alives as ':' comment lines",
                )


@check
def sse_data_is_single_line_json(stream: SSEStream) -> None:
    """Every event but ``[DONE]`` is one ``data:`` line holding a JSON object (SSE-003)."""
    expected = "one data: line per event holding a JSON object"
    for event in stream.events:
        if event.is_done or event.after_terminator:
            continue
        if len(event.data_lines) != 1:
            raise failure(
                "Event data spans several lines",
                f"{describe_event(event)}: {len(event.data_lines)} data: lines "
                f"{_quote(event.data)}",
                expected,
            )
        try:
            value = json.loads(event.data)
        except (ValueError, RecursionError) as exc:
            raise failure(
                "Event data is not JSON",
                f"{describe_event(event)}: {_quote(event.data)} ({exc})",
                expected,
            ) from None
        if not isinstance(value, dict):
            raise failure(
                "Event data is not a JSON object",
                f"{describe_event(event)}: {_quote(event.data)}",
                expected,
            )


def _missing_done(stream: SSEStream) -> str:
    """Why no ``[DONE]`` was seen: a near miss, a cut-off, or nothing at all."""
    for event in stream.events:
        if event.data.strip().upper() in (DONE, "DONE"):
            return (
                f"{describe_event(event)} is {_quote(event.data)}, not exactly [DONE]"
            )
    tail = stream.tail
    if tail.incomplete is not None and DONE in tail.incomplete.data_lines:
        return "data: [DONE] at the end without the blank line that dispatches it"
    if tail.unterminated_line.startswith(b"data:"):
        return f"the stream ends mid-line: {_quote(tail.unterminated_line.decode('utf-8', 'replace'))}"
    last = stream.events[-1] if stream.events else None
    after = f", the last {_quote(last.data, 80)}" if last is not None else ""
    return f"the stream ends after {len(stream.events)} event(s) without [DONE]{after}"


@check
def sse_done_exactly_once_and_last(stream: SSEStream) -> None:
    """Exactly one ``data: [DONE]`` event, and no event after it (SSE-009)."""
    expected = "exactly one 'data: [DONE]' event, the last one"
    done = [e for e in stream.events if e.is_done]
    if not done:
        raise failure(
            "Stream not terminated by [DONE]", _missing_done(stream), expected
        )
    if len(done) > 1:
        raise failure(
            "Stream terminated more than once",
            f"{len(done)} [DONE] events: "
            + ", ".join(describe_event(e) for e in done[:3]),
            expected,
        )
    later = [e for e in stream.events if e.index > done[0].index]
    if later:
        raise failure(
            "Events after [DONE]",
            f"{describe_event(later[0])}: {_quote(later[0].data)}",
            expected,
        )


@check
def sse_nothing_after_done_but_comments(stream: SSEStream) -> None:
    """After ``[DONE]`` only comment and blank lines may follow (SSE-010).

    Vacuous when there is no ``[DONE]``: :func:`sse_done_exactly_once_and_last` says so.
    """
    tail = stream.tail
    if not tail.terminated:
        return
    for match in _NON_EMPTY_LINE.finditer(tail.after_terminator):
        line = match.group(0)
        if not line.startswith(b":"):
            text = line.decode("utf-8", errors="replace")
            raise failure(
                "Content after [DONE]",
                f"{tail.after_terminator_size} byte(s) follow [DONE]; "
                f"line at +{match.start()}: {_quote(text)}",
                "only ':' comment lines and blank lines after data: [DONE]",
            )
