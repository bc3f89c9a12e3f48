"""POST /v1/completions: legacy text completions (spec/completions.txt)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from qbtsuite.server.bodies import Body, invalid, read_json
from qbtsuite.server.gate import admit
from qbtsuite.server.parts import Parts, parts_of
from qbtsuite.server.textapi import (
    TextReply,
    generate,
    identity,
    paced_steps,
    read_options,
    respond,
)
from qbtsuite.server.textgen import count_tokens

__all__ = ["create_completion"]

_OBJECT = "text_completion"  # streamed and whole replies share the shape


def _prompts(body: Body) -> tuple[list[str], int]:
    """``prompt``: "Single string or array"; token arrays are accepted as OpenAI does."""
    prompt = body.data.get("prompt")
    if prompt is None:
        raise invalid("Missing required field 'prompt'", "prompt")
    if isinstance(prompt, str):
        return [prompt], count_tokens(prompt)
    if isinstance(prompt, list) and prompt:
        if all(isinstance(p, str) for p in prompt):
            return prompt, sum(count_tokens(p) for p in prompt)
        if all(isinstance(t, int) and not isinstance(t, bool) for t in prompt):
            return [" ".join(map(str, prompt))], len(prompt)
    raise invalid(
        "Invalid type for 'prompt': expected a string or a non-empty array of strings",
        "prompt",
    )


async def create_completion(request: Request) -> Response:
    """Complete each prompt ``n`` times; SSE when ``stream`` is true."""
    parts = parts_of(request)
    account = admit(request, parts)
    body = await read_json(request, parts.settings.upload_cap)
    options = read_options(parts, body, default_max=16)
    prompts, prompt_tokens = _prompts(body)
    reply = generate(parts, options, prompts, prompt_tokens, "cmpl")
    return await respond(
        request,
        parts,
        account,
        options,
        reply,
        whole=_whole,
        pieces=_stream_chunks,
        chunk_object=_OBJECT,
    )


def _whole(reply: TextReply) -> dict[str, Any]:
    choices = [
        {"text": c.text, "index": i, "logprobs": None, "finish_reason": c.finish_reason}
        for i, c in enumerate(reply.choices)
    ]
    body = identity(reply, _OBJECT)
    body["choices"] = choices
    return body


async def _stream_chunks(
    parts: Parts, reply: TextReply
) -> AsyncIterator[dict[str, Any]]:
    base = identity(reply, _OBJECT)
    async for index, _step, piece, finish in paced_steps(parts, reply):
        choice = {
            "text": piece or "",
            "index": index,
            "logprobs": None,
            "finish_reason": finish,
        }
        yield {**base, "choices": [choice]}
