"""SSE faults: the framing, the terminator and the timing of streams."""

from __future__ import annotations

import itertools
import json
from typing import Any

from starlette.types import ASGIApp, Scope

from qbtsuite.server.faults import Fault, fault
from qbtsuite.server.faults._asgi import buffer_whole_response, rewrite_request_json
from qbtsuite.server.parts import Parts
from qbtsuite.server.sseframes import SSEFramer

__all__: list[str] = []


class _ChunkEditingFramer(SSEFramer):
    """A framer that edits each chunk's JSON before framing it."""

    def edit(self, chunk: dict[str, Any]) -> dict[str, Any]:
        return chunk

    def event(self, payload: bytes) -> bytes:
        return super().event(json.dumps(self.edit(json.loads(payload))).encode())


@fault(
    "streaming.no_done",
    area="streaming",
    breaks=("SSE-009",),
    description="Streams end without the data: [DONE] terminator",
)
class NoDone(Fault):
    class Framer(SSEFramer):
        def done(self) -> bytes:
            return b""

    def apply(self, parts: Parts) -> None:
        parts.framer = self.Framer()


@fault(
    "streaming.double_done",
    area="streaming",
    breaks=("SSE-009", "SSE-010"),
    description="Streams end with data: [DONE] twice",
)
class DoubleDone(Fault):
    class Framer(SSEFramer):
        def done(self) -> bytes:
            return super().done() * 2

    def apply(self, parts: Parts) -> None:
        parts.framer = self.Framer()


@fault(
    "streaming.split_data_lines",
    area="streaming",
    breaks=("SSE-003",),
    description="Each chunk's JSON is split across two data: lines of one event",
)
class SplitDataLines(Fault):
    class Framer(SSEFramer):
        def event(self, payload: bytes) -> bytes:
            cut = (
                payload.index(b',"') + 1
            )  # between two members: still JSON once joined
            return b"data: " + payload[:cut] + b"\ndata: " + payload[cut:] + b"\n\n"

    def apply(self, parts: Parts) -> None:
        parts.framer = self.Framer()


@fault(
    "streaming.buffered",
    area="streaming",
    breaks=("SSE-014",),
    description="A buffering proxy holds the whole stream and delivers it at once",
)
class Buffered(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        return buffer_whole_response(app)


@fault(
    "streaming.wrong_content_type",
    area="streaming",
    breaks=("SSE-001",),
    description="Streams are sent as application/json instead of text/event-stream",
)
class WrongContentType(Fault):
    class Framer(SSEFramer):
        media_type = "application/json"

    def apply(self, parts: Parts) -> None:
        parts.framer = self.Framer()


@fault(
    "streaming.include_usage_ignored",
    area="streaming",
    breaks=("SSE-011", "CLIENT-004"),
    description="stream_options is not forwarded: no final usage chunk",
)
class IncludeUsageIgnored(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        def drop(scope: Scope, body: Any) -> Any:
            if isinstance(body, dict):
                body.pop("stream_options", None)
            return body

        paths = ("/v1/completions", "/v1/chat/completions")
        return rewrite_request_json(app, drop, paths=paths)


@fault(
    "streaming.id_changes",
    area="streaming",
    breaks=("SSE-006",),
    description="Each chunk of one stream carries a different id",
)
class IdChanges(Fault):
    class Framer(_ChunkEditingFramer):
        def __init__(self) -> None:
            self._count = itertools.count()

        def edit(self, chunk: dict[str, Any]) -> dict[str, Any]:
            if "id" in chunk:  # a mid-stream error event has none (SSE-015)
                chunk["id"] = f"{chunk['id']}-{next(self._count)}"
            return chunk

    def apply(self, parts: Parts) -> None:
        parts.framer = self.Framer()


@fault(
    "streaming.finish_reason_early",
    area="streaming",
    breaks=("SSE-007",),
    description="Every streamed chunk already says finish_reason 'stop'",
)
class FinishReasonEarly(Fault):
    class Framer(_ChunkEditingFramer):
        def edit(self, chunk: dict[str, Any]) -> dict[str, Any]:
            for choice in chunk.get("choices", []):
                choice["finish_reason"] = choice["finish_reason"] or "stop"
            return chunk

    def apply(self, parts: Parts) -> None:
        parts.framer = self.Framer()


@fault(
    "streaming.ping_events",
    area="streaming",
    breaks=("SSE-002", "CLIENT-004"),
    description="An 'event: ping' block without data precedes every chunk",
)
class PingEvents(Fault):
    class Framer(SSEFramer):
        def event(self, payload: bytes) -> bytes:
            return b"event: ping\n\n" + super().event(payload)

    def apply(self, parts: Parts) -> None:
        parts.framer = self.Framer()


@fault(
    "streaming.bare_error_event",
    area="streaming",
    breaks=("SSE-015",),
    description='A mid-stream error is sent as {"error": "<message>"}, not the envelope',
)
class BareErrorEvent(Fault):
    class Framer(_ChunkEditingFramer):
        def edit(self, chunk: dict[str, Any]) -> dict[str, Any]:
            error = chunk.get("error")
            if isinstance(error, dict):
                return {"error": error.get("message", "")}
            return chunk

    def apply(self, parts: Parts) -> None:
        parts.framer = self.Framer()
