"""Image URLs: the gateway hands out URLs on its own origin (fetchable through it);
--image-url-host puts another host in them, as a target with unfetchable URLs does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.gateways.conftest import emulator
from tests.gateways.harness import RunningGateway
from tests.gateways.imageurls import rewrite_image_urls
from tests.gateways.jsonvalue import JsonValue
from tests.gateways.options import GatewayOptions

IMAGE = {
    "model": "stable-diffusion-xl-base-v10",
    "prompt": "a red square",
    "size": "256x256",
    "response_format": "url",
}


@pytest.fixture(scope="module")
def plain_urls(
    upstream_info: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningGateway]:
    with emulator(upstream_info, tmp_path_factory, GatewayOptions()) as gw:
        yield gw


@pytest.fixture(scope="module")
def invalid_urls(
    upstream_info: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningGateway]:
    options = GatewayOptions(image_url_host="example.invalid")
    with emulator(upstream_info, tmp_path_factory, options) as gw:
        yield gw


def test_only_upstream_urls_move_and_b64_answers_stay() -> None:
    body: JsonValue = {
        "data": [{"url": "https://u:1/v1/images/files/a.png"}, {"b64_json": "AA=="}]
    }
    moved = rewrite_image_urls(body, "https://u:1", "http://g:2", None)
    assert moved == {
        "data": [{"url": "http://g:2/v1/images/files/a.png"}, {"b64_json": "AA=="}]
    }


def test_an_image_url_is_on_the_gateway_and_fetchable(
    plain_urls: RunningGateway,
) -> None:
    with plain_urls.client() as api:
        response = api.post("images/generations", json=IMAGE)
        assert response.status_code == 200, (
            f"Received: {response.status_code} {response.text}"
        )
        url = response.json()["data"][0]["url"]
        assert url.startswith(plain_urls.base_url.removesuffix("/v1") + "/"), (
            f"Received: {url}"
        )
        image = api.get(url)
    assert image.status_code == 200, f"Received: {image.status_code}"
    assert image.content.startswith(b"\x89PNG"), f"Received: {image.content[:8]!r}"


def test_an_image_url_gets_the_configured_host(invalid_urls: RunningGateway) -> None:
    with invalid_urls.client() as api:
        response = api.post("images/generations", json=IMAGE)
    assert response.status_code == 200, f"Received: {response.status_code}"
    url = urlsplit(response.json()["data"][0]["url"])
    assert url.netloc == "example.invalid", f"Received: {url.geturl()}"
    assert url.path.startswith("/v1/images/files/")
