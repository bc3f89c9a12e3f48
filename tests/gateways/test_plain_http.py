"""--plain-http: the API on http://127.0.0.1:PORT/v1 only, no redirect listener, and
no HSTS header (RFC 6797 §7.2: it is not sent over plain HTTP)."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.gateways.conftest import emulator
from tests.gateways.harness import RunningGateway
from tests.gateways.options import GatewayOptions


@pytest.fixture(scope="module")
def plain(
    upstream_info: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningGateway]:
    with emulator(
        upstream_info, tmp_path_factory, GatewayOptions(plain_http=True)
    ) as running:
        yield running


def test_the_api_is_served_on_plain_http(plain: RunningGateway) -> None:
    assert plain.base_url.startswith("http://127.0.0.1:"), f"Received: {plain.base_url}"
    assert plain.base_url.endswith("/v1")
    with plain.client() as api:
        response = api.get("models")
    assert response.status_code == 200, f"Received: {response.status_code}"
    assert response.json()["object"] == "list"


def test_there_is_no_redirect_listener_and_no_ca(plain: RunningGateway) -> None:
    assert plain.http_url is None
    assert plain.ca is None


def test_no_hsts_header_is_sent_over_plain_http(plain: RunningGateway) -> None:
    with plain.client() as api:
        response = api.get("models")
    assert "strict-transport-security" not in response.headers


def test_the_port_does_not_speak_tls(plain: RunningGateway) -> None:
    port = urlsplit(plain.base_url).port
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with httpx.Client(verify=context, trust_env=False, timeout=5.0) as client:
        with pytest.raises(httpx.ConnectError):
            client.get(f"https://127.0.0.1:{port}/v1/models")
