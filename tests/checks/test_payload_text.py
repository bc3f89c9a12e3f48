"""Schema conformance, usage arithmetic and completion/chat semantics."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from qbtsuite.checks import (
    choices_count_is,
    completion_tokens_cover_output,
    completion_tokens_within_max,
    conforms_to_schema,
    content_type_is_json,
    finish_reason_is,
    id_has_prefix,
    model_is,
    response_conforms_to_schema,
    text_avoids_stop,
    usage_adds_up,
)

from .support import fails, json_response, passes, response


def completion(
    *texts: str, finish: str = "stop", completion_tokens: int = 3
) -> dict[str, Any]:
    return {
        "id": "cmpl-abc",
        "object": "text_completion",
        "created": 1735689600,
        "model": "gpt-oss-120b",
        "choices": [
            {"text": t, "index": i, "logprobs": None, "finish_reason": finish}
            for i, t in enumerate(texts or (" Ottawa.",))
        ],
        "usage": {
            "prompt_tokens": 6,
            "completion_tokens": completion_tokens,
            "total_tokens": 6 + completion_tokens,
        },
    }


def chat(content: str | None = "Hello!", finish: str = "stop") -> dict[str, Any]:
    return {
        "id": "chatcmpl-abc",
        "object": "chat.completion",
        "created": 1735689600,
        "model": "gpt-oss-120b",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "logprobs": None,
                "finish_reason": finish,
            }
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
    }


def test_json_content_type_passes_and_html_fails() -> None:
    passes(content_type_is_json, json_response({}))
    fails(content_type_is_json, response(200, "<html/>", "text/html"))


def test_documented_completion_conforms_to_its_schema() -> None:
    passes(conforms_to_schema, completion(), "completion")
    passes(conforms_to_schema, chat(), "chat_completion")


def test_schema_failure_names_the_json_path() -> None:
    body = chat()
    del body["choices"][0]["message"]["role"]
    body["object"] = "completion"
    failure = fails(conforms_to_schema, body, "chat_completion")
    assert "$.choices[0].message.role" in failure.received
    assert "$.object" in failure.received
    assert failure.expected == "a body valid against schemas/chat_completion.json"


def test_schema_failure_lists_at_most_five_violations() -> None:
    body = {"choices": [{"index": "x"}] * 8}
    failure = fails(conforms_to_schema, body, "completion")
    assert "more" in failure.received


def test_response_schema_check_reads_the_body() -> None:
    passes(response_conforms_to_schema, json_response(completion()), "completion")
    fails(
        response_conforms_to_schema,
        response(200, "{", "application/json"),
        "completion",
    )
    fails(response_conforms_to_schema, json_response({"object": "list"}), "completion")


def test_usage_that_adds_up_passes() -> None:
    passes(usage_adds_up, completion())
    passes(usage_adds_up, {"usage": {"prompt_tokens": 2, "total_tokens": 2}})


@pytest.mark.parametrize(
    ("usage", "problem"),
    [
        (
            {"prompt_tokens": 6, "completion_tokens": 3, "total_tokens": 10},
            "total_tokens 10",
        ),
        (
            {"prompt_tokens": 0, "completion_tokens": 3, "total_tokens": 3},
            "prompt_tokens 0 < 1",
        ),
        (
            {"prompt_tokens": "6", "completion_tokens": 3, "total_tokens": 9},
            'prompt_tokens is "6"',
        ),
        (
            {"prompt_tokens": 6, "completion_tokens": True, "total_tokens": 7},
            "completion_tokens is true",
        ),
    ],
)
def test_usage_that_does_not_add_up_fails(usage: dict[str, Any], problem: str) -> None:
    failure = fails(usage_adds_up, {"usage": usage})
    assert problem in failure.received


def test_missing_usage_fails() -> None:
    body = completion()
    del body["usage"]
    assert fails(usage_adds_up, body).received == "no usage"


def test_model_and_id_prefix() -> None:
    passes(model_is, completion(), "gpt-oss-120b")
    fails(model_is, completion(), "gpt-oss-20b")
    passes(id_has_prefix, completion(), "cmpl-")
    fails(id_has_prefix, chat(), "cmpl-")


def test_choices_count_and_indexes() -> None:
    passes(choices_count_is, completion("a", "b"), 2)
    failure = fails(choices_count_is, completion("a"), 2)
    assert failure.received == "1 choices with indexes [0]"
    body = completion("a", "b")
    body["choices"][1]["index"] = 0
    fails(choices_count_is, body, 2)


def test_finish_reason_is() -> None:
    passes(finish_reason_is, completion(finish="length"), "length")
    fails(finish_reason_is, completion(finish="stop"), "length")
    fails(finish_reason_is, {"choices": []}, "length")


def test_completion_tokens_within_max_tokens_times_n() -> None:
    passes(completion_tokens_within_max, completion(completion_tokens=1), 1)
    passes(completion_tokens_within_max, completion("a", "b", completion_tokens=8), 4)
    failure = fails(completion_tokens_within_max, completion(completion_tokens=17), 16)
    assert "≤ 16" in failure.expected


def test_output_must_be_counted() -> None:
    passes(completion_tokens_cover_output, completion(completion_tokens=1))
    passes(completion_tokens_cover_output, chat(content=None))
    body = chat()
    body["usage"]["completion_tokens"] = 0
    fails(completion_tokens_cover_output, body)


def test_text_stops_before_the_stop_sequence() -> None:
    passes(text_avoids_stop, completion(" one, two"), ["three", "\n\n"])
    passes(text_avoids_stop, chat("a b"), "c")
    failure = fails(text_avoids_stop, chat("one, two, three"), "two")
    assert "at character 5" in failure.received
    fails(text_avoids_stop, completion("x", "1. 2."), ["2."])


def test_checks_do_not_modify_their_input() -> None:
    body = completion()
    before = copy.deepcopy(body)
    usage_adds_up(body)
    conforms_to_schema(body, "completion")
    assert body == before
