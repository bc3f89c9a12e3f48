"""POST /v1/embeddings: vectors for search and RAG (spec/embeddings.txt)."""

from __future__ import annotations

import base64
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from qbtsuite.modelcatalog import Category, ModelInfo
from qbtsuite.server.bodies import Body, invalid, read_json, resolve_model
from qbtsuite.server.gate import admit, ensure_funds
from qbtsuite.server.jsonresp import json_response
from qbtsuite.server.parts import parts_of
from qbtsuite.server.textgen import count_tokens

__all__ = ["create_embedding"]

_MAX_INPUTS = 2048  # OpenAI CreateEmbeddingRequest: string[] maxItems 2048


def _inputs(body: Body) -> list[str]:
    """``input``: "Single string or array (batch)"; token arrays as OpenAI accepts."""
    value = body.data.get("input")
    if value is None:
        raise invalid("Missing required field 'input'", "input")
    if isinstance(value, str):
        if not value:
            raise invalid("Field 'input' must not be an empty string", "input")
        return [value]
    if isinstance(value, list) and 0 < len(value) <= _MAX_INPUTS:
        if all(isinstance(v, str) and v for v in value):
            return value
        if all(_is_token_list(v) for v in value):
            return [" ".join(map(str, v)) for v in value]
        if _is_token_list(value):
            return [" ".join(map(str, value))]
    raise invalid(
        "Invalid type for 'input': expected a non-empty string or an array of "
        f"1 to {_MAX_INPUTS} non-empty strings",
        "input",
    )


def _is_token_list(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(t, int) and not isinstance(t, bool) for t in value)
    )


def _width(body: Body, model: ModelInfo) -> int:
    """The vector length: the model's, or ``dimensions`` where the model allows it."""
    native = model.dimensions or model.native_dimensions or 1024
    requested = body.optional_int("dimensions", None, 1)
    if requested is None:
        return native
    if model.dimensions is not None and requested != model.dimensions:
        raise invalid(
            f"Model '{model.id}' has a fixed width of {model.dimensions}; "
            "'dimensions' cannot change it",
            "dimensions",
        )
    if requested > native:
        raise invalid(
            f"Invalid value for 'dimensions': must be at most {native} for '{model.id}'",
            "dimensions",
        )
    return requested


async def create_embedding(request: Request) -> Response:
    """One unit vector per input, in input order, with input-token usage."""
    parts = parts_of(request)
    account = admit(request, parts)
    body = await read_json(request, parts.settings.upload_cap)
    model = resolve_model(parts, body.required_str("model"), Category.EMBEDDING)
    inputs = _inputs(body)
    encoding = body.optional_enum("encoding_format", ("float", "base64"), "float")
    body.optional_str("user")
    width = _width(body, model)
    ensure_funds(account)
    native = model.dimensions or model.native_dimensions or width
    tokens = sum(count_tokens(text) for text in inputs)
    data = []
    for index, text in enumerate(inputs):
        vector = parts.embedder.embed(model.id, text, native, width)
        embedding: Any
        if encoding == "base64":
            # The wire form OpenAI uses: little-endian float32, base64 (protocol-facts §1.5).
            embedding = base64.b64encode(vector.float32_le()).decode("ascii")
        else:
            embedding = orjson.Fragment(vector.json())  # already JSON: inserted as is
        data.append({"object": "embedding", "embedding": embedding, "index": index})
    account.charge(tokens * parts.keys.pricing.embedding_token)
    usage = {"prompt_tokens": tokens, "total_tokens": tokens}
    return json_response(
        {"object": "list", "data": data, "model": model.id, "usage": usage}
    )
