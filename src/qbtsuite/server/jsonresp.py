"""Fast JSON responses (orjson; numpy arrays serialise natively)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

__all__ = ["json_response"]


def json_response(content: Any, status_code: int = 200) -> Response:
    """``application/json`` response for ``content``."""
    body = orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY)
    return Response(body, status_code=status_code, media_type="application/json")
