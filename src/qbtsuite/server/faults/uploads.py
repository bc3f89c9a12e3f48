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


WAF_BODY_LIMIT = 10_000_000  # bytes: a size rule well below the documented cap


def _forbidden(message: str, code: str) -> bytes:
    error = {"message": message, "type": "permission_error", "param": None}
    return json.dumps({"error": {**error, "code": code}}).encode()


@fault(
    "uploads.waf_blocks_large_bodies",
    area="uploads",
    # 403 for every body declared over 10 MB: the 25,000,000-byte upload (UPLOAD-001)
    # and the oversized ones with Content-Length (UPLOAD-002, UPLOAD-004: a 403 is no
    # refusal of the size to time; UPLOAD-005: the JSON body) never reach the cap.
    breaks=("UPLOAD-001", "UPLOAD-002", "UPLOAD-004", "UPLOAD-005"),
    # The WAF's own 403 envelope carries its own error type.
    collateral=("ERR-003",),
    description="A WAF size rule answers 403 to any body declared over 10 MB, "
    "before the API sees it",
)
class WafBlocksLargeBodies(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
            declared = header(scope.get("headers", []), b"content-length")
            if (
                scope["type"] != "http"
                or declared is None
                or not declared.isdigit()
                or int(declared) <= WAF_BODY_LIMIT
            ):
                await app(scope, receive, send)
                return
            body = _forbidden("Request blocked: body too large", "request_blocked")
            await send(
                {
                    "type": "http.response.start",
                    "status": 403,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                        (b"connection", b"close"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})

        return wrapped
