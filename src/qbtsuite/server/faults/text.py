"""Completion and chat faults: options dropped on the way upstream, shapes bent."""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Scope

from qbtsuite.server.faults import Fault, fault
from qbtsuite.server.faults._asgi import (
    drop_fields,
    json_rewrite,
    rewrite_request_json,
    rewrite_response,
)

__all__: list[str] = []

_TEXT_PATHS = ("/v1/completions", "/v1/chat/completions")


@fault(
    "completions.max_tokens_ignored",
    area="completions",
    breaks=("COMP-010", "METER-002", "METER-005"),
    collateral=("COMP-006", "COMP-013"),  # its validation goes too
    description="max_tokens is not forwarded: replies run to their natural length",
)
class MaxTokensIgnored(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        drop = drop_fields("max_tokens", "max_completion_tokens")
        return rewrite_request_json(app, drop, paths=("/v1/completions",))


@fault(
    "completions.stop_ignored",
    area="completions",
    breaks=("COMP-011",),
    collateral=("COMP-013",),  # its validation goes too
    description="stop sequences are not forwarded: text runs past them",
)
class StopIgnored(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        return rewrite_request_json(
            app, drop_fields("stop"), paths=("/v1/completions",)
        )


@fault(
    "completions.wrong_object",
    area="completions",
    breaks=("COMP-001",),
    description="Completions say object 'completion' instead of 'text_completion'",
)
class CompletionWrongObject(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        def rename(scope: Scope, body: Any) -> Any:
            if (
                scope["path"] == "/v1/completions"
                and body.get("object") == "text_completion"
            ):
                body["object"] = "completion"
            return body

        return rewrite_response(app, json_rewrite(rename, only_status=200))


@fault(
    "completions.prompt_array_first_only",
    area="completions",
    breaks=("COMP-004",),
    description="A prompt array is answered for its first prompt only: one choice",
)
class PromptArrayFirstOnly(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        def first(scope: Scope, body: Any) -> Any:
            prompt = body.get("prompt") if isinstance(body, dict) else None
            if isinstance(prompt, list) and prompt and isinstance(prompt[0], str):
                body["prompt"] = prompt[0]
            return body

        return rewrite_request_json(app, first, paths=("/v1/completions",))


@fault(
    "completions.n_ignored",
    area="completions",
    breaks=("COMP-012",),
    collateral=("COMP-013",),  # its validation goes too
    description="n is not forwarded: completions always return one choice per prompt",
)
class CompletionsNIgnored(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        return rewrite_request_json(app, drop_fields("n"), paths=("/v1/completions",))


@fault(
    "chat.max_completion_tokens_ignored",
    area="chat",
    breaks=("CHAT-010",),
    collateral=("CHAT-013",),  # its validation goes too
    description="max_completion_tokens is not forwarded: replies run to their natural length",
)
class MaxCompletionTokensIgnored(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        return rewrite_request_json(
            app, drop_fields("max_completion_tokens"), paths=("/v1/chat/completions",)
        )


@fault(
    "chat.n_ignored",
    area="chat",
    breaks=("CHAT-012", "SSE-013"),
    collateral=("CHAT-013",),  # its validation goes too
    description="n is not forwarded: chat always returns one choice, streamed or not",
)
class ChatNIgnored(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        return rewrite_request_json(
            app, drop_fields("n"), paths=("/v1/chat/completions",)
        )


@fault(
    "chat.message_without_role",
    area="chat",
    breaks=("CHAT-002",),
    description="Chat replies carry message.content but no message.role",
)
class MessageWithoutRole(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        def strip(scope: Scope, body: Any) -> Any:
            if body.get("object") == "chat.completion":
                for choice in body.get("choices", []):
                    choice.get("message", {}).pop("role", None)
            return body

        return rewrite_response(app, json_rewrite(strip, only_status=200))


@fault(
    "chat.messages_not_validated",
    area="chat",
    breaks=("CHAT-005",),
    description="A chat request without messages is answered instead of rejected",
)
class MessagesNotValidated(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        def fill(scope: Scope, body: Any) -> Any:
            if isinstance(body, dict) and "messages" not in body:
                body["messages"] = [{"role": "user", "content": ""}]
            return body

        return rewrite_request_json(app, fill, paths=("/v1/chat/completions",))


@fault(
    "chat.finish_reason_missing",
    area="chat",
    breaks=("CHAT-002", "CHAT-009", "CHAT-014"),
    description="Non-streamed chat choices have finish_reason null",
)
class FinishReasonMissing(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        def null(scope: Scope, body: Any) -> Any:
            if body.get("object") == "chat.completion":
                for choice in body.get("choices", []):
                    choice["finish_reason"] = None
            return body

        return rewrite_response(app, json_rewrite(null, only_status=200))
