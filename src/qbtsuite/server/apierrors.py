"""The one error envelope (spec/getting-started.txt "Error format") and its handlers.

Every non-2xx the server produces is ``{"error": {"message", "type", "param", "code"}}``;
``param`` is OpenAI's field (always present, possibly null), the other three are the spec's.
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

__all__ = [
    "ApiError",
    "error_body",
    "error_response",
    "handle_api_error",
    "handle_http_exception",
    "handle_unexpected",
    "internal_error",
]

# Status → error type, as in the spec's table and type list.
_TYPE_BY_STATUS = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    402: "insufficient_quota",
    404: "invalid_request_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
}


class ApiError(Exception):
    """An error answered in the envelope; raise it anywhere in a request."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        param: str | None = None,
        headers: Mapping[str, str] | None = None,
        error_type: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.param = param
        self.headers = dict(headers or {})
        self.error_type = error_type or _TYPE_BY_STATUS.get(status, "api_error")


def error_body(error: ApiError) -> bytes:
    """Serialise the envelope for ``error``."""
    return orjson.dumps(
        {
            "error": {
                "message": error.message,
                "type": error.error_type,
                "param": error.param,
                "code": error.code,
            }
        }
    )


def error_response(error: ApiError) -> Response:
    """Build the HTTP response for ``error``."""
    return Response(
        error_body(error),
        status_code=error.status,
        headers=error.headers,
        media_type="application/json",
    )


async def handle_api_error(request: Request, exc: Exception) -> Response:
    """Starlette handler for :class:`ApiError`."""
    assert isinstance(exc, ApiError)
    return error_response(exc)


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    """Render Starlette's own 404/405 in the envelope too."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        error = ApiError(
            404, "not_found", f"Unknown path: {request.method} {request.url.path}"
        )
    elif exc.status_code == 405:
        error = ApiError(
            405,
            "method_not_allowed",
            f"Method {request.method} is not allowed on {request.url.path}",
            headers=dict(exc.headers or {}),
        )
    else:
        error = ApiError(exc.status_code, "http_error", str(exc.detail))
    return error_response(error)


def internal_error() -> Response:
    """The 500 answered for an unexpected exception."""
    return error_response(ApiError(500, "internal_error", "Internal server error"))


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    """Last resort: an unexpected exception still answers in the envelope."""
    return internal_error()
