"""POST /v1/completions (spec/completions.txt): prompts, choices, limits, usage.

"prompt | string | string[] | yes | Single string or array"; the response is OpenAI's
``text_completion`` with one choice per prompt × ``n`` in index order, and usage
"Metered per token (input + output)".
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from qbtsuite.server.textgen import count_tokens
from tests.server.apicheck import expect_error, expect_ok

MODEL = "gpt-oss-120b"


def complete(api: httpx.Client, **fields: Any) -> dict[str, Any]:
    return expect_ok(api.post("completions", json={"model": MODEL, **fields}))


def texts(body: dict[str, Any]) -> list[str]:
    return [c["text"] for c in body["choices"]]


def test_a_string_prompt_gets_one_text_completion(api: httpx.Client) -> None:
    body = complete(api, prompt="The capital of Canada is", max_tokens=16)
    assert body["object"] == "text_completion"
    assert body["id"].startswith("cmpl-") and len(body["id"]) > len("cmpl-")
    assert isinstance(body["created"], int) and body["created"] > 1_700_000_000
    assert body["model"] == MODEL
    assert len(body["choices"]) == 1
    choice = body["choices"][0]
    assert set(choice) == {"text", "index", "logprobs", "finish_reason"}
    assert choice["index"] == 0
    assert isinstance(choice["text"], str) and choice["text"]
    assert choice["finish_reason"] in {"stop", "length"}


def test_an_array_prompt_gets_n_choices_per_prompt_in_index_order(
    api: httpx.Client,
) -> None:
    prompts = ["alpha", "beta gamma", "delta"]
    body = complete(api, prompt=prompts, n=2, max_tokens=8)
    assert [c["index"] for c in body["choices"]] == list(range(6))
    # OpenAI's order: the n choices of prompt 0, then those of prompt 1, ...
    for p, prompt in enumerate(prompts):
        alone = texts(complete(api, prompt=prompt, n=2, max_tokens=8))
        assert texts(body)[2 * p : 2 * p + 2] == alone, (
            f"Received: choices {2 * p}..{2 * p + 1} differ from prompt {prompt!r} "
            "sent alone / Expected: prompt-major order"
        )


def test_n_gives_n_choices_with_consecutive_indexes(api: httpx.Client) -> None:
    body = complete(api, prompt="count", n=4, max_tokens=6)
    assert [c["index"] for c in body["choices"]] == [0, 1, 2, 3]
    assert len(set(texts(body))) > 1, "Expected the choices of n=4 to differ"


def test_a_single_item_array_prompt_equals_the_string_prompt(api: httpx.Client) -> None:
    a = complete(api, prompt=["same words"], max_tokens=8)
    b = complete(api, prompt="same words", max_tokens=8)
    assert texts(a) == texts(b)


@pytest.mark.parametrize("max_tokens", [1, 2, 5])
def test_max_tokens_bounds_the_reply_and_reports_length(
    api: httpx.Client, max_tokens: int
) -> None:
    # Replies are at least 6 tokens long, so these limits always cut.
    body = complete(api, prompt="limit me", max_tokens=max_tokens)
    choice = body["choices"][0]
    assert choice["finish_reason"] == "length", f"Received: {choice}"
    assert body["usage"]["completion_tokens"] <= max_tokens
    assert count_tokens(choice["text"]) <= max_tokens


def test_max_tokens_zero_gives_an_empty_text(api: httpx.Client) -> None:
    body = complete(api, prompt="nothing", max_tokens=0)
    assert texts(body) == [""]
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 0


def test_without_max_tokens_the_reply_is_at_most_16_tokens(api: httpx.Client) -> None:
    # OpenAI's CreateCompletionRequest: max_tokens defaults to 16.
    for i in range(8):
        body = complete(api, prompt=f"default limit {i}")
        assert body["usage"]["completion_tokens"] <= 16, f"Received: {body['usage']}"


def test_a_generous_max_tokens_ends_naturally_with_stop(api: httpx.Client) -> None:
    body = complete(api, prompt="finish", max_tokens=100)
    choice = body["choices"][0]
    assert choice["finish_reason"] == "stop"
    assert choice["text"].endswith(".")


def _natural(api: httpx.Client, prompt: str) -> str:
    return texts(complete(api, prompt=prompt, max_tokens=100))[0]


def test_a_stop_string_ends_the_text_before_it(api: httpx.Client) -> None:
    full = _natural(api, "stop here")
    words = full.split()
    stop = " " + words[len(words) // 2]  # a whole word from the middle
    body = complete(api, prompt="stop here", max_tokens=100, stop=stop)
    choice = body["choices"][0]
    assert choice["text"] == full[: full.find(stop)], (
        f"Received: {choice['text']!r} / Expected: {full[: full.find(stop)]!r}"
    )
    assert stop not in choice["text"]
    assert choice["finish_reason"] == "stop"


def test_a_stop_string_spanning_two_words_cuts_where_it_begins(
    api: httpx.Client,
) -> None:
    full = _natural(api, "spanning")
    words = full.split()
    stop = words[1][1:] + " " + words[2][:2]  # "eply ca" from " reply can"
    expected = full[: full.find(stop)]
    body = complete(api, prompt="spanning", max_tokens=100, stop=[stop])
    assert texts(body) == [expected], (
        f"Received: {texts(body)} / Expected: [{expected!r}]"
    )


def test_the_earliest_of_several_stop_strings_wins(api: httpx.Client) -> None:
    full = _natural(api, "several stops")
    words = full.split()
    early, late = " " + words[1], " " + words[-2]
    body = complete(api, prompt="several stops", max_tokens=100, stop=[late, early])
    text = texts(body)[0]
    assert text == full[: full.find(early)]
    assert early not in text and late not in text


def test_a_stop_string_that_never_occurs_changes_nothing(api: httpx.Client) -> None:
    full = _natural(api, "no stop")
    body = complete(api, prompt="no stop", max_tokens=100, stop=["§§never§§"])
    assert texts(body) == [full]
    assert body["choices"][0]["finish_reason"] == "stop"


def test_the_same_request_gives_the_same_text(api: httpx.Client) -> None:
    fields = {"prompt": ["one", "two"], "n": 2, "max_tokens": 12, "temperature": 0.7}
    first, second = complete(api, **fields), complete(api, **fields)
    assert texts(first) == texts(second)
    assert first["id"] != second["id"], "Expected a fresh id per response"


def test_temperature_and_top_p_are_accepted(api: httpx.Client) -> None:
    body = complete(api, prompt="warm", temperature=1.3, top_p=0.5, max_tokens=4)
    assert body["choices"][0]["text"]


def test_usage_adds_up_and_counts_every_prompt_and_choice(api: httpx.Client) -> None:
    prompts = ["How many tokens, exactly?", "two words"]
    body = complete(api, prompt=prompts, n=3, max_tokens=50)
    usage = body["usage"]
    assert set(usage) >= {"prompt_tokens", "completion_tokens", "total_tokens"}
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    # The server's rule: a word or a punctuation mark is one token (server/textgen.py).
    assert usage["prompt_tokens"] == sum(count_tokens(p) for p in prompts)
    assert usage["completion_tokens"] == sum(count_tokens(t) for t in texts(body))


def test_a_token_array_prompt_is_accepted(api: httpx.Client) -> None:
    body = complete(api, prompt=[101, 202, 303], max_tokens=4)
    assert len(body["choices"]) == 1
    assert body["usage"]["prompt_tokens"] == 3


@pytest.mark.parametrize(
    "prompt", [None, [], 5, 1.5, {"text": "hi"}, ["a", 2], [["a"]], [True]]
)
def test_a_missing_or_invalid_prompt_is_400_naming_prompt(
    api: httpx.Client, prompt: object
) -> None:
    body: dict[str, Any] = {"model": MODEL, "max_tokens": 2, "prompt": prompt}
    if prompt is None:
        del body["prompt"]
    response = api.post("completions", json=body)
    expect_error(response, 400, "invalid_request", "invalid_request_error", "prompt")
