"""How a :class:`~tests.hostile.api.Reply` becomes bytes on the wire, when nothing is wrong.

A JSON or text reply gets its true ``Content-Length``; an SSE reply is chunked
(RFC 9112 §7.1), one event per chunk, ending with ``data: [DONE]``.
"""

from __future__ import annotations

import asyncio

from tests.hostile.api import Reply, body_of, sse_bytes
from tests.hostile.wire import Connection, chunk, head

__all__ = ["DONE", "event_chunks", "reply_head", "send_reply", "wire_bytes"]

DONE = b"data: [DONE]\n\n"
_EVENT_GAP = 0.005  # seconds between SSE events: a stream, not one buffered write


def reply_head(reply: Reply, *extra: tuple[str, str]) -> bytes:
    """The head of ``reply`` with its framing field (Content-Length or chunked)."""
    if reply.streaming:
        framing = ("Transfer-Encoding", "chunked")
    else:
        framing = ("Content-Length", str(len(body_of(reply))))
    return head(reply.status, (*reply.fields, *extra, framing))


def event_chunks(reply: Reply) -> list[bytes]:
    """Each SSE event of ``reply`` as one chunk, then ``[DONE]`` and the last chunk."""
    events = reply.events or ()
    chunks = [chunk(sse_bytes(e, reply.raw_fragments)) for e in events]
    return [*chunks, chunk(DONE), chunk(b"")]


def wire_bytes(reply: Reply) -> bytes:
    """All bytes of ``reply``, head and body."""
    if reply.streaming:
        return reply_head(reply) + b"".join(event_chunks(reply))
    return reply_head(reply) + body_of(reply)


async def send_reply(conn: Connection, reply: Reply) -> None:
    """Send ``reply`` as a well-behaved server would."""
    if not reply.streaming:
        await conn.send(wire_bytes(reply))
        return
    await conn.send(reply_head(reply))
    for piece in event_chunks(reply):
        await conn.send(piece)
        await asyncio.sleep(_EVENT_GAP)
