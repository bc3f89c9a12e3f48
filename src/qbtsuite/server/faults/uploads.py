"""Upload-cap faults: no cap, the cap enforced late, the wrong answer for it."""

from __future__ import annotations

import dataclasses
import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qbtsuite.server.faults import Fault, fault
from qbtsuite.server.faults._asgi import Headers, header, rewrite_response
from qbtsuite.server.parts import Parts

__all__: list[str] = []


@fault(
    "uploads.no_cap",
    area="uploads",
    breaks=("UPLOAD-002", "UPLOAD-003", "UPLOAD-005"),
    description="Bodies over 25 MB are accepted: the cap is not enforced at all",
)
class NoCap(Fault):
    def apply(self, parts: Parts) -> None:
        parts.settings = dataclasses.replace(parts.settings, upload_cap=2**40)


@fault(
    "uploads.read_before_413",
    area="uploads",
    breaks=("UPLOAD-004",),
    description="An oversize upload is read to its end before the 413 is sent",
)
class ReadBefore413(Fault):
    def __init__(self) -> None:
        self._cap = 0

    def apply(self, parts: Parts) -> None:
        self._cap = parts.settings.upload_cap

    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
            declared = header(scope.get("headers", []), b"content-length")
            if (
                scope["type"] != "http"
                or declared is None
                or int(declared) <= self._cap
            ):
                await app(scope, receive, send)
                return
            while True:  # drain everything first, as a buffering proxy would
                message = await receive()
                if message["type"] != "http.request" or not message.get("more_body"):
                    break

            async def drained() -> Message:
                return {"type": "http.request", "body": b"", "more_body": False}

            await app(scope, drained, send)

        return wrapped


@fault(
    "uploads.cap_as_400",
    area="uploads",
    breaks=("UPLOAD-002", "UPLOAD-003"),
    description="Oversize uploads get 400 invalid_request instead of 413",
)
class CapAs400(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        def rewrite(
            s: Scope, status: int, h: Headers, b: bytes
        ) -> tuple[int, Headers, bytes]:
            if status != 413:
                return status, h, b
            body = json.loads(b)
            body["error"].update(code="invalid_request", type="invalid_request_error")
            return 400, h, json.dumps(body).encode()

        return rewrite_response(app, rewrite)
