"""GET /v1/models: the documented models in OpenAI's list shape."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from qbtsuite.server.gate import admit
from qbtsuite.server.jsonresp import json_response
from qbtsuite.server.parts import parts_of

__all__ = ["list_models"]

# A fixed creation time keeps the listing byte-for-byte reproducible.
_CREATED = 1735689600


async def list_models(request: Request) -> Response:
    """``{"object": "list", "data": [{id, object: "model", created, owned_by}]}``."""
    admit(request)
    data = [
        {"id": m.id, "object": "model", "created": _CREATED, "owned_by": m.owned_by}
        for m in parts_of(request).models
    ]
    return json_response({"object": "list", "data": data})
