"""POST /v1/chat/completions: messages, choices, limits, usage (OpenAI-compatible).

The completions page says the same models "support chat completions"; the request
and response follow OpenAI's CreateChatCompletionRequest / ``chat.completion``.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from qbtsuite.server.textgen import count_tokens
from tests.server.apicheck import expect_error, expect_ok

MODEL = "Llama-3.1-8B-Instruct"
HELLO = [{"role": "user", "content": "hello there"}]


def chat(api: httpx.Client, **fields: Any) -> dict[str, Any]:
    body = {"model": MODEL, "messages": HELLO, **fields}
    return expect_ok(api.post("chat/completions", json=body))


def contents(body: dict[str, Any]) -> list[str]:
    return [c["message"]["content"] for c in body["choices"]]


def test_a_chat_reply_has_the_chat_completion_shape(api: httpx.Client) -> None:
    body = chat(api)
    assert body["object"] == "chat.completion"
    assert body["id"].startswith("chatcmpl-") and len(body["id"]) > len("chatcmpl-")
    assert isinstance(body["created"], int) and body["created"] > 1_700_000_000
    assert body["model"] == MODEL
    [choice] = body["choices"]
    assert set(choice) == {"index", "message", "logprobs", "finish_reason"}
    assert choice["index"] == 0
    assert choice["message"]["role"] == "assistant"
    assert (
        isinstance(choice["message"]["content"], str) and choice["message"]["content"]
    )
    assert choice["message"]["refusal"] is None
    assert choice["finish_reason"] == "stop"


def test_n_gives_n_choices_in_index_order(api: httpx.Client) -> None:
    body = chat(api, n=3)
    assert [c["index"] for c in body["choices"]] == [0, 1, 2]
    assert len(set(contents(body))) > 1, "Expected the choices of n=3 to differ"


def test_a_whole_conversation_with_every_role_is_accepted(api: httpx.Client) -> None:
    messages = [
        {"role": "developer", "content": "Be brief."},
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": [{"type": "text", "text": "What is 2+2?"}]},
        {"role": "assistant", "content": None, "refusal": None},
        {"role": "tool", "content": "4", "tool_call_id": "call_1"},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "And this?"},
                {
                    "type": "image_url",
                    "image_url": {"url": "data:image/png;base64,AA=="},
                },
            ],
        },
    ]
    body = chat(api, messages=messages)
    assert contents(body)[0]


def test_the_reply_depends_on_the_conversation(api: httpx.Client) -> None:
    a = chat(api, messages=[{"role": "user", "content": "first question"}])
    b = chat(api, messages=[{"role": "user", "content": "second question"}])
    assert contents(a) != contents(b)


@pytest.mark.parametrize("field", ["max_tokens", "max_completion_tokens"])
@pytest.mark.parametrize("limit", [1, 3])
def test_a_token_limit_bounds_the_reply_and_reports_length(
    api: httpx.Client, field: str, limit: int
) -> None:
    body = chat(api, **{field: limit})
    [choice] = body["choices"]
    assert choice["finish_reason"] == "length", f"Received: {choice}"
    assert body["usage"]["completion_tokens"] <= limit
    assert count_tokens(choice["message"]["content"]) <= limit


def test_without_a_limit_the_reply_ends_naturally(api: httpx.Client) -> None:
    body = chat(api)
    assert body["choices"][0]["finish_reason"] == "stop"
    assert contents(body)[0].endswith(".")


def test_a_stop_string_ends_the_content_before_it(api: httpx.Client) -> None:
    full = contents(chat(api))[0]
    stop = " " + full.split()[2]
    body = chat(api, stop=stop)
    assert contents(body) == [full[: full.find(stop)]]
    assert stop not in contents(body)[0]
    assert body["choices"][0]["finish_reason"] == "stop"


def test_the_same_request_gives_the_same_content(api: httpx.Client) -> None:
    first, second = chat(api, n=2, temperature=0.2), chat(api, n=2, temperature=0.2)
    assert contents(first) == contents(second)
    assert first["id"] != second["id"]


def test_temperature_and_top_p_are_accepted(api: httpx.Client) -> None:
    assert contents(chat(api, temperature=2, top_p=0.1))[0]


def test_usage_adds_up_and_counts_the_messages(api: httpx.Client) -> None:
    messages = [
        {"role": "system", "content": "Answer in one line."},
        {"role": "user", "content": "Why is the sky blue?"},
    ]
    body = chat(api, messages=messages, n=2)
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    # The server's rule: content tokens + 4 per message for role and separators.
    expected_prompt = sum(count_tokens(m["content"]) + 4 for m in messages)
    assert usage["prompt_tokens"] == expected_prompt
    assert usage["completion_tokens"] == sum(count_tokens(c) for c in contents(body))


@pytest.mark.parametrize(
    ("messages", "param"),
    [
        (None, "messages"),
        ([], "messages"),
        ("hello", "messages"),
        ({"role": "user", "content": "hi"}, "messages"),
        ([5], "messages[0]"),
        ([{"content": "hi"}], "messages[0].role"),
        ([{"role": "wizard", "content": "hi"}], "messages[0].role"),
        ([{"role": "user"}], "messages[0].content"),
        ([{"role": "user", "content": 5}], "messages[0].content"),
        ([{"role": "user", "content": []}], "messages[0].content"),
        ([{"role": "user", "content": [5]}], "messages[0].content"),
        ([{"role": "user", "content": [{"type": "text"}]}], "messages[0].content"),
        (
            [{"role": "user", "content": "ok"}, {"role": "system", "content": None}],
            "messages[1].content",
        ),
    ],
)
def test_missing_or_invalid_messages_are_400_naming_the_field(
    api: httpx.Client, messages: object, param: str
) -> None:
    body: dict[str, Any] = {"model": MODEL, "messages": messages}
    if messages is None:
        del body["messages"]
    response = api.post("chat/completions", json=body)
    expect_error(response, 400, "invalid_request", "invalid_request_error", param)
