"""POST /v1/images/generations (placeholder until the image endpoint lands)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from qbtsuite.server.errors import ApiError
from qbtsuite.server.gate import admit

__all__ = ["create_image", "image_file"]


async def create_image(request: Request) -> Response:
    admit(request)
    raise ApiError(404, "not_found", "Image generation is not available")


async def image_file(request: Request) -> Response:
    raise ApiError(404, "not_found", "No such image")
