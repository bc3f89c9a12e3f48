"""POST /v1/chat/completions: chat completions (OpenAI-compatible)."""

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

__all__ = ["create_chat_completion"]

_ROLES = {"developer", "system", "user", "assistant", "tool", "function"}
_CONTENT_OPTIONAL = {"assistant", "function"}  # e.g. an assistant's tool call
_PER_MESSAGE_TOKENS = 4  # role and separators, as chat templates add


def _content_text(content: Any, where: str) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list) and content:
        texts = []
        for part in content:
            if not isinstance(part, dict) or not isinstance(part.get("type"), str):
                raise invalid(f"Invalid content part in '{where}'", where)
            if part["type"] == "text":
                if not isinstance(part.get("text"), str):
                    raise invalid(f"Missing 'text' in a text part of '{where}'", where)
                texts.append(part["text"])
        return " ".join(texts)
    raise invalid(
        f"Invalid type for '{where}': expected a string or an array of content parts",
        where,
    )


def _conversation(body: Body) -> tuple[str, int]:
    """The messages as one prompt, and its token count."""
    messages = body.data.get("messages")
    if messages is None:
        raise invalid("Missing required field 'messages'", "messages")
    if not isinstance(messages, list) or not messages:
        raise invalid(
            "Invalid type for 'messages': expected a non-empty array", "messages"
        )
    texts, tokens = [], 0
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            where = f"messages[{i}]"
            raise invalid(f"Invalid type for '{where}': expected an object", where)
        role = message.get("role")
        if role not in _ROLES:
            where = f"messages[{i}].role"
            raise invalid(f"Invalid value for '{where}'", where)
        content = message.get("content")
        if isinstance(content, str):  # the usual case: no part list to walk
            text = content
        elif content is None and role in _CONTENT_OPTIONAL:
            text = ""
        else:
            text = _content_text(content, f"messages[{i}].content")
        texts.append(f"{role}: {text}")
        tokens += count_tokens(text) + _PER_MESSAGE_TOKENS
    return "\n".join(texts), tokens


async def create_chat_completion(request: Request) -> Response:
    """Reply to the conversation ``n`` times; SSE when ``stream`` is true."""
    parts = parts_of(request)
    account = admit(request, parts)
    body = await read_json(request, parts.settings.upload_cap)
    options = read_options(parts, body, default_max=None)
    prompt, prompt_tokens = _conversation(body)
    reply = generate(parts, options, [prompt], prompt_tokens, "chatcmpl")
    return await respond(
        request,
        parts,
        account,
        options,
        reply,
        whole=_whole,
        pieces=_stream_chunks,
        chunk_object="chat.completion.chunk",
    )


def _whole(reply: TextReply) -> dict[str, Any]:
    choices = [
        {
            "index": i,
            "message": {"role": "assistant", "content": c.text, "refusal": None},
            "logprobs": None,
            "finish_reason": c.finish_reason,
        }
        for i, c in enumerate(reply.choices)
    ]
    body = identity(reply, "chat.completion")
    body["choices"] = choices
    return body


async def _stream_chunks(
    parts: Parts, reply: TextReply
) -> AsyncIterator[dict[str, Any]]:
    base = identity(reply, "chat.completion.chunk")

    def chunk(index: int, delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
        choice = {
            "index": index,
            "delta": delta,
            "logprobs": None,
            "finish_reason": finish,
        }
        return {**base, "choices": [choice]}

    async for index, step, piece, finish in paced_steps(parts, reply):
        if piece is not None:
            delta: dict[str, Any] = {"content": piece}
            if step == 0:
                delta = {"role": "assistant", "content": piece}
            yield chunk(index, delta, None)
        if finish is not None:
            if not reply.choices[index].pieces:
                yield chunk(index, {"role": "assistant", "content": ""}, None)
            yield chunk(index, {}, finish)
