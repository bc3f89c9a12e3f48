"""Metering faults: usage that does not add up, balances not enforced."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Scope

from qbtsuite.server.faults import Fault, fault
from qbtsuite.server.faults._asgi import json_rewrite, rewrite_response
from qbtsuite.server.parts import Parts
from qbtsuite.server.sseframes import SSEFramer

__all__: list[str] = []


@fault(
    "metering.total_not_sum",
    area="metering",
    breaks=("METER-001", "METER-003", "METER-005"),
    description="usage.total_tokens is one more than prompt + completion tokens",
)
class TotalNotSum(Fault):
    def apply(self, parts: Parts) -> None:
        def usage(prompt: int, completion: int) -> dict[str, int]:
            total = prompt + completion + 1
            return {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": total,
            }

        parts.usage = usage


@fault(
    "metering.usage_missing",
    area="metering",
    breaks=("METER-001", "METER-003"),
    description="Non-streamed completions and chat replies have no usage object",
)
class UsageMissing(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        def drop(scope: Scope, body: Any) -> Any:
            if scope["path"] in ("/v1/completions", "/v1/chat/completions"):
                body.pop("usage", None)
            return body

        return rewrite_response(app, json_rewrite(drop, only_status=200))


@fault(
    "metering.embedding_batch_undercounted",
    area="metering",
    breaks=("METER-007",),
    description="A batch's prompt_tokens counts one token less per input after the first",
)
class EmbeddingBatchUndercounted(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        def undercount(scope: Scope, body: Any) -> Any:
            data, usage = body.get("data"), body.get("usage")
            if (
                scope["path"] == "/v1/embeddings"
                and isinstance(data, list)
                and len(data) > 1
                and isinstance(usage, dict)
                and isinstance(usage.get("prompt_tokens"), int)
            ):
                # One special token per request instead of one per input.
                tokens = max(1, usage["prompt_tokens"] - (len(data) - 1))
                usage["prompt_tokens"] = usage["total_tokens"] = tokens
            return body

        return rewrite_response(app, json_rewrite(undercount, only_status=200))


@fault(
    "metering.stream_usage_overcounts",
    area="metering",
    breaks=("METER-005",),
    description="The include_usage chunk bills two more completion tokens than were streamed",
)
class StreamUsageOvercounts(Fault):
    class Framer(SSEFramer):
        def event(self, payload: bytes) -> bytes:
            chunk = json.loads(payload)
            usage = chunk.get("usage")
            if isinstance(usage, dict):
                usage["completion_tokens"] += 2
                usage["total_tokens"] += 2
                payload = json.dumps(chunk).encode()
            return super().event(payload)

    def apply(self, parts: Parts) -> None:
        parts.framer = self.Framer()


@fault(
    "metering.embedding_output_tokens",
    area="metering",
    breaks=("METER-006",),
    description="Embeddings bill output tokens: total_tokens exceeds prompt_tokens",
)
class EmbeddingOutputTokens(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        def bill(scope: Scope, body: Any) -> Any:
            if scope["path"] == "/v1/embeddings" and isinstance(
                body.get("usage"), dict
            ):
                body["usage"]["total_tokens"] += len(body.get("data", []))
            return body

        return rewrite_response(app, json_rewrite(bill, only_status=200))


@fault(
    "metering.zero_balance_served",
    area="metering",
    breaks=("AUTH-011",),
    description="Keys with no credit left are served anyway (no 402)",
)
class ZeroBalanceServed(Fault):
    def apply(self, parts: Parts) -> None:
        for account in parts.keys.accounts():
            account.balance = max(account.balance, 1e12)
