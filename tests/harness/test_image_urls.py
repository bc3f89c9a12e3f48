"""Image URLs a target returns: fetched without the key, judged by what they prove.

Against ``httpx.MockTransport`` and an injected resolver: no network, no DNS.
"""

from __future__ import annotations

import io
import socket
import time
from collections.abc import Callable

import httpx
import pytest
from PIL import Image

from qbtsuite.checks import reserved_host_problem
from qbtsuite.errors import CheckFailure
from qbtsuite.harness.imageurls import (
    FETCHES_OFF,
    ImageFetchError,
    fetch_image_url,
    resolve_host,
)
from qbtsuite.target.client import SuiteClient, build_http_client
from qbtsuite.target.config import load_settings

CANARY = "qbt_canary_images_0123456789abcdef"
BASE = "https://api.gateway-under-test.net/v1"
IMAGE = "https://files.gateway-under-test.net/img/1.png"

Handler = Callable[[httpx.Request], httpx.Response]


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(out, "PNG")
    return out.getvalue()


def _resolves(host: str, port: int, timeout: float) -> None:
    return None


def _api(handler: Handler, **env: str) -> tuple[SuiteClient, list[httpx.Request]]:
    settings = {"QUBITTRON_BASE_URL": BASE, "QUBITTRON_API_KEY": CANARY, **env}
    config = load_settings({}, settings).target()
    sent: list[httpx.Request] = []

    def recording(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return handler(request)

    http = build_http_client(config, httpx.MockTransport(recording))
    return SuiteClient(config, http=http), sent


def _serving(status: int = 200, content: bytes | None = None) -> Handler:
    body = _png() if content is None else content
    kind = "image/png" if status == 200 else "application/json"
    return lambda request: httpx.Response(
        status, content=body, headers={"content-type": kind}
    )


def test_an_image_url_is_fetched_without_the_api_key() -> None:
    api, sent = _api(_serving())
    fetched = fetch_image_url(api, IMAGE, "$.data[0].url", resolver=_resolves)
    assert fetched.data == _png()
    assert [str(r.url) for r in sent] == [IMAGE]
    assert "authorization" not in sent[0].headers
    assert CANARY not in str(sent[0].headers)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.invalid/v1/images/files/a.png",
        "https://cdn.example/a.png",
        "https://images.qubittron.test/a.png",
        "https://www.example.com/a.png",
        "http://localhost:8080/a.png",
        "http://127.0.0.1/a.png",
        "http://[::1]/a.png",
    ],
)
def test_a_reserved_or_loopback_name_on_a_remote_target_fails_without_a_request(
    url: str,
) -> None:
    api, sent = _api(_serving())
    with pytest.raises(CheckFailure) as caught:
        fetch_image_url(api, url, "$.data[0].url", resolver=_resolves)
    assert caught.value.title == "Image url on a host that cannot serve it"
    assert url in caught.value.received
    assert sent == []


def test_a_loopback_image_host_is_fine_for_a_target_on_loopback() -> None:
    assert reserved_host_problem("127.0.0.1", "127.0.0.1") is None
    assert reserved_host_problem("localhost", "127.0.0.1") is None
    assert reserved_host_problem("127.0.0.1", "api.qubittron.ai") is not None
    assert reserved_host_problem("files.qubittron.ai", "api.qubittron.ai") is None


def test_a_url_that_is_not_absolute_http_fails() -> None:
    api, _ = _api(_serving())
    with pytest.raises(CheckFailure, match="Image url unusable"):
        fetch_image_url(api, "/v1/images/files/a.png", resolver=_resolves)


def _gaierror(code: int) -> Callable[[str, int, float], None]:
    def resolver(host: str, port: int, timeout: float) -> None:
        raise socket.gaierror(code, "resolver says no")

    return resolver


def test_a_host_the_resolver_does_not_know_fails_with_that_evidence() -> None:
    api, sent = _api(_serving())
    with pytest.raises(CheckFailure) as caught:
        fetch_image_url(api, IMAGE, resolver=_gaierror(socket.EAI_NONAME))
    assert caught.value.title == "Image url host does not resolve"
    assert "files.gateway-under-test.net" in caught.value.received
    assert sent == []


def test_a_resolver_that_cannot_answer_is_an_error_not_a_verdict() -> None:
    api, _ = _api(_serving())
    with pytest.raises(ImageFetchError, match="cannot resolve"):
        fetch_image_url(api, IMAGE, resolver=_gaierror(socket.EAI_AGAIN))


def test_a_resolver_that_hangs_is_given_up_after_the_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: time.sleep(2))
    with pytest.raises(TimeoutError):
        resolve_host("files.gateway-under-test.net", 443, 0.05)


@pytest.mark.parametrize("status", [401, 403, 404, 500])
def test_an_http_error_answer_fails_with_the_answer_as_evidence(status: int) -> None:
    api, sent = _api(_serving(status, b'{"error": {"message": "gone"}}'))
    with pytest.raises(CheckFailure) as caught:
        fetch_image_url(api, IMAGE, "$.data[0].url", resolver=_resolves)
    assert caught.value.title == "Image url does not deliver the image"
    assert str(status) in caught.value.received
    assert "without the API key" in caught.value.received
    assert len(sent) == 1  # never retried with the key


def test_a_network_error_to_a_real_host_is_an_error_with_the_reason() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    api, _ = _api(refuse)
    with pytest.raises(ImageFetchError, match="connection refused"):
        fetch_image_url(api, IMAGE, resolver=_resolves)


def test_an_answer_over_the_cap_stops_the_read_as_an_error() -> None:
    api, _ = _api(_serving(content=b"\x89PNG" + b"0" * 5000))
    with pytest.raises(ImageFetchError, match="more than 1,000 bytes"):
        fetch_image_url(api, IMAGE, cap=1000, resolver=_resolves)


def test_redirects_are_followed_and_each_host_is_judged() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/img/1.png":
            return httpx.Response(302, headers={"location": "/blob/1.png"})
        if request.url.path == "/blob/1.png":
            location = "https://blob.example.invalid/1.png"
            return httpx.Response(307, headers={"location": location})
        return _serving()(request)

    api, sent = _api(handler)
    with pytest.raises(CheckFailure) as caught:
        fetch_image_url(api, IMAGE, "$.data[0].url", resolver=_resolves)
    assert "(redirect 2)" in caught.value.received
    assert [r.url.path for r in sent] == ["/img/1.png", "/blob/1.png"]


def test_fetches_can_be_turned_off_by_option_or_environment() -> None:
    on, _ = _api(_serving())
    assert on.config.fetch_urls is True
    off, _ = _api(_serving(), QBTSUITE_NO_FETCH_URLS="1")
    assert off.config.fetch_urls is False
    cli = load_settings(
        {"no_fetch_urls": True},
        {"QUBITTRON_BASE_URL": BASE, "QUBITTRON_API_KEY": CANARY},
    )
    assert cli.target().fetch_urls is False
    assert "--no-fetch-urls" in FETCHES_OFF
