"""Timing of one streamed completion, from the bytes as they arrive.

Definitions (load/README.md, 'What is measured'), all from the instant the request was
sent:

- **TTFT**: until the first event whose choice carries non-empty content
  (``delta.content`` for chat, ``text`` for completions); a role-only delta does not
  count.
- **ITL**: every gap between consecutive content events of the stream; the report
  pools the gaps of all requests (vLLM's meaning, not a per-request average).
- **e2e**: until the stream ends (the ``[DONE]`` event, or the connection closing).
- **TPOT**: ``(e2e − TTFT) / (tokens − 1)`` per request, when ``tokens > 1``.
- **tokens**: ``usage.completion_tokens`` of the final usage event (the request asks
  for ``stream_options.include_usage``); the count of content events is kept as a
  cross-check, and a difference is a *mismatch*.

Events are cut by the suite's strict parser (:mod:`qbtsuite.sse`); the timestamp of an
event is when the line that dispatched it arrived. No I/O here: the caller feeds bytes
with its own ``time.perf_counter()`` readings.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import orjson

from qbtsuite.sse import SSEEvent, SSEParser

__all__ = ["StreamObserver", "StreamResult"]


@dataclass(frozen=True, slots=True)
class StreamResult:
    """What one stream measured. Times are seconds; None where undefined."""

    e2e: float
    ttft: float | None
    itl: tuple[float, ...]
    tpot: float | None
    chunks: int  # content events counted by the client
    usage_tokens: int | None  # from the usage event, if any
    problem: str | None  # why the stream is not a valid completion (None: it is)

    @property
    def tokens(self) -> int:
        """Output tokens: the server's usage when given, else the client's count."""
        return self.usage_tokens if self.usage_tokens is not None else self.chunks

    @property
    def mismatch(self) -> bool:
        """The server's usage and the client's count of content events differ."""
        return self.usage_tokens is not None and self.usage_tokens != self.chunks


@dataclass(slots=True)
class StreamObserver:
    """Feed the body of one SSE response; :meth:`finish` gives the figures."""

    kind: str  # "chat" or "completions"
    sent: float  # perf_counter() when the request was sent
    content_times: list[float] = field(default_factory=list)
    usage_tokens: int | None = None
    problem: str | None = None
    done: bool = False
    _parser: SSEParser = field(default_factory=SSEParser)

    def feed(self, data: bytes, at: float) -> None:
        """Parse ``data`` received at ``at`` (perf_counter seconds)."""
        for event in self._parser.feed(data, at):
            self._event(event, at)

    def _event(self, event: SSEEvent, at: float) -> None:
        if self.done:
            self._flag("data after [DONE]")
            return
        if event.is_done:
            self.done = True
            return
        try:
            chunk = orjson.loads(event.data)
        except orjson.JSONDecodeError:
            self._flag(f"event {event.index} is not JSON")
            return
        if not isinstance(chunk, dict):
            self._flag(f"event {event.index} is not a JSON object")
            return
        if "error" in chunk:
            error = chunk["error"]
            code = error.get("code") if isinstance(error, dict) else None
            self._flag(f"error event in the stream ({code or 'no code'})")
            return
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            tokens = usage.get("completion_tokens")
            if isinstance(tokens, int) and not isinstance(tokens, bool):
                self.usage_tokens = tokens
        if _has_content(chunk, self.kind):
            stamp = event.received_at if event.received_at is not None else at
            self.content_times.append(stamp)

    def _flag(self, problem: str) -> None:
        if self.problem is None:
            self.problem = problem

    def finish(self, at: float) -> StreamResult:
        """The stream ended at ``at``: compute the figures."""
        tail = self._parser.close()
        if not self.done:
            self._flag("stream ended without [DONE]")
        elif tail.incomplete is not None or tail.unterminated_line:
            self._flag("bytes after the last event")
        times = self.content_times
        ttft = times[0] - self.sent if times else None
        e2e = at - self.sent
        gaps = tuple(b - a for a, b in itertools.pairwise(times))
        chunks = len(times)
        tokens = self.usage_tokens if self.usage_tokens is not None else chunks
        tpot = (e2e - ttft) / (tokens - 1) if ttft is not None and tokens > 1 else None
        return StreamResult(
            e2e=e2e,
            ttft=ttft,
            itl=gaps,
            tpot=tpot,
            chunks=chunks,
            usage_tokens=self.usage_tokens,
            problem=self.problem,
        )


def _has_content(chunk: dict[str, Any], kind: str) -> bool:
    choices = chunk.get("choices")
    if not isinstance(choices, list):
        return False
    for choice in choices:
        if not isinstance(choice, dict):
            continue
        if kind == "chat":
            delta = choice.get("delta")
            text = delta.get("content") if isinstance(delta, dict) else None
        else:
            text = choice.get("text")
        if isinstance(text, str) and text:
            return True
    return False
