"""Model names: the gateway's names in, the upstream's names out, and back.

A gateway that serves other names maps each request's ``model`` to the upstream
name, lists only its own names in ``/v1/models``, writes its names into every answer
(streams included) and knows no other name, the upstream's originals included.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from tests.gateways.jsonvalue import JsonValue
from tests.gateways.options import ModelMap

__all__ = [
    "Rewritten",
    "UnknownModel",
    "rename_error_message",
    "rename_in_answer",
    "rename_models_list",
    "rewrite_json_request",
    "rewrite_multipart_request",
]


@dataclass(frozen=True)
class Rewritten:
    """The request body to send upstream (the same bytes when nothing changed)."""

    body: bytes


@dataclass(frozen=True)
class UnknownModel:
    """The request names a model the gateway does not serve."""

    name: str


def rewrite_json_request(body: bytes, models: ModelMap) -> Rewritten | UnknownModel:
    """``body`` with its string ``model`` mapped; bodies without one pass unchanged
    (the upstream judges them)."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return Rewritten(body)
    if not isinstance(parsed, dict) or not isinstance(parsed.get("model"), str):
        return Rewritten(body)
    upstream = models.upstream_name(parsed["model"])
    if upstream is None:
        return UnknownModel(parsed["model"])
    parsed["model"] = upstream
    return Rewritten(json.dumps(parsed, ensure_ascii=False).encode("utf-8"))


_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)


def rewrite_multipart_request(
    body: bytes, content_type: str, models: ModelMap
) -> Rewritten | UnknownModel:
    """The multipart ``body`` with the value of its ``model`` part mapped (RFC 7578)."""
    found = _BOUNDARY.search(content_type)
    if found is None:
        return Rewritten(body)
    boundary = re.escape(found.group(1).encode("latin-1"))
    # The part's headers end at the blank line; its value ends at CRLF + delimiter.
    part = re.compile(
        rb'(content-disposition:[^\r\n]*\bname="model"[^\r\n]*\r\n(?:[^\r\n]+\r\n)*\r\n)'
        rb"(.*?)(\r\n--" + boundary + rb")",
        re.IGNORECASE | re.DOTALL,
    )
    match = part.search(body)
    if match is None:
        return Rewritten(body)
    name = match.group(2).decode("utf-8", "replace")
    upstream = models.upstream_name(name)
    if upstream is None:
        return UnknownModel(name)
    return Rewritten(
        body[: match.start(2)] + upstream.encode("utf-8") + body[match.end(2) :]
    )


def rename_models_list(body: JsonValue, models: ModelMap) -> JsonValue:
    """A ``/v1/models`` list with only the mapped models, under the gateway's names."""
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        return body
    data = body["data"]
    assert isinstance(data, list)
    kept: list[JsonValue] = []
    for entry in data:
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            gateway = models.gateway_name(str(entry["id"]))
            if gateway is not None:
                kept.append({**entry, "id": gateway})
    return {**body, "data": kept}


def rename_in_answer(body: JsonValue, models: ModelMap) -> JsonValue:
    """An answer (or stream chunk) with its ``model`` (or model object ``id``) renamed."""
    if not isinstance(body, dict):
        return body
    renamed = dict(body)
    model = body.get("model")
    if isinstance(model, str):
        renamed["model"] = models.gateway_name(model) or model
    if body.get("object") == "model" and isinstance(body.get("id"), str):
        renamed["id"] = models.gateway_name(str(body["id"])) or body["id"]
    return renamed


def rename_error_message(body: JsonValue, models: ModelMap) -> JsonValue:
    """An error envelope whose message names upstream models by the gateway's names."""
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        return body
    error = body["error"]
    assert isinstance(error, dict)
    message = error.get("message")
    if not isinstance(message, str):
        return body
    for gateway, upstream in models.to_upstream.items():
        message = message.replace(f"'{upstream}'", f"'{gateway}'")
    return {**body, "error": {**error, "message": message}}
