"""Server-sent event streams of the text endpoints, read from the real server.

"Streaming returns text/event-stream with OpenAI-format chunks" (spec/completions.txt):
data-only events of one-line JSON, one identity for the whole stream, ``finish_reason``
null until a choice's last chunk, one final ``data: [DONE]``; with
``stream_options.include_usage`` one usage chunk with empty ``choices`` just before it
(protocol-facts §1.4). The latency model (``--ttft``, ``--itl``) paces the tokens.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from qbtsuite.server.textgen import TextGenerator
from qbtsuite.target.embedded import EmbeddedServer, ServerTarget
from tests.conftest import client_for
from tests.server.apicheck import StreamRead, expect_error, expect_ok, read_stream

CHAT: dict[str, Any] = {
    "model": "Qwen3-32B",
    "messages": [{"role": "user", "content": "stream to me"}],
}
COMPLETION: dict[str, Any] = {
    "model": "Qwen3-32B",
    "prompt": "stream to me",
    "max_tokens": 40,
}
# path → (base body, chunk object, whether choices carry ``delta``)
ENDPOINTS: dict[str, tuple[dict[str, Any], str, bool]] = {
    "chat/completions": (CHAT, "chat.completion.chunk", True),
    "completions": (COMPLETION, "text_completion", False),
}


def stream(api: httpx.Client, path: str, **fields: Any) -> StreamRead:
    body = {**ENDPOINTS[path][0], "stream": True, **fields}
    result = read_stream(api, path, body)
    assert result.status == 200, f"Received: {result.status} {result.body[:300]!r}"
    return result


def whole(api: httpx.Client, path: str, **fields: Any) -> dict[str, Any]:
    return expect_ok(api.post(path, json={**ENDPOINTS[path][0], **fields}))


def whole_texts(body: dict[str, Any], chat: bool) -> list[str]:
    return [c["message"]["content"] if chat else c["text"] for c in body["choices"]]


def content_chunks(read: StreamRead, chat: bool) -> list[int]:
    """Positions (in ``read.payloads``) of chunks that carry generated text."""
    found = []
    for i, payload in enumerate(read.payloads):
        if payload == "[DONE]":
            continue
        for choice in json.loads(payload)["choices"]:
            piece = choice["delta"].get("content") if chat else choice["text"]
            if piece:
                found.append(i)
    return found


@pytest.mark.parametrize("path", sorted(ENDPOINTS))
def test_a_stream_is_text_event_stream(api: httpx.Client, path: str) -> None:
    read = stream(api, path)
    media = read.headers.get("content-type", "").split(";")[0].strip()
    assert media == "text/event-stream", f"Received: Content-Type {media!r}"
    assert "no-cache" in read.headers.get("cache-control", "")


@pytest.mark.parametrize("path", sorted(ENDPOINTS))
def test_every_event_is_one_data_line_of_json_and_done_comes_once_last(
    api: httpx.Client, path: str
) -> None:
    read = stream(api, path, n=2, stream_options={"include_usage": True})
    assert read.payloads.count("[DONE]") == 1, "Expected exactly one [DONE]"
    assert read.payloads[-1] == "[DONE]", "Expected [DONE] as the last event"
    assert read.body.endswith(b"data: [DONE]\n\n")
    assert len(read.chunks) == len(read.payloads) - 1  # every other payload is JSON
    for chunk in read.chunks:
        assert isinstance(chunk, dict) and isinstance(chunk["choices"], list)


@pytest.mark.parametrize("path", sorted(ENDPOINTS))
def test_every_chunk_repeats_the_same_id_created_model_and_object(
    api: httpx.Client, path: str
) -> None:
    _, obj, _ = ENDPOINTS[path]
    read = stream(api, path, n=2, stream_options={"include_usage": True})
    identities = {(c["id"], c["created"], c["model"], c["object"]) for c in read.chunks}
    assert len(identities) == 1, f"Received: {sorted(identities)}"
    [(_, created, model, got_obj)] = identities
    assert model == ENDPOINTS[path][0]["model"]
    assert got_obj == obj
    assert isinstance(created, int)


@pytest.mark.parametrize("path", sorted(ENDPOINTS))
@pytest.mark.parametrize("fields", [{}, {"max_tokens": 3}, {"n": 3}, {"max_tokens": 0}])
def test_finish_reason_is_null_until_each_choices_last_chunk(
    api: httpx.Client, path: str, fields: dict[str, Any]
) -> None:
    read = stream(api, path, **fields)
    expected = whole(api, path, **fields)["choices"]
    for index, want in enumerate(expected):
        mine = [
            choice
            for chunk in read.chunks
            for choice in chunk["choices"]
            if choice["index"] == index
        ]
        assert mine, f"Received: no chunk for choice {index}"
        reasons = [c["finish_reason"] for c in mine]
        assert all(r is None for r in reasons[:-1]), f"Received: {reasons}"
        assert reasons[-1] == want["finish_reason"], (
            f"Received: {reasons[-1]!r} / Expected: {want['finish_reason']!r}"
        )


@pytest.mark.parametrize("path", sorted(ENDPOINTS))
def test_include_usage_adds_one_usage_chunk_with_empty_choices_before_done(
    api: httpx.Client, path: str
) -> None:
    read = stream(api, path, n=2, stream_options={"include_usage": True})
    chunks = read.chunks
    with_usage = [i for i, c in enumerate(chunks) if c.get("usage") is not None]
    assert with_usage == [len(chunks) - 1], (
        f"Received: usage on chunks {with_usage} of {len(chunks)} / Expected: "
        "exactly one, the last before [DONE]"
    )
    final = chunks[-1]
    assert final["choices"] == []
    for chunk in chunks[:-1]:
        assert "usage" in chunk and chunk["usage"] is None, f"Received: {chunk}"
    usage = final["usage"]
    assert usage == whole(api, path, n=2)["usage"], "Expected the non-streamed usage"
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


@pytest.mark.parametrize("path", sorted(ENDPOINTS))
def test_streamed_completion_tokens_equal_the_pieces_streamed(
    api: httpx.Client, path: str
) -> None:
    chat = ENDPOINTS[path][2]
    read = stream(api, path, n=2, stream_options={"include_usage": True})
    pieces = sum(
        1
        for chunk in read.chunks
        for choice in chunk["choices"]
        if (choice["delta"].get("content") if chat else choice["text"])
    )
    assert read.chunks[-1]["usage"]["completion_tokens"] == pieces


@pytest.mark.parametrize("path", sorted(ENDPOINTS))
def test_without_include_usage_no_chunk_carries_usage(
    api: httpx.Client, path: str
) -> None:
    read = stream(api, path)
    assert all(c.get("usage") is None for c in read.chunks)
    assert all(c["choices"] for c in read.chunks), "Expected no empty-choices chunk"


@pytest.mark.parametrize("path", sorted(ENDPOINTS))
@pytest.mark.parametrize(
    "fields",
    [{}, {"n": 2}, {"max_tokens": 4}, {"n": 2, "stop": [" the", "."]}],
)
def test_the_streamed_text_equals_the_non_streamed_text(
    api: httpx.Client, path: str, fields: dict[str, Any]
) -> None:
    chat = ENDPOINTS[path][2]
    expected = whole_texts(whole(api, path, **fields), chat)
    read = stream(api, path, **fields)
    got = [read.text_of(i, chat) for i in range(len(expected))]
    assert got == expected, f"Received: {got} / Expected: {expected}"
    indexes = {ch["index"] for c in read.chunks for ch in c["choices"]}
    assert indexes == set(range(len(expected))), f"Received indexes {indexes}"


def test_each_streamed_chat_choice_starts_with_the_assistant_role(
    api: httpx.Client,
) -> None:
    read = stream(api, "chat/completions", n=2)
    for index in (0, 1):
        deltas = [
            ch["delta"]
            for c in read.chunks
            for ch in c["choices"]
            if ch["index"] == index
        ]
        assert deltas[0].get("role") == "assistant", f"Received: {deltas[0]}"
        assert all("role" not in d for d in deltas[1:]), "Expected the role only once"


def test_a_completion_stream_of_a_prompt_array_streams_every_choice(
    api: httpx.Client,
) -> None:
    read = stream(api, "completions", prompt=["one", "two"], n=2)
    expected = whole_texts(whole(api, "completions", prompt=["one", "two"], n=2), False)
    assert [read.text_of(i, False) for i in range(4)] == expected


@pytest.mark.parametrize("path", sorted(ENDPOINTS))
def test_an_invalid_stream_request_is_a_json_error_not_a_stream(
    api: httpx.Client, path: str
) -> None:
    body = {**ENDPOINTS[path][0], "stream": True, "n": 0}
    expect_error(api.post(path, json=body), 400, "invalid_request", param="n")


# --- the latency model, on a server of its own --------------------------------------

TTFT, ITL = 0.2, 0.05
SLACK = 0.01  # timer granularity; the bounds below are the model's lower bounds


@pytest.fixture(scope="module")
def paced() -> Iterator[ServerTarget]:
    with EmbeddedServer(args=["--ttft", str(TTFT), "--itl", str(ITL)]) as target:
        yield target


def _long_prompt(model: str) -> tuple[str, int]:
    """A prompt whose reply is as long as replies get (29 tokens)."""
    generator = TextGenerator()
    for i in range(1000):
        prompt = f"pace {i}"
        pieces = len(generator.generate(model, prompt, 0, None).pieces)
        if pieces >= 29:
            return prompt, pieces
    raise AssertionError("no long reply found")


def test_tokens_are_paced_by_the_latency_model_and_arrive_incrementally(
    paced: ServerTarget,
) -> None:
    prompt, tokens = _long_prompt("Qwen3-32B")
    body = {"model": "Qwen3-32B", "prompt": prompt, "max_tokens": 100, "stream": True}
    with client_for(paced) as client:
        read = read_stream(client, "completions", body)
    assert read.status == 200
    positions = content_chunks(read, chat=False)
    assert len(positions) == tokens, f"Received: {len(positions)} content chunks"
    waits = [read.arrived[p] - read.sent_at for p in positions]
    # Token j is due ttft + j * itl after the request: never earlier.
    for j, wait in enumerate(waits):
        due = TTFT + j * ITL
        assert wait >= due - SLACK, (
            f"Received: token {j} after {wait:.3f}s / Expected: not before {due:.3f}s"
        )
    # Incremental, not buffered: the first token is there before the last is even due.
    last_due = TTFT + (tokens - 1) * ITL
    assert waits[0] < last_due, (
        f"Received: first token after {waits[0]:.3f}s / Expected: before the last "
        f"token is due ({last_due:.3f}s), i.e. not sent all at once"
    )


def test_a_non_streamed_reply_takes_as_long_as_generating_it(
    paced: ServerTarget,
) -> None:
    tokens = 10  # every reply is longer, so max_tokens fixes the length
    body = {"model": "Qwen3-32B", "prompt": "whole", "max_tokens": tokens}
    with client_for(paced) as client:
        started = time.monotonic()
        response = client.post("completions", json=body)
        took = time.monotonic() - started
    assert expect_ok(response)["usage"]["completion_tokens"] == tokens
    assert took >= TTFT + (tokens - 1) * ITL - SLACK, f"Received: {took:.3f}s"
