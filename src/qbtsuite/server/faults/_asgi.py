"""Small ASGI wrappers that faults use to deviate without touching endpoints."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "Headers",
    "JsonTransform",
    "ResponseRewrite",
    "buffer_whole_response",
    "drop_fields",
    "header",
    "json_rewrite",
    "replace_header",
    "rewrite_request_json",
    "rewrite_response",
    "set_header",
]

Headers = list[tuple[bytes, bytes]]
# (scope, status, headers, body) -> (status, headers, body), for whole responses.
ResponseRewrite = Callable[[Scope, int, Headers, bytes], tuple[int, Headers, bytes]]
JsonTransform = Callable[[Scope, Any], Any]


def _is_http(scope: Scope) -> bool:
    return bool(scope["type"] == "http")


def header(headers: Headers, name: bytes) -> bytes | None:
    """The first value of header ``name`` (lower-case), or None."""
    return next((v for k, v in headers if k.lower() == name), None)


def replace_header(headers: Headers, name: bytes, value: bytes | None) -> Headers:
    """``headers`` with ``name`` set to ``value`` (removed when None)."""
    kept = [(k, v) for k, v in headers if k.lower() != name]
    return kept if value is None else [*kept, (name, value)]


def rewrite_response(
    app: ASGIApp, rewrite: ResponseRewrite, *, streaming: bool = False
) -> ASGIApp:
    """Buffer each response (except event streams unless ``streaming``) and rewrite it."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if not _is_http(scope):
            await app(scope, receive, send)
            return
        start: Message | None = None
        body = bytearray()
        passthrough = False

        async def capture(message: Message) -> None:
            nonlocal start, passthrough
            if message["type"] == "http.response.start":
                ctype = header(list(message.get("headers", [])), b"content-type") or b""
                if ctype.startswith(b"text/event-stream") and not streaming:
                    passthrough = True
                    await send(message)
                    return
                start = message
                return
            if passthrough or message["type"] != "http.response.body":
                await send(message)
                return
            body.extend(message.get("body", b""))
            if message.get("more_body", False):
                return
            assert start is not None
            status, headers, new_body = rewrite(
                scope, start["status"], list(start.get("headers", [])), bytes(body)
            )
            headers = replace_header(
                headers, b"content-length", str(len(new_body)).encode()
            )
            await send(
                {"type": "http.response.start", "status": status, "headers": headers}
            )
            await send({"type": "http.response.body", "body": new_body})

        await app(scope, receive, capture)

    return wrapped


def buffer_whole_response(app: ASGIApp) -> ASGIApp:
    """Hold every response, streams included, until it is complete (a buffering proxy)."""
    return rewrite_response(app, lambda s, st, h, b: (st, h, b), streaming=True)


def json_rewrite(
    transform: JsonTransform, *, only_status: int | None = None
) -> ResponseRewrite:
    """A :data:`ResponseRewrite` applying ``transform`` to JSON bodies."""

    def rewrite(
        scope: Scope, status: int, headers: Headers, body: bytes
    ) -> tuple[int, Headers, bytes]:
        ctype = header(headers, b"content-type") or b""
        if not ctype.startswith(b"application/json") or (
            only_status is not None and status != only_status
        ):
            return status, headers, body
        data = transform(scope, json.loads(body))
        return status, headers, json.dumps(data).encode()

    return rewrite


def set_header(
    app: ASGIApp, name: bytes, value: Callable[[int, Headers], bytes | None]
) -> ASGIApp:
    """Set (or with None, remove) a response header chosen from status and headers."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        async def patched(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers = replace_header(
                    headers, name, value(message["status"], headers)
                )
                message = {**message, "headers": headers}
            await send(message)

        await app(scope, receive, patched)

    return wrapped


def rewrite_request_json(
    app: ASGIApp, transform: JsonTransform, *, paths: tuple[str, ...]
) -> ASGIApp:
    """Rewrite JSON request bodies on ``paths`` before the app sees them."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if not _is_http(scope) or scope["path"] not in paths:
            await app(scope, receive, send)
            return
        raw = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            raw.extend(message.get("body", b""))
            if not message.get("more_body", False):
                break
        try:
            body = json.dumps(transform(scope, json.loads(raw))).encode()
        except (ValueError, TypeError):
            body = bytes(raw)  # not JSON: let the app reject it as it would
        headers = replace_header(
            list(scope["headers"]), b"content-length", str(len(body)).encode()
        )
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await app({**scope, "headers": headers}, replay, send)

    return wrapped


def drop_fields(*names: str) -> JsonTransform:
    """A request transform removing ``names`` from a JSON object body."""

    def drop(scope: Scope, body: Any) -> Any:
        if isinstance(body, dict):
            for name in names:
                body.pop(name, None)
        return body

    return drop
