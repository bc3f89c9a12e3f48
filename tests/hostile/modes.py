"""The misbehaviours, one per mode: what each sends instead of the well-behaved reply.

Each :class:`Mode` says which requests it spoils (:class:`Target`): the endpoints
(discovery, ``GET /v1/models``, stays well-behaved so a run gets past it, unless the
server runs with scope ``all``), discovery only, every request, every connection, or
the listener itself. A handler gets the connection, the request and the reply a
well-behaved server would send, and returns whether the connection may serve another
request.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

from tests.hostile.api import (
    JSON,
    Reply,
    body_of,
    error,
    is_discovery,
    json_bytes,
    sse_bytes,
)
from tests.hostile.payloads import GIB, Padded, deep_json, garbage, gzip_bomb
from tests.hostile.replies import DONE, event_chunks, reply_head, send_reply, wire_bytes
from tests.hostile.secret_forms import echo_forms
from tests.hostile.wire import Connection, Request, chunk, head

__all__ = ["INVALID_UTF8", "MODES", "Mode", "Settings", "Target"]


@dataclass(frozen=True, slots=True)
class Settings:
    """The figures the modes use; tests shrink the slow ones."""

    byte_interval: float = 1.0  # trickle, slow-headers
    chunk_interval: float = 0.05  # endless-stream
    continue_interval: float = 0.01  # continue-flood
    body_size: int = GIB  # huge-body, gzip-bomb (inflated)
    header_bytes: int = 128 * 1024  # huge-headers: past the 100 KiB h11 reads
    big_header_bytes: int = 96 * 1024  # big-headers: under it, past a 64 KiB cap
    depth: int = 1_000_000  # deep-json
    garbage_bytes: int = 4096  # garbage


class Target(StrEnum):
    """Which requests (or what) a mode spoils."""

    ALL = "all"
    ENDPOINTS = "endpoints"
    DISCOVERY = "discovery"
    CONNECTION = "connection"  # before any request is read
    LISTENER = "listener"  # connections are never accepted


Handler = Callable[[Connection, Request, Reply, Settings], Awaitable[bool]]
OnConnect = Callable[[Connection, Settings], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Mode:
    """One misbehaviour: its name, the one-line description, what it spoils, how."""

    name: str
    summary: str
    target: Target
    handle: Handler | None = None
    on_connect: OnConnect | None = None
    tls_only: bool = False  # the TLS listener is left raw (the HTTP one behaves)
    large: bool = False  # sends a GiB or more: measure one such mode at a time

    def spoils(self, request: Request, scope: str) -> bool:
        """Whether ``request`` gets this mode's answer (``scope`` "all" includes discovery)."""
        if self.target is Target.ALL:
            return True
        if self.target is Target.DISCOVERY:
            return is_discovery(request)
        if self.target is Target.ENDPOINTS:
            return scope == "all" or not is_discovery(request)
        return False


# --- helpers -------------------------------------------------------------------


def _document(reply: Reply) -> dict[str, JSON]:
    return dict(reply.json) if isinstance(reply.json, dict) else {"value": reply.json}


def _first_event(reply: Reply) -> tuple[JSON, tuple[JSON, ...]]:
    events = reply.events or ()
    return (events[0] if events else {}), tuple(events[1:])


def _request_json(request: Request) -> Mapping[str, JSON]:
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


def _is_text_route(request: Request) -> bool:
    return request.path.rstrip("/").endswith("/completions")


def _without_framing(reply: Reply, *extra: tuple[str, str]) -> bytes:
    """The head of ``reply`` with ``extra`` fields and no Content-Length or chunking."""
    return head(reply.status, (*reply.fields, *extra))


INVALID_UTF8 = b"\xff\xfe\xc3("  # never valid UTF-8 (RFC 3629 §3): 0xFF, 0xFE, bad tail


def _spoil_first_string(data: bytes) -> bytes:
    """``data`` with invalid UTF-8 bytes at the start of its first string value."""
    at = data.find(b'":"')
    if at < 0:
        return data[:-1] + b',"note":"' + INVALID_UTF8 + b'"}'
    return data[: at + 3] + INVALID_UTF8 + data[at + 3 :]


# --- handlers ------------------------------------------------------------------


def _with_echo(reply: Reply, request: Request) -> Reply:
    auth = request.header("authorization")
    if not auth:
        return reply
    values = [("auth", auth)]
    if " " in auth:
        values.append(("key", auth.split(" ", 1)[1].strip()))
    fields: list[tuple[str, str]] = []
    echo: dict[str, JSON] = {}
    fragments = dict(reply.raw_fragments)
    for label, value in values:
        for form in echo_forms(value):
            name = f"{label}-{form.name}"
            fields.append((f"X-Echo-{name}", form.text))
            if form.name.startswith("json-escaped"):
                placeholder = f"@@echo-{name}@@"
                fragments[placeholder] = f'"{form.text}"'  # \u escapes, raw in the JSON
                echo[name] = placeholder
            else:
                echo[name] = form.text
    reply = replace(reply, fields=reply.fields + tuple(fields), raw_fragments=fragments)
    if reply.events is not None:
        events = tuple(
            {**e, "echo": echo} if isinstance(e, dict) else e for e in reply.events
        )
        return replace(reply, events=events)
    if reply.text is not None:
        lines = "\n".join(str(v) for v in echo.values() if not str(v).startswith("@@"))
        return replace(reply, text=reply.text + "\n" + lines)
    document = _document(reply)
    problem = document.get("error")
    if isinstance(problem, dict):
        shown = {f.name: f.text for f in echo_forms(auth)}
        note = f" (Authorization was {shown['b64-padded']}, {shown['percent-upper']}, {shown['hex-lower']})"
        problem = {**problem, "message": f"{problem.get('message')}{note}"}
        document["error"] = problem
    document["echo"] = echo
    return replace(reply, json=document)


async def _echo_auth(
    conn: Connection, request: Request, reply: Reply, s: Settings
) -> bool:
    await send_reply(conn, _with_echo(reply, request))
    return True


async def _normal(
    conn: Connection, request: Request, reply: Reply, s: Settings
) -> bool:
    await send_reply(conn, reply)
    return True


async def _trickle(
    conn: Connection, request: Request, reply: Reply, s: Settings
) -> bool:
    await conn.send_slowly(wire_bytes(reply), s.byte_interval)
    return False


async def _slow_headers(
    conn: Connection, request: Request, reply: Reply, s: Settings
) -> bool:
    whole = reply_head(reply)
    line_end = whole.index(b"\r\n") + 2
    await conn.send(whole[:line_end])
    await conn.send_slowly(whole[line_end:], s.byte_interval)
    if reply.streaming:
        for piece in event_chunks(reply):
            await conn.send(piece)
    else:
        await conn.send(body_of(reply))
    return False


def _endless_event(request: Request) -> Callable[[int], bytes]:
    body = _request_json(request)
    model = body.get("model") if isinstance(body.get("model"), str) else "gpt-oss-120b"
    chat = request.path.rstrip("/").endswith("/chat/completions")

    def event(n: int) -> bytes:
        choice: JSON = (
            {"index": 0, "delta": {"content": f" w{n}"}, "finish_reason": None}
            if chat
            else {"index": 0, "text": f" w{n}", "finish_reason": None}
        )
        payload: JSON = {
            "id": "cmpl-endless",
            "object": "chat.completion.chunk" if chat else "text_completion",
            "created": 1735689600,
            "model": model,
            "choices": [choice],
        }
        return sse_bytes(payload)

    return event


async def _endless_stream(
    conn: Connection, request: Request, reply: Reply, s: Settings
) -> bool:
    if _is_text_route(request):
        fields = (("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache"))
        await conn.send(head(200, (*fields, ("Transfer-Encoding", "chunked"))))
        event = _endless_event(request)
        n = 0
        while True:
            await conn.send(chunk(event(n)))
            n += 1
            await asyncio.sleep(s.chunk_interval)
    fields = (("Content-Type", "application/json"), ("Transfer-Encoding", "chunked"))
    await conn.send(head(200, fields) + chunk(b'{"object":"list","data":['))
    while True:
        await conn.send(chunk(b"0.0,"))
        await asyncio.sleep(s.chunk_interval)


async def _silent(
    conn: Connection, request: Request, reply: Reply, s: Settings
) -> bool:
    await conn.wait_for_peer_to_leave()
    return False


async def _models_404(
    conn: Connection, request: Request, reply: Reply, s: Settings
) -> bool:
    missing = error(
        404, f"Unknown path {request.path}", "invalid_request_error", "not_found"
    )
    await send_reply(conn, missing)
    return True


async def _garbage(
    conn: Connection, request: Request, reply: Reply, s: Settings
) -> bool:
    await conn.send(garbage(s.garbage_bytes))
    return False


def _padded(reply: Reply, s: Settings) -> Padded:
    """``reply``'s body (or first event) with a ``padding`` string of ``body_size`` bytes."""
    if reply.text is not None:
        return Padded(reply.text.encode(), b"x", s.body_size, b"")
    if reply.streaming:
        first, _ = _first_event(reply)
        data = json_bytes(first, reply.raw_fragments)
        return Padded(
            b"data: " + data[:-1] + b',"padding":"', b"x", s.body_size, b'"}\n\n'
        )
    data = json_bytes(_document(reply), reply.raw_fragments)
    return Padded(data[:-1] + b',"padding":"', b"x", s.body_size, b'"}')


async def _huge_body(
    conn: Connection, request: Request, reply: Reply, s: Settings
) -> bool:
    padded = _padded(reply, s)
    if reply.streaming:
        await conn.send(reply_head(reply) + f"{padded.length:x}\r\n".encode())
        for piece in padded.pieces():
            await conn.send(piece)
        await conn.send(b"\r\n")
        for piece in event_chunks(replace(reply, events=_first_event(reply)[1])):
            await conn.send(piece)
        return False
    await conn.send(_without_framing(reply, ("Content-Length", str(padded.length))))
    for piece in padded.pieces():
        await conn.send(piece)
    return False


def bomb_for(reply: Reply, s: Settings) -> bytes:
    """``reply``'s body as a gzip bomb: ``body_size`` spaces where JSON allows them."""
    if reply.text is not None:
        return gzip_bomb(b"", b" ", s.body_size, reply.text.encode())
    if reply.streaming:
        # An SSE comment line (WHATWG HTML §9.2.6) of spaces, then the real events.
        events = b"".join(sse_bytes(e, reply.raw_fragments) for e in reply.events or ())
        return gzip_bomb(b":", b" ", s.body_size, b"\n\n" + events + DONE)
    data = json_bytes(_document(reply), reply.raw_fragments)
    return gzip_bomb(
        b"{", b" ", s.body_size, data[1:]
    )  # insignificant whitespace (RFC 8259 §2)


async def _gzip_bomb(
    conn: Connection, request: Request, reply: Reply, s: Settings
) -> bool:
    bomb = bomb_for(reply, s)
    fields = (("Content-Encoding", "gzip"), ("Content-Length", str(len(bomb))))
    await conn.send(_without_framing(reply, *fields) + bomb)
    return True


def filler_fields(size: int) -> tuple[tuple[str, str], ...]:
    """About ``size`` bytes of header fields (each line 128 bytes with its CRLF)."""
    count = max(1, size // 128)
    return tuple((f"X-Filler-{i:05d}", "f" * 111) for i in range(count))


async def _huge_headers(
    conn: Connection, request: Request, reply: Reply, s: Settings
) -> bool:
    await send_reply(conn, reply.with_fields(*filler_fields(s.header_bytes)))
    return True


async def _big_headers(
    conn: Connection, request: Request, reply: Reply, s: Settings
) -> bool:
    await send_reply(conn, reply.with_fields(*filler_fields(s.big_header_bytes)))
    return True


async def _reset(conn: Connection, request: Request, reply: Reply, s: Settings) -> bool:
    data = wire_bytes(reply)
    await conn.send(data[: len(data) // 2])
    await conn.reset()
    return False


async def _short_body(
    conn: Connection, request: Request, reply: Reply, s: Settings
) -> bool:
    data = wire_bytes(reply)
    await conn.send(data[: len(data) // 2])
    await conn.close()
    return False


async def _bad_utf8_json(
    conn: Connection, request: Request, reply: Reply, s: Settings
) -> bool:
    if reply.streaming or reply.text is not None:
        await send_reply(conn, reply)
        return True
    body = _spoil_first_string(json_bytes(_document(reply), reply.raw_fragments))
    await conn.send(_without_framing(reply, ("Content-Length", str(len(body)))) + body)
    return True


async def _bad_utf8_sse(
    conn: Connection, request: Request, reply: Reply, s: Settings
) -> bool:
    if not reply.streaming:
        await send_reply(conn, reply)
        return True
    await conn.send(reply_head(reply))
    for event in reply.events or ():
        data = _spoil_first_string(json_bytes(event, reply.raw_fragments))
        await conn.send(chunk(b"data: " + data + b"\n\n"))
    await conn.send(chunk(DONE) + chunk(b""))
    return True


_FLOOD_PIECE = b"x" * (64 * 1024)


async def _flood(conn: Connection, request: Request, reply: Reply, s: Settings) -> bool:
    # No Content-Length, no chunking: the body ends when the connection does (RFC 9112 §6.3).
    start = b'data: {"padding":"' if reply.streaming else b'{"padding":"'
    await conn.send(_without_framing(reply, ("Connection", "close")) + start)
    while True:
        await conn.send(_FLOOD_PIECE)


async def _sse_endless_line(
    conn: Connection, request: Request, reply: Reply, s: Settings
) -> bool:
    if not reply.streaming:
        await send_reply(conn, reply)
        return True
    first, _ = _first_event(reply)
    await conn.send(reply_head(reply) + chunk(sse_bytes(first, reply.raw_fragments)))
    await conn.send(chunk(b'data: {"id":"endless","choices":[{"index":0,"text":"'))
    piece = chunk(_FLOOD_PIECE)
    while True:
        await conn.send(piece)


async def _deep_json(
    conn: Connection, request: Request, reply: Reply, s: Settings
) -> bool:
    nested = deep_json(s.depth)
    if reply.streaming:
        first, _ = _first_event(reply)
        data = json_bytes(first, reply.raw_fragments)
        event = b"data: " + data[:-1] + b',"nested":' + nested + b"}\n\n"
        await conn.send(reply_head(reply) + chunk(event) + chunk(DONE) + chunk(b""))
        return True
    data = json_bytes(_document(reply), reply.raw_fragments)
    body = data[:-1] + b',"nested":' + nested + b"}"
    await conn.send(_without_framing(reply, ("Content-Length", str(len(body)))) + body)
    return True


async def _continue_flood(
    conn: Connection, request: Request, reply: Reply, s: Settings
) -> bool:
    # Interim 1xx answers may come in any number before the final one (RFC 9110 §15.2).
    interim = head(100, ())
    while True:
        await conn.send(interim)
        await asyncio.sleep(s.continue_interval)


async def _redirect_loop(
    conn: Connection, request: Request, reply: Reply, s: Settings
) -> bool:
    fields = (("Location", request.target), ("Content-Length", "0"))
    await conn.send(head(307, fields))
    return True


async def _retry_after_forever(
    conn: Connection, request: Request, reply: Reply, s: Settings
) -> bool:
    limited = error(
        429, "Rate limit exceeded", "rate_limit_error", "rate_limit_exceeded"
    )
    await send_reply(conn, limited.with_fields(("Retry-After", "2147483647")))
    return True


async def _close_at_once(conn: Connection, s: Settings) -> None:
    await conn.close()


async def _never_answer(conn: Connection, s: Settings) -> None:
    await conn.wait_for_peer_to_leave()


_ALL_MODES = (
    Mode(
        "normal",
        "well-behaved: the API as documented, for comparison",
        Target.ALL,
        _normal,
    ),
    Mode(
        "echo-auth",
        "echoes the Authorization value (and the key) in fields and bodies: plain, base64 "
        "std/URL-safe with and without padding and inside longer base64 at 3 alignments, "
        "%XX upper/lower, \\u-escaped upper/lower, hex upper/lower",
        Target.ALL,
        _echo_auth,
    ),
    Mode(
        "trickle",
        "sends the whole answer, head included, 1 byte per second",
        Target.ENDPOINTS,
        _trickle,
    ),
    Mode(
        "slow-headers",
        "status line at once, then the header fields 1 byte per second, then the body",
        Target.ENDPOINTS,
        _slow_headers,
    ),
    Mode(
        "endless-stream",
        "SSE chunks every 50 ms forever on completions and chat, stream or not; other endpoints: a chunked JSON body that never ends",
        Target.ENDPOINTS,
        _endless_stream,
    ),
    Mode("silent", "reads the request and never answers", Target.ENDPOINTS, _silent),
    Mode(
        "silent-models",
        "GET /v1/models (and /v1/models/{id}) never answers; the endpoints behave",
        Target.DISCOVERY,
        _silent,
    ),
    Mode(
        "models-404",
        "GET /v1/models (and /v1/models/{id}) is 404 not_found; the endpoints behave",
        Target.DISCOVERY,
        _models_404,
    ),
    Mode(
        "no-accept",
        "listens (backlog 0) but never accepts a connection",
        Target.LISTENER,
    ),
    Mode(
        "close-immediately",
        "accepts each connection and closes it at once, reading nothing",
        Target.CONNECTION,
        on_connect=_close_at_once,
    ),
    Mode(
        "tls-stall",
        "TLS listener: accepts, reads the ClientHello, never answers it (needs TLS)",
        Target.CONNECTION,
        on_connect=_never_answer,
        tls_only=True,
    ),
    Mode(
        "garbage",
        "answers 4 KiB of non-HTTP bytes, then closes",
        Target.ENDPOINTS,
        _garbage,
    ),
    Mode(
        "huge-body",
        "a valid JSON answer padded to 1 GiB (a padding string), made on the fly, with its true Content-Length",
        Target.ENDPOINTS,
        _huge_body,
        large=True,
    ),
    Mode(
        "gzip-bomb",
        "~1 MB gzip (Content-Encoding: gzip) inflating to 1 GiB of valid JSON (whitespace) or SSE (a comment line)",
        Target.ENDPOINTS,
        _gzip_bomb,
        large=True,
    ),
    Mode(
        "huge-headers",
        "~128 KiB of header fields (past the 100 KiB h11 reads) before a normal body",
        Target.ENDPOINTS,
        _huge_headers,
    ),
    Mode(
        "big-headers",
        "~96 KiB of header fields (under what h11 accepts, over a 64 KiB cap) before a normal body",
        Target.ENDPOINTS,
        _big_headers,
    ),
    Mode(
        "reset",
        "sends half the answer, then resets the connection (SO_LINGER 0)",
        Target.ENDPOINTS,
        _reset,
    ),
    Mode(
        "short-body",
        "sends half the answer (Content-Length promises all of it), then closes normally",
        Target.ENDPOINTS,
        _short_body,
    ),
    Mode(
        "bad-utf8-json",
        "JSON bodies with invalid UTF-8 bytes inside a string; streams behave",
        Target.ENDPOINTS,
        _bad_utf8_json,
    ),
    Mode(
        "bad-utf8-sse",
        "SSE data lines with invalid UTF-8 bytes inside a string; JSON bodies behave",
        Target.ENDPOINTS,
        _bad_utf8_sse,
    ),
    Mode(
        "flood",
        "200 without Content-Length or chunking, then an endless body at full speed",
        Target.ENDPOINTS,
        _flood,
        large=True,
    ),
    Mode(
        "sse-endless-line",
        "streams: one event, then a data line that never ends, at full speed; JSON bodies behave",
        Target.ENDPOINTS,
        _sse_endless_line,
        large=True,
    ),
    Mode(
        "deep-json",
        "valid JSON answers carrying 1,000,000 nested arrays",
        Target.ENDPOINTS,
        _deep_json,
    ),
    Mode(
        "continue-flood",
        "100 Continue interim answers forever (100 a second), never a final one",
        Target.ENDPOINTS,
        _continue_flood,
    ),
    Mode(
        "redirect-loop",
        "307 to the same URL, every time",
        Target.ENDPOINTS,
        _redirect_loop,
    ),
    Mode(
        "retry-after-forever",
        "429 rate_limit_exceeded with Retry-After: 2147483647",
        Target.ENDPOINTS,
        _retry_after_forever,
    ),
)

MODES: Mapping[str, Mode] = {m.name: m for m in _ALL_MODES}
