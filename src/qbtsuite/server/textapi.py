"""What /v1/completions and /v1/chat/completions share: options, generation, streaming."""

from __future__ import annotations

import itertools
import secrets
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, NamedTuple

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from qbtsuite.modelcatalog import Category
from qbtsuite.server.apierrors import ApiError, error_body
from qbtsuite.server.bodies import Body, invalid, resolve_model
from qbtsuite.server.gate import ensure_funds
from qbtsuite.server.jsonresp import json_response
from qbtsuite.server.keys import Account
from qbtsuite.server.pacing import Pacer
from qbtsuite.server.parts import Parts
from qbtsuite.server.reqheaders import header
from qbtsuite.server.sseframes import SSE_HEADERS
from qbtsuite.server.textgen import Generation

__all__ = [
    "TextOptions",
    "TextReply",
    "generate",
    "identity",
    "paced_steps",
    "read_options",
    "respond",
]


class TextOptions(NamedTuple):
    """The validated options both text endpoints accept."""

    model: str
    n: int
    max_tokens: int | None
    stop: list[str]
    stream: bool
    include_usage: bool


# Accepted and checked, but nothing in a deterministic reply depends on them.
_PASSTHROUGH: dict[str, Callable[[Body, str], object]] = {
    "temperature": lambda body, name: body.optional_number(name, 0.0, 2.0),
    "top_p": lambda body, name: body.optional_number(name, 0.0, 1.0),
    "presence_penalty": lambda body, name: body.optional_number(name, -2.0, 2.0),
    "frequency_penalty": lambda body, name: body.optional_number(name, -2.0, 2.0),
    "seed": lambda body, name: body.optional_int(name, None, -(2**63), 2**63 - 1),
    "user": lambda body, name: body.optional_str(name),
}


def read_options(parts: Parts, body: Body, default_max: int | None) -> TextOptions:
    """Validate the shared fields ("max_tokens, temperature, top_p, stop, etc.")."""
    model = body.required_str("model")
    data = body.data
    n = body.optional_int("n", 1, 1, 128)
    max_tokens = body.optional_int("max_tokens", default_max, 0)
    if body.has("max_completion_tokens"):
        max_tokens = body.optional_int("max_completion_tokens", default_max, 0)
    if not data.keys().isdisjoint(_PASSTHROUGH):  # most requests send none
        for name, check in _PASSTHROUGH.items():
            if name in data:
                check(body, name)
    stop = body.stop_sequences()
    stream = body.optional_bool("stream")
    options = body.optional_object("stream_options")
    include_usage = options.get("include_usage", False)
    if not isinstance(include_usage, bool):
        raise invalid(
            "Invalid type for 'stream_options.include_usage': expected a boolean",
            "stream_options.include_usage",
        )
    if options and not stream:
        raise invalid(
            "'stream_options' is only allowed when 'stream' is true", "stream_options"
        )
    resolve_model(parts, model, Category.TEXT)
    assert n is not None
    return TextOptions(model, n, max_tokens, stop, stream, include_usage)


class TextReply(NamedTuple):
    """Generated choices for one request, with the identity every chunk repeats."""

    id: str
    created: int
    model: str
    prompt_tokens: int
    choices: list[Generation]
    completion_tokens: int  # every choice's pieces, as metered


# The chunks of a streamed reply, before framing (each endpoint has its own shape).
Chunks = Callable[[Parts, TextReply], AsyncIterator[dict[str, Any]]]

# Reply ids need to be unique, not secret: a random prefix per server process and a
# counter (24 hex digits) cost neither a getrandom() call nor a PRNG draw per request.
_ID_RUN = f"{secrets.randbits(48):012x}"
_ids = itertools.count()


def generate(
    parts: Parts,
    options: TextOptions,
    prompts: list[str],
    prompt_tokens: int,
    id_prefix: str,
) -> TextReply:
    """Choices for every prompt × ``n``, in OpenAI's index order."""
    model, max_tokens, stop = options.model, options.max_tokens, options.stop
    make = parts.textgen.generate
    choices = [
        make(model, prompt, i, max_tokens, stop)
        for prompt in prompts
        for i in range(options.n)
    ]
    return TextReply(
        f"{id_prefix}-{_ID_RUN}{next(_ids):012x}",
        int(time.time()),
        options.model,
        prompt_tokens,
        choices,
        sum([len(c.pieces) for c in choices]),
    )


def charge(parts: Parts, account: Account, reply: TextReply) -> None:
    """Meter input + output tokens ("Metered per token (input + output)")."""
    tokens = reply.prompt_tokens + reply.completion_tokens
    account.charge(tokens * parts.keys.pricing.token)


async def respond(
    request: Request,
    parts: Parts,
    account: Account,
    options: TextOptions,
    reply: TextReply,
    *,
    whole: Callable[[TextReply], dict[str, Any]],
    pieces: Chunks,
    chunk_object: str,
) -> Response:
    """The JSON reply, or the SSE stream when ``stream`` is true."""
    ensure_funds(account)
    if options.stream:
        if header(request, b"x-qbtsuite-simulate") == "stream_error":
            pieces = interrupted_after_first(pieces)
        return stream_reply(parts, account, options, reply, pieces, chunk_object)
    latency = parts.settings.latency
    if latency.ttft > 0 or latency.itl > 0:  # else nothing is ever due later
        await Pacer(latency).whole(
            max((len(c.pieces) for c in reply.choices), default=0)
        )
    charge(parts, account, reply)
    body = whole(reply)
    body["usage"] = parts.usage(reply.prompt_tokens, reply.completion_tokens)
    return json_response(body)


def stream_reply(
    parts: Parts,
    account: Account,
    options: TextOptions,
    reply: TextReply,
    pieces: Chunks,
    chunk_object: str,
) -> StreamingResponse:
    """Data-only SSE: the chunks, the optional usage chunk, then ``[DONE]``."""
    framer = parts.framer

    async def events() -> AsyncIterator[bytes]:
        try:
            async for chunk in pieces(parts, reply):
                if options.include_usage:
                    chunk["usage"] = None
                yield framer.event(orjson.dumps(chunk))
        except UpstreamInterrupted as exc:
            # An error after the stream started: one data event holding the envelope.
            yield framer.event(error_body(exc.error))
            yield framer.done()
            return
        charge(parts, account, reply)
        if options.include_usage:
            usage = parts.usage(reply.prompt_tokens, reply.completion_tokens)
            final = {**identity(reply, chunk_object), "choices": [], "usage": usage}
            yield framer.event(orjson.dumps(final))
        yield framer.done()

    return StreamingResponse(
        events(), media_type=framer.media_type, headers=SSE_HEADERS
    )


class UpstreamInterrupted(Exception):
    """The (simulated) upstream broke off a stream after it had started."""

    def __init__(self) -> None:
        super().__init__("upstream interrupted")
        self.error = ApiError(
            502, "upstream_error", "Upstream stream interrupted (simulated)"
        )


def interrupted_after_first(pieces: Chunks) -> Chunks:
    """``pieces`` that break off after the first chunk (``X-Qbtsuite-Simulate:
    stream_error``, the reference server's test hook for mid-stream errors)."""

    async def cut(parts: Parts, reply: TextReply) -> AsyncIterator[dict[str, Any]]:
        async for chunk in pieces(parts, reply):
            yield chunk
            raise UpstreamInterrupted

    return cut


def identity(reply: TextReply, obj: str) -> dict[str, Any]:
    """The fields every object of one reply repeats: id, object, created, model."""
    return {
        "id": reply.id,
        "object": obj,
        "created": reply.created,
        "model": reply.model,
    }


async def paced_steps(
    parts: Parts, reply: TextReply
) -> AsyncIterator[tuple[int, int, str | None, str | None]]:
    """Yield ``(choice, step, piece, finish_reason)`` as the latency model releases them.

    All choices advance together: token ``step`` of every choice is due at
    ``ttft + step * itl``. The finish marker follows a choice's last piece at once.
    """
    pacer = Pacer(parts.settings.latency)
    longest = max((len(c.pieces) for c in reply.choices), default=0)
    for step in range(max(longest, 1)):
        await pacer.until_step(step)
        for index, choice in enumerate(reply.choices):
            if step < len(choice.pieces):
                yield index, step, choice.pieces[step], None
            if step == max(len(choice.pieces) - 1, 0):
                yield index, step, None, choice.finish_reason
