"""Transcription faults: formats wrapped, durations misread, multipart not enforced."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from qbtsuite.server.faults import Fault, fault
from qbtsuite.server.faults._asgi import (
    Headers,
    header,
    json_rewrite,
    replace_header,
    rewrite_response,
)

__all__: list[str] = []

_PATH = "/v1/audio/transcriptions"


@fault(
    "transcriptions.text_as_json",
    area="transcriptions",
    breaks=("AUD-003",),
    description='response_format=text comes back as JSON {"text": …} instead of plain text',
)
class TextAsJson(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        def wrap(
            s: Scope, status: int, h: Headers, b: bytes
        ) -> tuple[int, Headers, bytes]:
            ctype = header(h, b"content-type") or b""
            if (
                s["path"] != _PATH
                or status != 200
                or not ctype.startswith(b"text/plain")
            ):
                return status, h, b
            body = json.dumps({"text": b.decode("utf-8")}).encode()
            return status, replace_header(h, b"content-type", b"application/json"), body

        return rewrite_response(app, wrap)


@fault(
    "transcriptions.duration_10x",
    area="transcriptions",
    breaks=("AUD-005",),
    description="verbose_json reports ten times the audio's duration (samples/ms mix-up)",
)
class Duration10x(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        def scale(scope: Scope, body: Any) -> Any:
            if scope["path"] == _PATH and isinstance(body.get("duration"), int | float):
                body["duration"] *= 10
                if isinstance(body.get("usage"), dict) and "seconds" in body["usage"]:
                    body["usage"]["seconds"] *= 10
            return body

        return rewrite_response(app, json_rewrite(scale, only_status=200))


# Whisper decodes audio in 30-second windows; a gateway that copies the window's end
# into the last segment times it past the end of a shorter recording.
_WHISPER_WINDOW = 30.0


@fault(
    "transcriptions.segments_past_end",
    area="transcriptions",
    breaks=("AUD-006",),
    description="The last verbose_json segment ends at the 30 s decoding window, past the audio",
)
class SegmentsPastEnd(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        def stretch(scope: Scope, body: Any) -> Any:
            segments = body.get("segments") if scope["path"] == _PATH else None
            if isinstance(segments, list) and segments:
                last = segments[-1]
                if isinstance(last, dict) and isinstance(last.get("end"), int | float):
                    last["end"] = max(last["end"], _WHISPER_WINDOW)
            return body

        return rewrite_response(app, json_rewrite(stretch, only_status=200))


@fault(
    "transcriptions.language_missing",
    area="transcriptions",
    breaks=("AUD-002",),
    description="The default json response has text but no language",
)
class LanguageMissing(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        def drop(scope: Scope, body: Any) -> Any:
            if scope["path"] == _PATH and "segments" not in body:
                body.pop("language", None)
            return body

        return rewrite_response(app, json_rewrite(drop, only_status=200))


@fault(
    "transcriptions.json_body_accepted",
    area="transcriptions",
    breaks=("AUD-008",),
    description="A non-multipart (JSON) request is answered 200 with an empty transcript",
)
class JsonBodyAccepted(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
            ctype = header(scope.get("headers", []), b"content-type") or b""
            if (
                scope["type"] != "http"
                or scope["path"] != _PATH
                or ctype.startswith(b"multipart/")
            ):
                await app(scope, receive, send)
                return
            body = json.dumps({"text": "", "language": "en"}).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": body})

        return wrapped


@fault(
    "transcriptions.non_audio_forbidden",
    area="transcriptions",
    # A file-type filter answers 403, as for a key without access: the refusal is
    # not about the request's content (AUD-011 needs a 4xx about the file).
    breaks=("AUD-011",),
    # The filter's own 403 envelope carries its own error type.
    collateral=("ERR-003",),
    description="A file that is not audio is answered 403 by a file-type filter, "
    "not a 4xx about the file",
)
class NonAudioForbidden(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        def wrap(
            s: Scope, status: int, h: Headers, b: bytes
        ) -> tuple[int, Headers, bytes]:
            if s["path"] != _PATH or status != 400:
                return status, h, b
            try:
                error = json.loads(b)["error"]
            except (ValueError, KeyError, TypeError):
                return status, h, b
            if error.get("param") != "file" or "not decodable audio" not in str(
                error.get("message")
            ):
                return status, h, b
            error.update(
                message="Forbidden: file type not allowed",
                type="permission_error",
                param=None,
                code="file_type_not_allowed",
            )
            return 403, h, json.dumps({"error": error}).encode()

        return rewrite_response(app, wrap)
