"""Model-catalogue faults: a listing that is incomplete or misshapen, categories ignored."""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Scope

from qbtsuite.modelcatalog import Category, models_for
from qbtsuite.server.faults import Fault, fault
from qbtsuite.server.faults._asgi import (
    json_rewrite,
    rewrite_request_json,
    rewrite_response,
)

__all__: list[str] = []


def _on_models_list(transform: Any) -> Any:
    def apply(scope: Scope, body: Any) -> Any:
        if scope["path"] == "/v1/models" and isinstance(body, dict) and "data" in body:
            return transform(body)
        return body

    return apply


@fault(
    "models.listing_omits_model",
    area="models",
    breaks=("MODEL-003",),
    description="GET /v1/models leaves out a documented model (bge-m3) that still works",
)
class ListingOmitsModel(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        def drop(body: dict[str, Any]) -> dict[str, Any]:
            body["data"] = [m for m in body["data"] if m.get("id") != "bge-m3"]
            return body

        return rewrite_response(app, json_rewrite(_on_models_list(drop)))


@fault(
    "models.listing_wrong_shape",
    area="models",
    breaks=("MODEL-002",),
    description="The model list says object 'models' and its entries lack owned_by",
)
class ListingWrongShape(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        def reshape(body: dict[str, Any]) -> dict[str, Any]:
            body["object"] = "models"
            for model in body["data"]:
                model.pop("owned_by", None)
            return body

        return rewrite_response(app, json_rewrite(_on_models_list(reshape)))


@fault(
    "models.category_not_enforced",
    area="models",
    breaks=("EMB-010",),
    description="Embeddings accept any documented model, routing text models to bge-m3",
)
class CategoryNotEnforced(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        text_models = {m.id for m in models_for(Category.TEXT)}

        def reroute(scope: Scope, body: Any) -> Any:
            if isinstance(body, dict) and body.get("model") in text_models:
                body["model"] = "bge-m3"
            return body

        return rewrite_request_json(app, reroute, paths=("/v1/embeddings",))
