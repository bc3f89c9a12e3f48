"""Configuration errors are found before the run: a refused key, a base URL without
its /v1, no model for any endpoint. Against ``httpx.MockTransport``: no network."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from qbtsuite.errors import ConfigError
from qbtsuite.target.client import build_http_client
from qbtsuite.target.config import TargetConfig, load_settings
from qbtsuite.target.discovery import Listing, complete_models, list_models
from qbtsuite.target.preflight import check_listing, model_notices
from qbtsuite.target.throttle import Throttle, WaitAllowance

KEY = "qbt_preflight_0123456789abcdef"
Handler = Callable[[httpx.Request], httpx.Response]


def _config(base: str = "https://gw.example/v1", **env: str) -> TargetConfig:
    values = {"QUBITTRON_BASE_URL": base, "QUBITTRON_API_KEY": KEY, **env}
    return load_settings({}, values).target()


def _check(config: TargetConfig, handler: Handler) -> Listing:
    with build_http_client(config, httpx.MockTransport(handler)) as http:
        listing = list_models(config, http)
        check_listing(config, listing, http)
    return listing


def _models(*ids: str) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        data = [{"id": i, "object": "model"} for i in ids]
        return httpx.Response(200, json={"object": "list", "data": data})

    return handler


def test_a_refused_main_key_is_a_configuration_error_naming_the_variable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == f"Bearer {KEY}"
        return httpx.Response(401, json={"error": {"code": "invalid_api_key"}})

    with pytest.raises(ConfigError) as raised:
        _check(_config(), handler)
    assert str(raised.value) == (
        "the target refused the main key (401 invalid_api_key): check QUBITTRON_API_KEY"
    )
    assert KEY not in str(raised.value)


def test_a_404_at_a_base_url_without_v1_names_the_v1_url_that_answers() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/models":
            return httpx.Response(401)
        return httpx.Response(404)

    with pytest.raises(ConfigError) as raised:
        _check(_config("https://gw.example"), handler)
    message = str(raised.value)
    assert message.startswith("https://gw.example/models answered 404")
    assert "set it to https://gw.example/v1" in message


def test_a_404_whose_v1_twin_is_missing_too_still_suggests_v1() -> None:
    with pytest.raises(ConfigError, match=r"probably lacks its /v1 \(try https://gw"):
        _check(_config("https://gw.example/api"), lambda r: httpx.Response(404))


def test_a_404_at_a_v1_base_url_is_left_to_the_model_checks() -> None:
    listing = _check(_config(), lambda r: httpx.Response(404))
    assert listing.status == 404 and listing.ids is None


def test_a_listing_throttled_once_is_waited_out_and_read() -> None:
    answers = iter([httpx.Response(429, headers={"Retry-After": "3"}), None])

    def handler(request: httpx.Request) -> httpx.Response:
        return next(answers) or _models("acme-chat")(request)

    config = _config()
    sleeps: list[float] = []
    throttle = Throttle(WaitAllowance(5), sleep=sleeps.append)
    with build_http_client(config, httpx.MockTransport(handler)) as http:
        listing = list_models(config, http, throttle)
    assert listing.ids == ("acme-chat",) and sleeps == [3.0]


def test_no_model_for_any_endpoint_is_a_configuration_error_listing_what_there_is() -> (
    None
):
    config = _config()
    listing = _check(config, _models("acme-chat", "acme-embed"))
    chosen = complete_models(config, listing=listing)
    with pytest.raises(ConfigError) as raised:
        model_notices(chosen, listing)
    message = str(raised.value)
    assert "no model to test with" in message
    assert "it lists acme-chat, acme-embed" in message
    assert "QBTSUITE_MODELS_CHAT" in message and "QBTSUITE_MODELS_IMAGES" in message


def test_endpoints_without_a_model_get_one_notice_naming_them() -> None:
    config = _config(QBTSUITE_MODELS_CHAT="acme-chat")
    listing = _check(config, _models("acme-chat", "bge-m3"))
    chosen = complete_models(config, listing=listing)
    notices = model_notices(chosen, listing)
    assert notices == (
        "no model for completions, images, transcriptions: their checks are skipped "
        "(it lists acme-chat, bge-m3; set QBTSUITE_MODELS_COMPLETIONS, "
        "QBTSUITE_MODELS_IMAGES, QBTSUITE_MODELS_TRANSCRIPTIONS)",
    )


def test_every_endpoint_with_a_model_needs_no_notice() -> None:
    models = {
        f"QBTSUITE_MODELS_{e}": "m"
        for e in ("COMPLETIONS", "CHAT", "EMBEDDINGS", "IMAGES", "TRANSCRIPTIONS")
    }
    assert model_notices(_config(**models), None) == ()
