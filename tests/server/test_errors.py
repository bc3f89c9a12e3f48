"""The error envelope on paths, methods and upstream failures (spec/getting-started.txt).

"All errors share an OpenAI-compatible shape"; the status table lists 502
``upstream_error`` and 503 ``service_unavailable``, which the reference server produces
on request through its ``X-Qbtsuite-Simulate`` test hook (server/gate.py).
"""

from __future__ import annotations

import httpx
import pytest

from qbtsuite.target.embedded import ServerTarget
from tests.server.apicheck import expect_error, expect_ok

CHAT = {
    "model": "gpt-oss-20b",
    "messages": [{"role": "user", "content": "hello"}],
    "max_tokens": 4,
}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "nope"),
        ("POST", "chat/complete"),
        ("GET", "responses"),
        ("POST", "files"),
    ],
)
def test_an_unknown_path_is_404_in_the_envelope(
    api: httpx.Client, method: str, path: str
) -> None:
    expect_error(api.request(method, path), 404, "not_found", "invalid_request_error")


@pytest.mark.parametrize("path", ["/", "/v2/models", "/models"])
def test_a_path_outside_v1_is_404_in_the_envelope(
    api: httpx.Client, server: ServerTarget, path: str
) -> None:
    origin = server.https_url.removesuffix("/v1")
    expect_error(api.get(origin + path), 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "models", "GET"),
        ("POST", "models", "GET"),
        ("GET", "chat/completions", "POST"),
        ("PUT", "completions", "POST"),
        ("GET", "embeddings", "POST"),
    ],
)
def test_a_wrong_method_is_405_in_the_envelope_with_allow(
    api: httpx.Client, method: str, path: str, allowed: str
) -> None:
    response = api.request(method, path)
    expect_error(response, 405, "method_not_allowed", "invalid_request_error")
    allow = [m.strip() for m in response.headers.get("allow", "").split(",")]
    assert allowed in allow, (
        f"Received: Allow {response.headers.get('allow')!r} / Expected: it lists {allowed}"
    )


@pytest.mark.parametrize(
    ("simulate", "status"), [("upstream_error", 502), ("service_unavailable", 503)]
)
@pytest.mark.parametrize(
    ("method", "path"), [("POST", "chat/completions"), ("GET", "models")]
)
def test_a_simulated_upstream_failure_has_the_spec_status_and_code(
    api: httpx.Client, simulate: str, status: int, method: str, path: str
) -> None:
    body = CHAT if method == "POST" else None
    response = api.request(
        method, path, json=body, headers={"X-Qbtsuite-Simulate": simulate}
    )
    expect_error(response, status, simulate, "api_error")


def test_a_simulated_failure_still_requires_a_valid_key(api: httpx.Client) -> None:
    response = api.get(
        "models",
        headers={
            "Authorization": "Bearer qbt_unknown",
            "X-Qbtsuite-Simulate": "upstream_error",
        },
    )
    expect_error(response, 401, "invalid_api_key")


def test_an_unknown_simulation_name_is_ignored(api: httpx.Client) -> None:
    expect_ok(api.get("models", headers={"X-Qbtsuite-Simulate": "teapot"}))


def test_a_simulated_failure_of_a_stream_request_comes_before_any_event(
    api: httpx.Client,
) -> None:
    response = api.post(
        "chat/completions",
        json={**CHAT, "stream": True},
        headers={"X-Qbtsuite-Simulate": "upstream_error"},
    )
    expect_error(response, 502, "upstream_error")


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "models", None, 200),
        ("POST", "chat/completions", CHAT, 200),
        ("POST", "chat/completions", {"model": "gpt-oss-20b"}, 400),
        ("GET", "nope", None, 404),
    ],
)
def test_json_answers_carry_the_application_json_content_type(
    api: httpx.Client, method: str, path: str, body: object, status: int
) -> None:
    response = api.request(method, path, json=body)
    assert response.status_code == status, (
        f"Received: {response.status_code} / Expected: {status}"
    )
    media = response.headers.get("content-type", "")
    assert media.split(";")[0].strip() == "application/json", (
        f"Received: Content-Type {media!r} / Expected: application/json"
    )
    assert isinstance(response.json(), dict)
