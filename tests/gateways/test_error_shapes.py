"""--fastapi-errors answers ``{"detail": message}`` with the status kept; --drop-param
keeps the envelope without the optional ``param``. Both reshape the gateway's own
errors (a throttle's 429) as well as the upstream's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.gateways.conftest import emulator
from tests.gateways.envelope import ErrorStyle, gateway_error, reshape_error
from tests.gateways.harness import RunningGateway
from tests.gateways.jsonvalue import JsonValue
from tests.gateways.options import GatewayOptions

BAD_CHAT = {"model": "Llama-3.1-8B-Instruct", "messages": "not a list"}


@pytest.fixture(scope="module")
def fastapi(
    upstream_info: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningGateway]:
    options = GatewayOptions(fastapi_errors=True, throttle_rpm=2, throttle_window=30.0)
    with emulator(upstream_info, tmp_path_factory, options) as gw:
        yield gw


@pytest.fixture(scope="module")
def paramless(
    upstream_info: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningGateway]:
    with emulator(
        upstream_info, tmp_path_factory, GatewayOptions(drop_param=True)
    ) as gw:
        yield gw


def test_a_non_error_body_is_never_reshaped() -> None:
    body: JsonValue = {"object": "list", "data": []}
    assert reshape_error(body, ErrorStyle(drop_param=True, fastapi=True)) == body


def test_fastapi_style_wins_over_drop_param() -> None:
    error = gateway_error("Invalid API key", "invalid_request_error", "invalid_api_key")
    assert reshape_error(error, ErrorStyle(drop_param=True, fastapi=True)) == {
        "detail": "Invalid API key"
    }


def test_a_401_comes_back_as_detail_with_its_status(fastapi: RunningGateway) -> None:
    with fastapi.client(role=None) as api:
        response = api.get("models")
    assert response.status_code == 401, f"Received: {response.status_code}"
    body = response.json()
    assert list(body) == ["detail"] and "API key" in body["detail"], f"Received: {body}"


def test_a_validation_error_comes_back_as_detail(fastapi: RunningGateway) -> None:
    with fastapi.client("second") as api:
        response = api.post("chat/completions", json=BAD_CHAT)
    assert response.status_code == 400, f"Received: {response.status_code}"
    body = response.json()
    assert list(body) == ["detail"] and isinstance(body["detail"], str), (
        f"Received: {body}"
    )


def test_the_gateways_own_429_is_detail_too_with_retry_after(
    fastapi: RunningGateway,
) -> None:
    with fastapi.client("main") as api:
        for _ in range(2):
            api.get("models")
        response = api.get("models")
    assert response.status_code == 429, f"Received: {response.status_code}"
    assert list(response.json()) == ["detail"], f"Received: {response.text}"
    assert response.headers["retry-after"].isdigit()


def test_an_error_keeps_the_envelope_without_param(paramless: RunningGateway) -> None:
    with paramless.client() as api:
        response = api.post("chat/completions", json=BAD_CHAT)
    assert response.status_code == 400, f"Received: {response.status_code}"
    error = response.json()["error"]
    assert "param" not in error, f"Received: {error}"
    assert {"message", "type", "code"} <= set(error), f"Received: {error}"


def test_a_valid_answer_is_untouched_by_drop_param(paramless: RunningGateway) -> None:
    with paramless.client() as api:
        response = api.get("models")
    assert response.status_code == 200
    assert response.json()["object"] == "list"
