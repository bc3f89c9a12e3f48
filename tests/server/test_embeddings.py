"""POST /v1/embeddings (spec/embeddings.txt): vectors, order, width, encodings, usage.

"input | string | string[] | yes | Single string or array (batch)"; bge-m3 is 1024
wide, the others "vary" (``dimensions`` chooses); base64 is little-endian float32
(protocol-facts §1.5); usage counts input tokens only ("no output token cost").
"""

from __future__ import annotations

import base64
import math
import struct
from typing import Any

import httpx
import pytest

from qbtsuite.server.textgen import count_tokens
from tests.server.apicheck import expect_error, expect_ok


def embed(api: httpx.Client, **fields: Any) -> dict[str, Any]:
    body = {"model": "bge-m3", "input": "hello world", **fields}
    return expect_ok(api.post("embeddings", json=body))


def vectors(body: dict[str, Any]) -> list[list[float]]:
    return [d["embedding"] for d in body["data"]]


def norm(vector: list[float]) -> float:
    return math.sqrt(sum(x * x for x in vector))


def test_a_string_input_gets_one_embedding_in_the_list_shape(api: httpx.Client) -> None:
    body = embed(api)
    assert set(body) == {"object", "data", "model", "usage"}
    assert body["object"] == "list"
    assert body["model"] == "bge-m3"
    [item] = body["data"]
    assert set(item) == {"object", "embedding", "index"}
    assert item["object"] == "embedding" and item["index"] == 0
    assert all(isinstance(x, float) for x in item["embedding"])


def test_bge_m3_vectors_have_1024_dimensions_and_unit_norm(api: httpx.Client) -> None:
    [vector] = vectors(embed(api))
    assert len(vector) == 1024, f"Received: {len(vector)} / Expected: 1024"
    assert abs(norm(vector) - 1.0) < 1e-4, f"Received: norm {norm(vector)}"


def test_an_array_input_gets_one_embedding_per_input_in_index_order(
    api: httpx.Client,
) -> None:
    inputs = ["one", "two", "three", "two"]
    body = embed(api, input=inputs)
    assert [d["index"] for d in body["data"]] == [0, 1, 2, 3]
    for i, text in enumerate(inputs):
        [alone] = vectors(embed(api, input=text))
        assert vectors(body)[i] == alone, f"Received: item {i} is not {text!r}'s vector"
    assert vectors(body)[1] == vectors(body)[3]
    assert vectors(body)[0] != vectors(body)[1]


def test_the_same_input_gives_the_same_vector(api: httpx.Client) -> None:
    assert vectors(embed(api, input="stable")) == vectors(embed(api, input="stable"))


def test_each_model_gives_its_own_vector(api: httpx.Client) -> None:
    a = vectors(embed(api, model="bge-m3", input="x"))[0]
    b = vectors(embed(api, model="Qwen3-Embedding-8B", input="x", dimensions=1024))[0]
    assert a != b


@pytest.mark.parametrize("dimensions", [1, 256, 1024, 4096])
def test_dimensions_is_honoured_on_qwen3_embedding_8b(
    api: httpx.Client, dimensions: int
) -> None:
    body = embed(api, model="Qwen3-Embedding-8B", dimensions=dimensions)
    [vector] = vectors(body)
    assert len(vector) == dimensions, (
        f"Received: {len(vector)} / Expected: {dimensions}"
    )
    assert abs(norm(vector) - 1.0) < 1e-4


@pytest.mark.parametrize("model", ["Qwen3-Embedding-8B", "bge-multilingual-gemma2"])
def test_a_varying_width_model_has_a_fixed_default_width(
    api: httpx.Client, model: str
) -> None:
    first = vectors(embed(api, model=model, input="a"))[0]
    second = vectors(embed(api, model=model, input="b"))[0]
    assert len(first) == len(second) > 0


@pytest.mark.parametrize("dimensions", [512, 1023, 2048])
def test_dimensions_other_than_1024_is_rejected_on_bge_m3(
    api: httpx.Client, dimensions: int
) -> None:
    response = api.post(
        "embeddings", json={"model": "bge-m3", "input": "x", "dimensions": dimensions}
    )
    expect_error(response, 400, "invalid_request", param="dimensions")


def test_dimensions_1024_is_accepted_on_bge_m3(api: httpx.Client) -> None:
    assert len(vectors(embed(api, dimensions=1024))[0]) == 1024


def test_dimensions_above_the_native_width_is_rejected(api: httpx.Client) -> None:
    body = {"model": "Qwen3-Embedding-8B", "input": "x", "dimensions": 4097}
    expect_error(
        api.post("embeddings", json=body), 400, "invalid_request", param="dimensions"
    )


@pytest.mark.parametrize(
    ("model", "dimensions"), [("bge-m3", None), ("Qwen3-Embedding-8B", 64)]
)
def test_base64_decodes_to_the_same_floats_as_the_float_response(
    api: httpx.Client, model: str, dimensions: int | None
) -> None:
    fields: dict[str, Any] = {"model": model, "input": ["a", "b c"]}
    if dimensions is not None:
        fields["dimensions"] = dimensions
    floats = vectors(embed(api, **fields))
    encoded = embed(api, encoding_format="base64", **fields)
    for i, item in enumerate(encoded["data"]):
        assert isinstance(item["embedding"], str), (
            f"Received: {type(item['embedding'])}"
        )
        raw = base64.b64decode(item["embedding"], validate=True)
        assert len(raw) == 4 * len(floats[i])
        decoded = struct.unpack(f"<{len(raw) // 4}f", raw)
        # The JSON numbers are float32 values written shortest-form: compare as float32.
        as_float32 = struct.unpack(
            f"<{len(raw) // 4}f", struct.pack(f"<{len(raw) // 4}f", *floats[i])
        )
        assert decoded == as_float32, f"Received: item {i} decodes to other floats"


def test_encoding_format_float_is_the_default(api: httpx.Client) -> None:
    assert vectors(embed(api, encoding_format="float")) == vectors(embed(api))


def test_usage_counts_input_tokens_only(api: httpx.Client) -> None:
    inputs = ["hello world", "one, two, three."]
    usage = embed(api, input=inputs)["usage"]
    assert set(usage) == {"prompt_tokens", "total_tokens"}
    assert usage["prompt_tokens"] == usage["total_tokens"]
    # The server's rule: a word or a punctuation mark is one token (server/textgen.py).
    assert usage["prompt_tokens"] == sum(count_tokens(t) for t in inputs)


def test_a_token_array_input_is_accepted(api: httpx.Client) -> None:
    body = embed(api, input=[[1, 2, 3], [4, 5]])
    assert [d["index"] for d in body["data"]] == [0, 1]


@pytest.mark.parametrize(
    "value", [None, "", [], [""], [1.5], ["a", 2], [["a"]], {"text": "a"}, 5, [True]]
)
def test_a_missing_or_invalid_input_is_400_naming_input(
    api: httpx.Client, value: object
) -> None:
    body: dict[str, Any] = {"model": "bge-m3", "input": value}
    if value is None:
        del body["input"]
    response = api.post("embeddings", json=body)
    expect_error(response, 400, "invalid_request", "invalid_request_error", "input")


def test_more_than_2048_inputs_is_400(api: httpx.Client) -> None:
    response = api.post("embeddings", json={"model": "bge-m3", "input": ["a"] * 2049})
    expect_error(response, 400, "invalid_request", param="input")


@pytest.mark.parametrize("value", ["binary", "FLOAT", 1, ""])
def test_an_unknown_encoding_format_is_400_naming_it(
    api: httpx.Client, value: object
) -> None:
    body = {"model": "bge-m3", "input": "x", "encoding_format": value}
    expect_error(
        api.post("embeddings", json=body),
        400,
        "invalid_request",
        param="encoding_format",
    )


@pytest.mark.parametrize("value", [0, -1, "64", 1.5, True])
def test_an_invalid_dimensions_is_400_naming_it(
    api: httpx.Client, value: object
) -> None:
    body = {"model": "Qwen3-Embedding-8B", "input": "x", "dimensions": value}
    expect_error(
        api.post("embeddings", json=body), 400, "invalid_request", param="dimensions"
    )


def test_a_non_string_user_is_400_naming_it(api: httpx.Client) -> None:
    body = {"model": "bge-m3", "input": "x", "user": 7}
    expect_error(
        api.post("embeddings", json=body), 400, "invalid_request", param="user"
    )
