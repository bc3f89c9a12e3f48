"""POST /v1/audio/transcriptions (placeholder until the audio endpoint lands)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from qbtsuite.server.errors import ApiError
from qbtsuite.server.gate import admit

__all__ = ["create_transcription"]


async def create_transcription(request: Request) -> Response:
    admit(request)
    raise ApiError(404, "not_found", "Transcription is not available")
