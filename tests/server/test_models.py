"""GET /v1/models and which endpoint serves which model (spec/*.txt "Supported models").

The listing has OpenAI's list shape and names every documented model; a model that
exists but does not serve an endpoint is 400 ``model_not_found`` there, as is an
unknown model ("Model unknown or doesn't support this endpoint").
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from qbtsuite.modelcatalog import MODELS, Category, ModelInfo
from tests.server.apicheck import expect_error, expect_ok

# Endpoint path → the model category it serves, and a minimal valid body.
ENDPOINTS: dict[str, tuple[Category, dict[str, Any]]] = {
    "completions": (Category.TEXT, {"prompt": "hi", "max_tokens": 2}),
    "chat/completions": (
        Category.TEXT,
        {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 2},
    ),
    "embeddings": (Category.EMBEDDING, {"input": "hi"}),
}


def test_the_listing_has_the_openai_list_shape(api: httpx.Client) -> None:
    body = expect_ok(api.get("models"))
    assert set(body) == {"object", "data"}, f"Received: keys {sorted(body)}"
    assert body["object"] == "list"
    assert isinstance(body["data"], list) and body["data"]
    for entry in body["data"]:
        assert entry["object"] == "model", f"Received: {entry}"
        assert isinstance(entry["id"], str) and entry["id"]
        assert isinstance(entry["created"], int) and not isinstance(
            entry["created"], bool
        )
        assert entry["created"] > 0
        assert isinstance(entry["owned_by"], str) and entry["owned_by"]


def test_every_documented_model_is_listed_once(api: httpx.Client) -> None:
    ids = [entry["id"] for entry in expect_ok(api.get("models"))["data"]]
    assert len(ids) == len(set(ids)), f"Received: duplicates in {ids}"
    expected = {m.id for m in MODELS}
    assert set(ids) == expected, (
        f"Received: missing {sorted(expected - set(ids))}, "
        f"extra {sorted(set(ids) - expected)} / Expected: exactly the catalogue"
    )


def test_the_listing_is_the_same_on_every_call(api: httpx.Client) -> None:
    assert api.get("models").content == api.get("models").content


@pytest.mark.parametrize("path", sorted(ENDPOINTS))
@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.id)
def test_each_model_is_served_only_by_its_own_endpoint(
    api: httpx.Client, path: str, model: ModelInfo
) -> None:
    category, body = ENDPOINTS[path]
    response = api.post(path, json={"model": model.id, **body})
    if model.category is category:
        assert expect_ok(response)["model"] == model.id
    else:
        error = expect_error(
            response, 400, "model_not_found", "invalid_request_error", "model"
        )
        assert model.id in error["message"], f"Received: {error['message']!r}"


@pytest.mark.parametrize("path", sorted(ENDPOINTS))
@pytest.mark.parametrize("model", ["gpt-5-ultra", "GPT-OSS-20B", "bge-m3 ", "dall-e-3"])
def test_an_unknown_model_is_400_model_not_found(
    api: httpx.Client, path: str, model: str
) -> None:
    _, body = ENDPOINTS[path]
    response = api.post(path, json={"model": model, **body})
    expect_error(response, 400, "model_not_found", "invalid_request_error", "model")


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.id)
def test_each_model_can_be_retrieved_as_its_listed_object(
    api: httpx.Client, model: ModelInfo
) -> None:
    listed = {e["id"]: e for e in expect_ok(api.get("models"))["data"]}
    assert expect_ok(api.get(f"models/{model.id}")) == listed[model.id]


def test_retrieving_an_unknown_model_is_404_model_not_found(api: httpx.Client) -> None:
    expect_error(api.get("models/gpt-5-ultra"), 404, "model_not_found")
