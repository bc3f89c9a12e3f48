"""Framing of data-only server-sent events (WHATWG HTML §9.2 "Server-sent events").

OpenAI streams are ``data: <one-line JSON>\\n\\n`` events terminated by
``data: [DONE]\\n\\n`` (protocol-facts §5.1).
"""

from __future__ import annotations

__all__ = ["SSE_HEADERS", "SSEFramer"]

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


class SSEFramer:
    """Turns chunk JSON into SSE bytes; faults subclass it to frame badly."""

    media_type = "text/event-stream"

    def event(self, payload: bytes) -> bytes:
        """One event carrying ``payload`` (JSON without newlines)."""
        return b"data: " + payload + b"\n\n"

    def done(self) -> bytes:
        """The terminating sentinel."""
        return b"data: [DONE]\n\n"
