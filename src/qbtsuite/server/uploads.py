"""Reading a ``multipart/form-data`` body as a stream, under the upload cap.

Spec/audio-transcriptions.txt: "Multipart upload, 25 MB cap"; getting-started.txt:
413 ``request_entity_too_large`` when the "Multipart upload exceeds 25 MB".

- A declared ``Content-Length`` over the cap is refused before any body byte is read.
- A body without one (chunked) is counted while it streams; the 413 comes as soon as
  the count passes the cap, so the server never holds more than the cap.
- Parts are parsed as they arrive (python-multipart through Starlette's streaming
  parser); file parts go to spooled temporary files (1 MiB in memory, then disk).
"""

from __future__ import annotations

import math
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing, asynccontextmanager

from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

from qbtsuite.server.apierrors import ApiError
from qbtsuite.server.bodies import invalid, too_large

__all__ = ["FormFields", "read_multipart"]

_MEDIA_TYPE = "multipart/form-data"


def _require_multipart(request: Request) -> None:
    """400 unless the Content-Type is multipart/form-data with a boundary."""
    header = request.headers.get("content-type", "")
    media, _, params = header.partition(";")
    media = media.strip().lower()
    if media != _MEDIA_TYPE:
        shown = media or "none"
        raise invalid(f"Content-Type must be {_MEDIA_TYPE} (got {shown})")
    if "boundary=" not in params.lower():
        raise invalid(f"Content-Type {_MEDIA_TYPE} needs a boundary parameter")


def _too_large(cap: int) -> ApiError:
    """413 that also ends the connection.

    ``Connection: close`` tells the client not to send the rest of the body on this
    connection; uvicorn then closes it (over TLS: close_notify, while the rest of an
    upload already in flight is still read and dropped), instead of keeping it open
    and draining the declared remainder to find the next request.
    """
    error = too_large(cap)
    error.headers["Connection"] = "close"
    return error


def _check_declared_length(request: Request, cap: int) -> None:
    """413 at once when the declared length is over the cap (nothing read yet)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > cap:
        raise _too_large(cap)


async def _counted(request: Request, cap: int) -> AsyncGenerator[bytes, None]:
    """The body's chunks, raising 413 as soon as their total passes ``cap``."""
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > cap:
            raise _too_large(cap)
        yield chunk


@asynccontextmanager
async def read_multipart(
    request: Request,
    cap: int,
    *,
    max_files: int,
    max_fields: int,
    max_field_bytes: int,
) -> AsyncIterator[FormData]:
    """The parsed form of ``request``; its temporary files are closed on exit.

    400 ``invalid_request`` for a wrong Content-Type or a malformed body (including
    more than ``max_files`` files, ``max_fields`` fields, or a text field over
    ``max_field_bytes``); 413 ``request_entity_too_large`` for a body over ``cap``.
    """
    _require_multipart(request)
    _check_declared_length(request, cap)
    try:
        async with aclosing(_counted(request, cap)) as stream:
            parser = MultiPartParser(
                request.headers,
                stream,
                max_files=max_files,
                max_fields=max_fields,
                max_part_size=max_field_bytes,
            )
            form = await parser.parse()
    except MultiPartException as exc:
        raise invalid(f"Malformed multipart body: {exc.message}") from None
    try:
        yield form
    finally:
        await form.close()


class FormFields:
    """Typed access to the fields of a multipart form, rejecting what does not fit.

    Every rejection is 400 ``invalid_request`` naming the field, as for JSON bodies.
    """

    def __init__(self, form: FormData) -> None:
        self.form = form

    def _one(self, name: str) -> str | UploadFile | None:
        values = self.form.getlist(name)
        if len(values) > 1:
            raise invalid(f"Field '{name}' was sent {len(values)} times", name)
        return values[0] if values else None

    def required_file(self, name: str) -> UploadFile:
        value = self._one(name)
        if value is None:
            raise invalid(f"Missing required field '{name}'", name)
        if not isinstance(value, UploadFile):
            raise invalid(
                f"Field '{name}' must be a file upload (a part with a filename)", name
            )
        return value

    def optional_str(self, name: str) -> str | None:
        value = self._one(name)
        if value is None:
            return None
        if isinstance(value, UploadFile):
            raise invalid(f"Field '{name}' must be a text field, not a file", name)
        return value

    def required_str(self, name: str) -> str:
        value = self.optional_str(name)
        if value is None:
            raise invalid(f"Missing required field '{name}'", name)
        if not value:
            raise invalid(f"Field '{name}' must not be empty", name)
        return value

    def optional_number(
        self, name: str, minimum: float, maximum: float
    ) -> float | None:
        text = self.optional_str(name)
        if text is None:
            return None
        try:
            value = float(text)
        except ValueError:
            raise invalid(
                f"Invalid type for '{name}': expected a number", name
            ) from None
        if not math.isfinite(value) or not minimum <= value <= maximum:
            raise invalid(
                f"Invalid value for '{name}': must be between {minimum} and {maximum}",
                name,
            )
        return value
