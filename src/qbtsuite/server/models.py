"""GET /v1/models: the documented models in OpenAI's list shape."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from qbtsuite.modelcatalog import ModelInfo
from qbtsuite.server.apierrors import ApiError
from qbtsuite.server.gate import admit
from qbtsuite.server.jsonresp import json_response
from qbtsuite.server.parts import parts_of

__all__ = ["get_model", "list_models"]

# A fixed creation time keeps the listing byte-for-byte reproducible.
_CREATED = 1735689600


async def list_models(request: Request) -> Response:
    """``{"object": "list", "data": [{id, object: "model", created, owned_by}]}``."""
    parts = parts_of(request)
    admit(request, parts)
    data = [_model_object(m) for m in parts.models]
    return json_response({"object": "list", "data": data})


async def get_model(request: Request) -> Response:
    """``GET /v1/models/{model}``: one model object, or 404 in the envelope."""
    parts = parts_of(request)
    admit(request, parts)
    model_id = request.path_params["model"]
    model = parts.model(model_id)
    if model is None:
        raise ApiError(
            404,
            "model_not_found",
            f"The model '{model_id}' does not exist",
            param="model",
        )
    return json_response(_model_object(model))


def _model_object(model: ModelInfo) -> dict[str, object]:
    return {
        "id": model.id,
        "object": "model",
        "created": _CREATED,
        "owned_by": model.owned_by,
    }
