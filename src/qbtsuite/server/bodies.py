"""Reading and validating JSON request bodies.

Every rejection is 400 ``invalid_request`` whose message and ``param`` name the
offending field (spec tables: "Body failed validation").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from starlette.requests import ClientDisconnect, Request

from qbtsuite.modelcatalog import Category, ModelInfo
from qbtsuite.server.apierrors import ApiError
from qbtsuite.server.parts import Parts
from qbtsuite.server.reqheaders import headers_of

__all__ = ["Body", "invalid", "read_json", "resolve_model", "too_large"]

_ENDPOINT = {
    Category.TEXT: "this endpoint",
    Category.EMBEDDING: "embeddings",
    Category.IMAGE: "image generation",
    Category.TRANSCRIPTION: "transcriptions",
}


def invalid(message: str, param: str | None = None) -> ApiError:
    """A 400 ``invalid_request`` error."""
    return ApiError(400, "invalid_request", message, param=param)


def too_large(cap: int) -> ApiError:
    """413 ``request_entity_too_large`` for a body over ``cap`` bytes."""
    return ApiError(
        413,
        "request_entity_too_large",
        f"Request body exceeds the {cap // (1024 * 1024)} MB limit",
    )


async def read_json(request: Request, cap: int) -> Body:
    """The request's JSON object; 400 for a wrong Content-Type, empty or bad JSON."""
    headers = headers_of(request)
    media = headers.get(b"content-type", b"")
    if media != b"application/json":  # else parameters or case to look through
        shown = media.decode("latin-1").split(";")[0].strip().lower()
        if shown != "application/json":
            raise invalid(
                f"Content-Type must be application/json (got {shown or 'none'})"
            )
    declared = headers.get(b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > cap:
        raise too_large(cap)
    # Read message by message: the async generator behind ``request.stream()``
    # costs more than a small body's parse. The usual small body is one message,
    # which ``join`` returns as it is, without a copy.
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await request.receive()
        if message["type"] != "http.request":
            raise ClientDisconnect()
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > cap:
            raise too_large(cap)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    raw = b"".join(chunks)
    if not raw or raw.isspace():
        raise invalid("Request body is empty: expected a JSON object")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise invalid("Request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise invalid("Request body must be a JSON object")
    return Body(data)


def resolve_model(parts: Parts, model_id: str, category: Category) -> ModelInfo:
    """The model, if it exists and serves ``category``; else 400 ``model_not_found``."""
    model = parts.model(model_id)
    if model is None:
        raise ApiError(
            400,
            "model_not_found",
            f"The model '{model_id}' does not exist",
            param="model",
        )
    if model.category is not category:
        raise ApiError(
            400,
            "model_not_found",
            f"The model '{model_id}' does not support {_ENDPOINT[category]}",
            param="model",
        )
    return model


class Body:
    """Typed access to the fields of a JSON object, rejecting what does not fit."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def has(self, name: str) -> bool:
        return self.data.get(name) is not None

    def required_str(self, name: str) -> str:
        value = self.data.get(name)
        if value is None:
            raise invalid(f"Missing required field '{name}'", name)
        if not isinstance(value, str):
            raise invalid(f"Invalid type for '{name}': expected a string", name)
        if not value:
            raise invalid(f"Field '{name}' must not be empty", name)
        return value

    def optional_str(self, name: str, default: str | None = None) -> str | None:
        value = self.data.get(name)
        if value is None:
            return default
        if not isinstance(value, str):
            raise invalid(f"Invalid type for '{name}': expected a string", name)
        return value

    def optional_enum(self, name: str, allowed: Sequence[str], default: str) -> str:
        value = self.optional_str(name, default)
        assert value is not None
        if value not in allowed:
            choices = ", ".join(repr(a) for a in allowed)
            raise invalid(
                f"Invalid value for '{name}': expected one of {choices}", name
            )
        return value

    def optional_bool(self, name: str, default: bool = False) -> bool:
        value = self.data.get(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise invalid(f"Invalid type for '{name}': expected a boolean", name)
        return value

    def optional_int(
        self, name: str, default: int | None, minimum: int, maximum: int | None = None
    ) -> int | None:
        value = self.data.get(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise invalid(f"Invalid type for '{name}': expected an integer", name)
        _check_range(name, value, minimum, maximum)
        return value

    def optional_number(
        self, name: str, minimum: float, maximum: float
    ) -> float | None:
        value = self.data.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise invalid(f"Invalid type for '{name}': expected a number", name)
        _check_range(name, value, minimum, maximum)
        return float(value)

    def optional_object(self, name: str) -> dict[str, Any]:
        value = self.data.get(name)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise invalid(f"Invalid type for '{name}': expected an object", name)
        return value

    def stop_sequences(self) -> list[str]:
        """``stop``: a string, an array of up to 4 strings, or null."""
        value = self.data.get("stop")
        if value is None:
            return []
        if isinstance(value, str):
            return [value]
        if (
            isinstance(value, list)
            and len(value) <= 4
            and all(isinstance(s, str) for s in value)
        ):
            return list(value)
        raise invalid(
            "Invalid type for 'stop': expected a string or an array of up to 4 strings",
            "stop",
        )


def _check_range(
    name: str, value: float, minimum: float, maximum: float | None
) -> None:
    if value < minimum or (maximum is not None and value > maximum):
        upper = "" if maximum is None else f" and at most {maximum}"
        raise invalid(
            f"Invalid value for '{name}': must be at least {minimum}{upper}", name
        )
