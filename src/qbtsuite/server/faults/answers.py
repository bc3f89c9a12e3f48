"""Faults in what an answer says, streamed or whole: finish reasons, choices, extra chunks.

Gateways translate their upstream's stop reasons and re-frame its streams; these are
the translation bugs seen in the wild: a stream's "length" reported as "stop", a stop
sequence reported as "length", one choice of an ``n`` > 1 stream left open, and a
usage chunk the client never asked for (the gateway asks its upstream for usage, for
its own metering, and forwards the chunk).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Scope

from qbtsuite.server.faults import Fault, fault
from qbtsuite.server.faults._asgi import (
    json_rewrite,
    rewrite_request_json,
    rewrite_response,
)
from qbtsuite.server.parts import Parts
from qbtsuite.server.sseframes import SSEFramer

__all__: list[str] = []

_TEXT_PATHS = ("/v1/completions", "/v1/chat/completions")
_WHOLE_OBJECTS = ("text_completion", "chat.completion")


class _FinishEditingFramer(SSEFramer):
    """A framer that rewrites each streamed choice's finish_reason."""

    def finish(self, choice: dict[str, Any]) -> Any:
        return choice.get("finish_reason")

    def event(self, payload: bytes) -> bytes:
        chunk = json.loads(payload)
        choices = chunk.get("choices") if isinstance(chunk, dict) else None
        if not choices:
            return super().event(payload)
        for choice in choices:
            choice["finish_reason"] = self.finish(choice)
        return super().event(json.dumps(chunk).encode())


@fault(
    "streaming.finish_stop_when_cut",
    area="streaming",
    breaks=("COMP-010", "CHAT-009"),
    description="Streams cut by max_tokens end with finish_reason 'stop', not 'length'",
)
class FinishStopWhenCut(Fault):
    class Framer(_FinishEditingFramer):
        def finish(self, choice: dict[str, Any]) -> Any:
            reason = choice.get("finish_reason")
            return "stop" if reason == "length" else reason

    def apply(self, parts: Parts) -> None:
        parts.framer = self.Framer()


@fault(
    "streaming.finish_length_on_stop",
    area="streaming",
    breaks=("COMP-014", "CHAT-014"),
    description="Streams ended by a stop sequence (or naturally) say finish_reason 'length'",
)
class StreamFinishLengthOnStop(Fault):
    class Framer(_FinishEditingFramer):
        def finish(self, choice: dict[str, Any]) -> Any:
            reason = choice.get("finish_reason")
            return "length" if reason == "stop" else reason

    def apply(self, parts: Parts) -> None:
        parts.framer = self.Framer()


@fault(
    "streaming.n_choice_unfinished",
    area="streaming",
    breaks=("SSE-007", "SSE-013"),
    description="In a stream with n > 1, every choice but the first ends with finish_reason null",
)
class NChoiceUnfinished(Fault):
    class Framer(_FinishEditingFramer):
        def finish(self, choice: dict[str, Any]) -> Any:
            return None if choice.get("index") != 0 else choice.get("finish_reason")

    def apply(self, parts: Parts) -> None:
        parts.framer = self.Framer()


@fault(
    "streaming.unasked_usage_chunk",
    area="streaming",
    breaks=("SSE-016",),
    description="Every stream gets the include_usage chunk (choices: []), asked for or not",
)
class UnaskedUsageChunk(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        def ask_for_usage(scope: Scope, body: Any) -> Any:
            if isinstance(body, dict) and body.get("stream") is True:
                options = body.get("stream_options")
                options = dict(options) if isinstance(options, dict) else {}
                options["include_usage"] = True
                body["stream_options"] = options
            return body

        return rewrite_request_json(app, ask_for_usage, paths=_TEXT_PATHS)


@fault(
    "completions.finish_length_on_stop",
    area="completions",
    breaks=("COMP-014", "CHAT-014"),
    description="Whole completions and chat replies ended by a stop sequence (or naturally) "
    "say finish_reason 'length'",
)
class FinishLengthOnStop(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        def relabel(scope: Scope, body: Any) -> Any:
            if isinstance(body, dict) and body.get("object") in _WHOLE_OBJECTS:
                for choice in body.get("choices", []):
                    if choice.get("finish_reason") == "stop":
                        choice["finish_reason"] = "length"
            return body

        return rewrite_response(app, json_rewrite(relabel, only_status=200))
