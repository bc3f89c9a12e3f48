"""Authentication of the reference server (spec/getting-started.txt "Authenticate").

"Every request needs a Bearer token"; "A request with a missing or invalid key
returns" 401 ``invalid_api_key`` in the envelope. A key is only ever read from the
``Authorization: Bearer`` header, and no error message repeats it.
"""

from __future__ import annotations

import base64
import secrets
import socket
import ssl
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from qbtsuite.target.embedded import ServerTarget
from tests.conftest import client_for
from tests.server.apicheck import expect_error, expect_ok

CHAT = {
    "model": "gpt-oss-20b",
    "messages": [{"role": "user", "content": "hello"}],
    "max_tokens": 4,
}
EMBED = {"model": "bge-m3", "input": "hello"}

# Every API route, with a valid body where it takes one.
ENDPOINTS = [
    ("GET", "models", None),
    ("POST", "completions", {"model": "gpt-oss-20b", "prompt": "hi", "max_tokens": 2}),
    ("POST", "chat/completions", CHAT),
    ("POST", "embeddings", EMBED),
]


@pytest.fixture
def anonymous(server: ServerTarget) -> Iterator[httpx.Client]:
    """A client of the session server that sends no Authorization header."""
    with client_for(server, None) as client:
        yield client


def _unknown_key() -> str:
    return "qbt_test_" + secrets.token_hex(16)


def _expect_401(response: httpx.Response, *secrets_sent: str) -> None:
    expect_error(response, 401, "invalid_api_key", "invalid_request_error")
    for secret in secrets_sent:
        assert secret not in response.text, (
            "Received: the error body repeats the credential that was sent / "
            "Expected: no key material in the response"
        )


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_missing_key_is_rejected_with_401_invalid_api_key_on_every_endpoint(
    anonymous: httpx.Client, method: str, path: str, body: dict[str, object] | None
) -> None:
    _expect_401(anonymous.request(method, path, json=body))


def test_missing_key_is_rejected_before_the_body_is_validated(
    anonymous: httpx.Client,
) -> None:
    _expect_401(anonymous.post("chat/completions", content=b"{not json"))


def test_bearer_without_a_token_is_rejected_with_401(
    anonymous: httpx.Client,
) -> None:
    _expect_401(anonymous.get("models", headers={"Authorization": "Bearer"}))


def test_bearer_with_only_a_space_is_rejected_with_401(server: ServerTarget) -> None:
    # httpx refuses to send a header value with trailing whitespace, so write it raw.
    status, body = _raw_get(server, "/v1/models", b"Authorization: Bearer \r\n")
    assert status == 401, f"Received: {status} {body[:200]!r} / Expected: 401"
    assert b'"code":"invalid_api_key"' in body, (
        f"Received: {body[:300]!r} / Expected: code invalid_api_key"
    )


@pytest.mark.parametrize("scheme", ["Basic", "Token", "Bearer:", "Bearerqbt"])
def test_a_scheme_other_than_bearer_is_rejected_with_401(
    anonymous: httpx.Client, server: ServerTarget, scheme: str
) -> None:
    key = server.keys["main"]
    value = f"{scheme} {key}"
    if scheme == "Basic":
        value = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    if scheme == "Bearerqbt":
        value = "Bearer" + key
    response = anonymous.get("models", headers={"Authorization": value})
    _expect_401(response, key)


@pytest.mark.parametrize(
    "value", ["Bearer a b", "Bearer {key} extra", "Bearer {key}!", "Bearer\t{key}"]
)
def test_a_malformed_bearer_header_is_rejected_with_401(
    anonymous: httpx.Client, server: ServerTarget, value: str
) -> None:
    key = server.keys["main"]
    response = anonymous.get("models", headers={"Authorization": value.format(key=key)})
    _expect_401(response, key)


def test_an_unknown_qbt_key_is_rejected_with_401_and_not_echoed(
    anonymous: httpx.Client,
) -> None:
    key = _unknown_key()
    response = anonymous.post(
        "chat/completions", json=CHAT, headers={"Authorization": f"Bearer {key}"}
    )
    _expect_401(response, key)
    assert key[4:] not in response.text


def test_a_key_of_another_form_is_rejected_with_401(anonymous: httpx.Client) -> None:
    key = "sk-" + secrets.token_hex(20)
    _expect_401(
        anonymous.get("models", headers={"Authorization": f"Bearer {key}"}), key
    )


@pytest.mark.parametrize("name", ["api_key", "key", "access_token"])
def test_a_key_in_the_query_string_is_not_a_credential(
    anonymous: httpx.Client, server: ServerTarget, name: str
) -> None:
    key = server.keys["main"]
    response = anonymous.get("models", params={name: key})
    _expect_401(response, key)


@pytest.mark.parametrize("header", ["X-Api-Key", "Api-Key", "Proxy-Authorization"])
def test_a_key_in_another_header_is_not_a_credential(
    anonymous: httpx.Client, server: ServerTarget, header: str
) -> None:
    key = server.keys["main"]
    value = key if header != "Proxy-Authorization" else f"Bearer {key}"
    _expect_401(anonymous.get("models", headers={header: value}), key)


@pytest.mark.parametrize("role", ["main", "second", "low_limit"])
def test_a_valid_key_is_admitted(server: ServerTarget, role: str) -> None:
    with client_for(server, role) as client:
        body = expect_ok(client.get("models"))
    assert body["object"] == "list"


def test_several_spaces_after_bearer_are_allowed(
    anonymous: httpx.Client, server: ServerTarget
) -> None:
    # RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token.
    headers = {"Authorization": f"Bearer   {server.keys['main']}"}
    expect_ok(anonymous.get("models", headers=headers))


def test_the_bearer_scheme_name_is_case_insensitive(
    anonymous: httpx.Client, server: ServerTarget
) -> None:
    # RFC 9110 §11.1: "It uses a case-insensitive token to identify the scheme".
    headers = {"Authorization": f"bearer {server.keys['main']}"}
    expect_ok(anonymous.get("models", headers=headers))


def test_a_zero_balance_key_gets_402_insufficient_funds_on_a_metered_call(
    server: ServerTarget,
) -> None:
    with client_for(server, "zero_balance") as client:
        response = client.post("chat/completions", json=CHAT)
    expect_error(response, 402, "insufficient_funds", "insufficient_quota")


def test_a_zero_balance_key_gets_402_on_completions_and_embeddings(
    server: ServerTarget,
) -> None:
    with client_for(server, "zero_balance") as client:
        completion = {"model": "gpt-oss-20b", "prompt": "hi", "max_tokens": 2}
        expect_error(
            client.post("completions", json=completion), 402, "insufficient_funds"
        )
        expect_error(client.post("embeddings", json=EMBED), 402, "insufficient_funds")


def test_a_zero_balance_key_can_still_list_models(server: ServerTarget) -> None:
    with client_for(server, "zero_balance") as client:
        assert expect_ok(client.get("models"))["data"], "Expected a non-empty list"


def test_a_zero_balance_stream_request_is_refused_before_any_event(
    server: ServerTarget,
) -> None:
    with client_for(server, "zero_balance") as client:
        response = client.post("chat/completions", json={**CHAT, "stream": True})
    expect_error(response, 402, "insufficient_funds")


def _raw_get(
    target: ServerTarget, path: str, extra_headers: bytes
) -> tuple[int, bytes]:
    """Send one HTTPS GET with exactly the given header bytes; return status and body."""
    url = urlsplit(target.https_url)
    assert url.hostname is not None and url.port is not None
    context = ssl.create_default_context(cafile=target.ca)
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {url.hostname}:{url.port}\r\n".encode()
        + extra_headers
        + b"Connection: close\r\n\r\n"
    )
    with (
        socket.create_connection((url.hostname, url.port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=url.hostname) as tls,
    ):
        tls.sendall(request)
        data = b""
        while chunk := tls.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body
