"""Builders for check tests: responses, error envelopes and SSE streams, no network.

``passes(check, ...)`` and ``fails(check, ...)`` are the only way the check tests call
checks; ``test_registry`` reads the test sources to prove every registered check has
at least one of each.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import httpx
import pytest

from qbtsuite.errors import CheckFailure
from qbtsuite.sse import SSEStream, parse_stream

__all__ = [
    "chat_chunk",
    "chat_stream",
    "completion_chunk",
    "error_response",
    "fails",
    "json_response",
    "passes",
    "response",
    "sse",
]


def passes(check: Callable[..., object], *args: Any, **kwargs: Any) -> None:
    """Call ``check``; it must return None without raising."""
    result = check(*args, **kwargs)
    assert result is None


def fails(check: Callable[..., None], *args: Any, **kwargs: Any) -> CheckFailure:
    """Call ``check``; it must raise a CheckFailure, which is returned for inspection."""
    with pytest.raises(CheckFailure) as caught:
        check(*args, **kwargs)
    failure = caught.value
    assert failure.title and failure.received and failure.expected
    assert str(failure).startswith(failure.title)
    return failure


def response(
    status: int = 200,
    content: bytes | str = b"",
    content_type: str | None = None,
    headers: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
    url: str = "https://gateway.test/v1/models",
) -> httpx.Response:
    """A read ``httpx.Response`` with the given status, body and headers."""
    all_headers = list(
        headers.items() if isinstance(headers, Mapping) else (headers or [])
    )
    if content_type is not None:
        all_headers.append(("content-type", content_type))
    body = content.encode() if isinstance(content, str) else content
    return httpx.Response(
        status,
        headers=all_headers,
        content=body,
        request=httpx.Request("GET", url),
    )


def json_response(
    body: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> httpx.Response:
    return response(status, json.dumps(body), "application/json", headers)


def error_response(
    status: int,
    code: str | None,
    error_type: str = "invalid_request_error",
    message: str = "Something was wrong",
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> httpx.Response:
    """A response in the documented envelope (``param`` null unless overridden)."""
    error = {"message": message, "type": error_type, "param": None, "code": code}
    error.update(extra)
    return json_response({"error": error}, status, headers)


def sse(
    data: bytes | str | Iterable[bytes | str], times: Sequence[float] | None = None
) -> SSEStream:
    """Parse ``data`` (one body, or chunks with ``times`` as their arrival times).

    Without ``times`` the events have no arrival times.
    """
    pieces = [data] if isinstance(data, bytes | str) else list(data)
    raw = [p.encode() if isinstance(p, str) else p for p in pieces]
    stamps: list[float | None] = list(times) if times is not None else [None] * len(raw)
    return parse_stream(zip(raw, stamps, strict=True))


IDENTITY = {"id": "chatcmpl-1", "created": 1735689600, "model": "m"}


def chat_chunk(
    delta: Mapping[str, Any] | None,
    finish: str | None = None,
    index: int = 0,
    **fields: Any,
) -> dict[str, Any]:
    """One chat chunk; ``delta=None`` makes the include_usage chunk (no choices)."""
    chunk: dict[str, Any] = {**IDENTITY, "object": "chat.completion.chunk"}
    if delta is None:
        chunk["choices"] = []
    else:
        chunk["choices"] = [
            {
                "index": index,
                "delta": dict(delta),
                "logprobs": None,
                "finish_reason": finish,
            }
        ]
    chunk.update(fields)
    return chunk


def completion_chunk(
    text: str, finish: str | None = None, index: int = 0
) -> dict[str, Any]:
    return {
        **IDENTITY,
        "id": "cmpl-1",
        "object": "text_completion",
        "choices": [
            {"index": index, "text": text, "logprobs": None, "finish_reason": finish}
        ],
    }


def frame(chunk: Mapping[str, Any]) -> str:
    return f"data: {json.dumps(chunk)}\n\n"


def chat_stream(
    pieces: Sequence[str] = ("Hel", "lo", " there", "!"),
    *,
    usage: Mapping[str, int] | None = None,
    done: str = "data: [DONE]\n\n",
    finish: str = "stop",
) -> str:
    """A canonical chat stream: role chunk, content chunks, finish chunk, [usage], [DONE]."""
    chunks = [chat_chunk({"role": "assistant", "content": pieces[0]})]
    chunks += [chat_chunk({"content": p}) for p in pieces[1:]]
    chunks.append(chat_chunk({}, finish))
    if usage is not None:
        chunks = [{**c, "usage": None} for c in chunks]
        chunks.append(chat_chunk(None, usage=dict(usage)))
    return "".join(frame(c) for c in chunks) + done
