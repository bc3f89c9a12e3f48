"""Fast JSON responses (orjson; numpy arrays serialise natively)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

__all__ = ["JsonResponse", "json_response"]

_CONTENT_TYPE = (b"content-type", b"application/json")


class JsonResponse(Response):
    """A ready ``application/json`` body with exactly the two headers it needs.

    Starlette's ``Response.__init__`` inspects any extra headers and the media type
    on every request; with neither, its start costs more than a small body's
    serialisation, so this builds the header list directly.
    """

    media_type = "application/json"

    def __init__(self, body: bytes, status_code: int = 200) -> None:
        self.status_code = status_code
        self.body = body
        self.background = None
        self.raw_headers = [(b"content-length", b"%d" % len(body)), _CONTENT_TYPE]


def json_response(content: Any, status_code: int = 200) -> Response:
    """``application/json`` response for ``content``."""
    body = orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY)
    return JsonResponse(body, status_code)
