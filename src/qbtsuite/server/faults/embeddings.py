"""Embedding faults: vectors of the wrong length or order, options dropped."""

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

_PATH = ("/v1/embeddings",)


def _on_embeddings(transform: Any) -> Any:
    def apply(scope: Scope, body: Any) -> Any:
        if scope["path"] == _PATH[0] and isinstance(body, dict) and "data" in body:
            return transform(body)
        return body

    return apply


@fault(
    "embeddings.off_by_one_dimension",
    area="embeddings",
    breaks=("EMB-003", "EMB-011", "EMB-012"),
    description="Float vectors lose their last component (1023 instead of 1024 for bge-m3)",
)
class OffByOneDimension(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        def trim(body: dict[str, Any]) -> dict[str, Any]:
            for item in body["data"]:
                if isinstance(item.get("embedding"), list):
                    item["embedding"] = item["embedding"][:-1]
            return body

        return rewrite_response(
            app, json_rewrite(_on_embeddings(trim), only_status=200)
        )


@fault(
    "embeddings.reversed_order",
    area="embeddings",
    breaks=("EMB-002",),
    description="Batch results come back in reverse input order (index values too)",
)
class ReversedOrder(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        def reverse(body: dict[str, Any]) -> dict[str, Any]:
            vectors = [item["embedding"] for item in body["data"]]
            for item, vector in zip(body["data"], reversed(vectors), strict=True):
                item["embedding"] = vector
            return body

        return rewrite_response(
            app, json_rewrite(_on_embeddings(reverse), only_status=200)
        )


@fault(
    "embeddings.base64_ignored",
    area="embeddings",
    breaks=("EMB-011",),
    collateral=("EMB-014",),  # its validation goes too
    description="encoding_format is not forwarded: base64 requests get float arrays",
)
class Base64Ignored(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        return rewrite_request_json(app, drop_fields("encoding_format"), paths=_PATH)


@fault(
    "embeddings.dimensions_ignored",
    area="embeddings",
    breaks=("EMB-012",),
    description="dimensions is not forwarded: vectors keep the model's full width",
)
class DimensionsIgnored(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        return rewrite_request_json(app, drop_fields("dimensions"), paths=_PATH)
