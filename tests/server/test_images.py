"""POST /v1/images/generations and GET /v1/images/files/{name} of the reference server.

Endpoint tests talk HTTPS to the session server; the file store and the metering are
checked in-process (a fake clock for expiry, the account's balance for the charge).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image
from starlette.testclient import TestClient

from qbtsuite.server.app import create_app
from qbtsuite.server.imaging import ImageRenderer, ImageStore
from qbtsuite.server.keys import KeyStore
from qbtsuite.server.parts import build_parts
from qbtsuite.server.settings import ServerSettings
from qbtsuite.target.embedded import ServerTarget

MODEL = "stable-diffusion-xl-base-v10"
PATH = "images/generations"  # relative to the client's base URL, which ends in /v1/


def _body(**fields: Any) -> dict[str, Any]:
    """A valid request body with ``fields`` changed (None removes a field)."""
    body: dict[str, Any] = {"model": MODEL, "prompt": "a small red apple"}
    body.update(fields)
    return {k: v for k, v in body.items() if v is not None}


def _generate(api: httpx.Client, **fields: Any) -> httpx.Response:
    return api.post(PATH, json=_body(**fields))


def _without_key(api: httpx.Client, method: str, url: str, **kw: Any) -> httpx.Response:
    """Send with the session client but no Authorization header at all."""
    request = api.build_request(method, url, **kw)
    del request.headers["Authorization"]
    return api.send(request)


def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, (
        f"Received: {response.status_code} {response.text[:300]} / Expected: 200"
    )
    payload: dict[str, Any] = response.json()
    return payload


def _decoded(item: dict[str, Any]) -> Image.Image:
    image = Image.open(io.BytesIO(base64.b64decode(item["b64_json"])))
    image.load()
    return image


def _assert_error(
    response: httpx.Response, status: int, code: str, param: str | None
) -> None:
    error = response.json().get("error", {}) if response.content else {}
    received = (response.status_code, error.get("code"), error.get("param"))
    assert received == (status, code, param), (
        f"Received: {received} / Expected: {(status, code, param)}"
    )


def test_b64_png_decodes_as_png_at_the_requested_size(api: httpx.Client) -> None:
    payload = _ok(_generate(api, size="512x512"))
    assert isinstance(payload["created"], int)
    assert len(payload["data"]) == 1
    assert payload["data"][0]["url"] is None
    image = _decoded(payload["data"][0])
    assert (image.format, image.size) == ("PNG", (512, 512))
    assert (payload["output_format"], payload["size"]) == ("png", "512x512")


def test_default_size_is_1024x1024_png(api: httpx.Client) -> None:
    image = _decoded(_ok(_generate(api))["data"][0])
    assert (image.format, image.size) == ("PNG", (1024, 1024))


def test_jpeg_output_format_decodes_as_jpeg_at_a_non_square_size(
    api: httpx.Client,
) -> None:
    payload = _ok(_generate(api, output_format="jpeg", size="1792x1024"))
    image = _decoded(payload["data"][0])
    assert (image.format, image.size) == ("JPEG", (1792, 1024))
    assert payload["output_format"] == "jpeg"


def test_n_3_returns_three_distinct_images(api: httpx.Client) -> None:
    payload = _ok(_generate(api, n=3, size="256x256"))
    blobs = [item["b64_json"] for item in payload["data"]]
    assert len(blobs) == 3
    assert len(set(blobs)) == 3, "the three images are not all different"
    assert all(_decoded(item).size == (256, 256) for item in payload["data"])


def test_same_prompt_gives_the_same_image() -> None:
    renderer = ImageRenderer()
    first = renderer.render("a cat", 0, 256, 256, "png")
    assert renderer.render("a cat", 0, 256, 256, "png") == first
    assert renderer.render("a dog", 0, 256, 256, "png") != first


def test_url_is_on_the_request_host_and_fetchable_without_a_key(
    api: httpx.Client, server: ServerTarget
) -> None:
    payload = _ok(_generate(api, response_format="url", output_format="jpeg"))
    item = payload["data"][0]
    assert item["b64_json"] is None
    url: str = item["url"]
    assert url.startswith(server.https_url + "/images/files/"), url
    fetched = _without_key(api, "GET", url)
    assert fetched.status_code == 200, f"Received: {fetched.status_code}"
    assert fetched.headers["content-type"] == "image/jpeg"
    image = Image.open(io.BytesIO(fetched.content))
    assert (image.format, image.size) == ("JPEG", (1024, 1024))


def test_png_url_is_served_as_image_png(api: httpx.Client) -> None:
    url = _ok(_generate(api, response_format="url", size="256x256"))["data"][0]["url"]
    fetched = _without_key(api, "GET", url)
    assert fetched.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(fetched.content)).format == "PNG"


def test_unknown_image_file_is_404_not_found_in_the_envelope(
    api: httpx.Client,
) -> None:
    response = _without_key(api, "GET", "images/files/no-such-file.png")
    _assert_error(response, 404, "not_found", None)
    assert set(response.json()["error"]) >= {"message", "type", "code"}


@pytest.mark.parametrize(
    ("fields", "code", "param"),
    [
        pytest.param({"prompt": None}, "invalid_request", "prompt", id="no-prompt"),
        pytest.param({"prompt": ""}, "invalid_request", "prompt", id="empty-prompt"),
        pytest.param({"model": None}, "invalid_request", "model", id="no-model"),
        pytest.param({"size": "1000x1000"}, "invalid_request", "size", id="bad-size"),
        pytest.param({"size": 1024}, "invalid_request", "size", id="size-not-str"),
        pytest.param({"n": 0}, "invalid_request", "n", id="n-0"),
        pytest.param({"n": 11}, "invalid_request", "n", id="n-11"),
        pytest.param({"n": "2"}, "invalid_request", "n", id="n-not-int"),
        pytest.param(
            {"output_format": "jpg"}, "invalid_request", "output_format", id="jpg"
        ),
        pytest.param(
            {"response_format": "file"},
            "invalid_request",
            "response_format",
            id="bad-response-format",
        ),
        pytest.param(
            {"model": "Llama-3.1-8B-Instruct"}, "model_not_found", "model", id="text"
        ),
        pytest.param(
            {"model": "no-such-model"}, "model_not_found", "model", id="unknown"
        ),
    ],
)
def test_invalid_request_is_rejected_with_400_naming_the_field(
    api: httpx.Client, fields: dict[str, Any], code: str, param: str
) -> None:
    _assert_error(_generate(api, **fields), 400, code, param)


def test_missing_key_is_rejected_with_401_invalid_api_key(api: httpx.Client) -> None:
    response = _without_key(api, "POST", PATH, json=_body())
    _assert_error(response, 401, "invalid_api_key", None)


def test_zero_balance_key_is_rejected_with_402_insufficient_funds(
    api: httpx.Client, server: ServerTarget
) -> None:
    broke = {"Authorization": f"Bearer {server.keys['zero_balance']}"}
    response = api.post(PATH, json=_body(size="256x256"), headers=broke)
    _assert_error(response, 402, "insufficient_funds", None)


@pytest.fixture
def local() -> Iterator[tuple[TestClient, KeyStore]]:
    """An in-process app whose accounts the test can inspect."""
    keys = KeyStore.default()
    app = create_app(build_parts(ServerSettings(), keys))
    key = keys.by_role()["main"]
    headers = {"Authorization": f"Bearer {key}"}
    with TestClient(app, base_url="https://testserver", headers=headers) as client:
        yield client, keys


def test_each_generated_image_is_metered_at_the_image_price(
    local: tuple[TestClient, KeyStore],
) -> None:
    client, keys = local
    account = keys.get(keys.by_role()["main"])
    assert account is not None
    before = account.balance
    response = client.post(
        "/v1/" + PATH, json={"model": MODEL, "prompt": "x", "n": 2, "size": "256x256"}
    )
    assert response.status_code == 200, response.text
    assert before - account.balance == pytest.approx(2 * keys.pricing.image)


def test_rejected_request_is_not_metered(local: tuple[TestClient, KeyStore]) -> None:
    client, keys = local
    account = keys.get(keys.by_role()["main"])
    assert account is not None
    before = account.balance
    response = client.post("/v1/" + PATH, json={"model": MODEL, "prompt": "x", "n": 0})
    assert response.status_code == 400
    assert account.balance == before


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_stored_file_expires_after_60_minutes() -> None:
    clock = _Clock()
    store = ImageStore(clock=clock)
    name = store.put(b"png-bytes", "png")
    clock.now += 3599.0
    stored = store.get(name)
    assert stored is not None and stored.media_type == "image/png"
    clock.now += 1.0
    assert store.get(name) is None


def test_store_evicts_least_recently_used_file_beyond_its_bound() -> None:
    store = ImageStore(max_files=2)
    first = store.put(b"1", "png")
    second = store.put(b"2", "jpeg")
    assert store.get(first) is not None  # first is now the most recently used
    third = store.put(b"3", "png")
    assert store.get(second) is None
    assert store.get(first) is not None and store.get(third) is not None
    assert len(store) == 2


def test_store_evicts_beyond_its_byte_budget() -> None:
    store = ImageStore(max_bytes=10)
    first = store.put(b"x" * 6, "png")
    second = store.put(b"y" * 6, "png")
    assert store.get(first) is None
    assert store.get(second) is not None


def test_file_names_are_unguessable_tokens_with_the_format_extension() -> None:
    store = ImageStore()
    names = {store.put(b"x", "jpeg") for _ in range(20)}
    assert len(names) == 20
    assert all(n.endswith(".jpg") and len(n) >= 32 for n in names)
