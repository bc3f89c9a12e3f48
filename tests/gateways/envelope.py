"""Error bodies: the gateway's own errors and the reshaping of upstream ones.

The docs' envelope (spec/getting-started.txt) is
``{"error": {"message", "type", "param", "code"}}``. ``--drop-param`` omits the
optional ``param``; ``--fastapi-errors`` answers ``{"detail": message}`` instead, as a
FastAPI application does, with the status code kept.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.gateways.jsonvalue import JsonObject, JsonValue

__all__ = ["ErrorStyle", "gateway_error", "reshape_error"]


@dataclass(frozen=True)
class ErrorStyle:
    drop_param: bool = False
    fastapi: bool = False


def gateway_error(
    message: str, error_type: str, code: str, param: str | None = None
) -> JsonObject:
    """An error in the documented envelope, as the gateway itself answers it."""
    return {
        "error": {"message": message, "type": error_type, "param": param, "code": code}
    }


def reshape_error(body: JsonValue, style: ErrorStyle) -> JsonValue:
    """``body`` (an error answer) in the gateway's error style; other shapes unchanged."""
    if not isinstance(body, dict):
        return body
    error = body.get("error")
    if not isinstance(error, dict):
        return body
    if style.fastapi:
        message = error.get("message")
        return {"detail": message if isinstance(message, str) else "Error"}
    if style.drop_param and "param" in error:
        return {**body, "error": {k: v for k, v in error.items() if k != "param"}}
    return body
