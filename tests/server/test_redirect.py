"""The plain-HTTP listener and HSTS (spec/getting-started.txt "HTTPS only").

"Plain HTTP requests are redirected to HTTPS": every request gets a 308 to the same
host, path and query on https, with an empty body, and is never processed (no key is
looked at, no limit counted). HTTPS responses carry Strict-Transport-Security
(RFC 6797), plain-HTTP ones never do (§7.2); ``--no-hsts`` turns it off.
"""

from __future__ import annotations

import re
import secrets
import ssl
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from qbtsuite.target.embedded import EmbeddedServer, ServerTarget
from tests.conftest import client_for
from tests.server.apicheck import expect_ok

CHAT = {
    "model": "gpt-oss-20b",
    "messages": [{"role": "user", "content": "over plain http"}],
    "max_tokens": 2,
}


@pytest.fixture(scope="module")
def fresh() -> Iterator[ServerTarget]:
    """A server of this module only, so the low_limit key's window starts empty."""
    with EmbeddedServer() as target:
        yield target


@pytest.fixture(scope="module")
def no_hsts() -> Iterator[ServerTarget]:
    with EmbeddedServer(args=["--no-hsts"]) as target:
        yield target


@pytest.fixture
def plain(server: ServerTarget) -> Iterator[httpx.Client]:
    """A plain-HTTP client of the session server that does not follow redirects."""
    with httpx.Client(base_url=server.http_url + "/", timeout=10.0) as client:
        yield client


def _canary() -> str:
    return "qbt_canary_" + secrets.token_hex(16)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _expect_redirect(response: httpx.Response, location: str) -> None:
    assert response.status_code == 308, (
        f"Received: {response.status_code} {response.text[:200]} / Expected: 308"
    )
    got = response.headers.get("location")
    assert got == location, f"Received: Location {got!r} / Expected: {location!r}"
    assert response.content == b"", f"Received: body {response.content[:200]!r}"


@pytest.mark.parametrize(
    "target", ["models", "models?limit=2&after=x", "chat/completions?a=%20b&c"]
)
def test_a_plain_http_get_is_redirected_with_308_to_the_same_path_on_https(
    plain: httpx.Client, server: ServerTarget, target: str
) -> None:
    response = plain.get(target)
    _expect_redirect(response, f"{server.https_url}/{target}")


@pytest.mark.parametrize("with_key", [False, True])
def test_a_plain_http_post_is_redirected_with_308_and_not_processed(
    plain: httpx.Client, server: ServerTarget, with_key: bool
) -> None:
    canary = _canary()
    headers = {"Authorization": f"Bearer {canary}"} if with_key else {}
    response = plain.post("chat/completions?trace=1", json=CHAT, headers=headers)
    _expect_redirect(response, f"{server.https_url}/chat/completions?trace=1")
    assert canary not in str(response.headers) + response.text


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"])
def test_every_method_is_redirected(
    plain: httpx.Client, server: ServerTarget, method: str
) -> None:
    _expect_redirect(
        plain.request(method, "embeddings"), f"{server.https_url}/embeddings"
    )


def test_an_unknown_path_is_redirected_not_answered(
    plain: httpx.Client, server: ServerTarget
) -> None:
    origin = _origin(server.https_url)
    response = plain.get(_origin(server.http_url) + "/no/such/path?x=1")
    _expect_redirect(response, f"{origin}/no/such/path?x=1")


def test_the_redirect_keeps_the_host_the_client_used(
    plain: httpx.Client, server: ServerTarget
) -> None:
    http_port = urlsplit(server.http_url).port
    https_port = urlsplit(server.https_url).port
    response = plain.get("models", headers={"Host": f"localhost:{http_port}"})
    _expect_redirect(response, f"https://localhost:{https_port}/v1/models")


def test_a_percent_encoded_path_is_kept_byte_for_byte(
    plain: httpx.Client, server: ServerTarget
) -> None:
    response = plain.get("models/a%2Fb%20c")
    _expect_redirect(response, f"{server.https_url}/models/a%2Fb%20c")


def test_plain_http_requests_never_count_against_the_key(fresh: ServerTarget) -> None:
    key = fresh.keys["low_limit"]  # 30 requests per window on a fresh server
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=fresh.http_url + "/", timeout=10.0) as plain:
        for _ in range(32):
            response = plain.post("chat/completions", json=CHAT, headers=headers)
            assert response.status_code == 308, f"Received: {response.status_code}"
    # Had any of the 32 been processed, the key's 30-per-window limit would refuse this.
    with client_for(fresh, "low_limit") as client:
        expect_ok(client.post("chat/completions", json=CHAT))


def test_following_the_redirect_with_the_key_reaches_the_api(
    server: ServerTarget,
) -> None:
    # A client that re-sends the key to the https Location is served there.
    trust = ssl.create_default_context(cafile=server.ca)
    with httpx.Client(timeout=10.0, verify=trust) as client:
        response = client.get(
            server.http_url + "/models",
            headers={"Authorization": f"Bearer {server.keys['main']}"},
        )
        _expect_redirect(response, server.https_url + "/models")
        followed = client.get(
            response.headers["location"],
            headers={"Authorization": f"Bearer {server.keys['main']}"},
        )
    assert expect_ok(followed)["object"] == "list"


def test_plain_http_responses_carry_no_hsts(plain: httpx.Client) -> None:
    response = plain.get("models")
    assert "strict-transport-security" not in response.headers


@pytest.mark.parametrize(
    ("role", "path", "status"),
    [("main", "models", 200), (None, "models", 401), ("main", "nope", 404)],
)
def test_https_responses_carry_hsts(
    server: ServerTarget, role: str | None, path: str, status: int
) -> None:
    with client_for(server, role) as client:
        response = client.get(path)
    assert response.status_code == status
    value = response.headers.get("strict-transport-security", "")
    match = re.search(r"max-age=(\d+)", value)
    assert match is not None and int(match.group(1)) > 0, (
        f"Received: Strict-Transport-Security {value!r} / Expected: max-age > 0"
    )


def test_a_stream_carries_hsts(server: ServerTarget) -> None:
    with (
        client_for(server) as client,
        client.stream("POST", "chat/completions", json={**CHAT, "stream": True}) as r,
    ):
        assert r.status_code == 200
        assert "max-age=" in r.headers.get("strict-transport-security", "")


def test_no_hsts_omits_the_header(no_hsts: ServerTarget) -> None:
    with client_for(no_hsts) as client:
        response = client.get("models")
    assert response.status_code == 200
    assert "strict-transport-security" not in response.headers, (
        f"Received: {response.headers.get('strict-transport-security')!r} / "
        "Expected: no HSTS with --no-hsts"
    )
