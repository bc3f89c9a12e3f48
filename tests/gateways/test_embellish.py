"""--embellish: what real gateways add to valid answers. Null optional fields,
``system_fingerprint``, extra headers, gzip when accepted and CRLF-framed SSE, with
the content itself unchanged."""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.gateways.conftest import emulator
from tests.gateways.embellish import accepts_gzip
from tests.gateways.harness import RunningGateway
from tests.gateways.options import GatewayOptions

CHAT = {
    "model": "Llama-3.1-8B-Instruct",
    "messages": [{"role": "user", "content": "hello"}],
    "max_tokens": 8,
}


@pytest.fixture(scope="module")
def embellished(
    upstream_info: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningGateway]:
    with emulator(
        upstream_info, tmp_path_factory, GatewayOptions(embellish=True)
    ) as gw:
        yield gw


def test_gzip_is_accepted_by_q_value() -> None:
    assert accepts_gzip("gzip, deflate")
    assert accepts_gzip("br;q=1, *;q=0.5")
    assert not accepts_gzip("gzip;q=0, *")
    assert not accepts_gzip("identity")


def test_absent_optional_chat_fields_come_back_null(
    embellished: RunningGateway,
) -> None:
    with embellished.client() as api:
        body = api.post("chat/completions", json=CHAT).json()
    choice = body["choices"][0]
    assert choice["message"]["tool_calls"] is None
    assert choice["message"]["function_call"] is None
    assert "logprobs" in choice and choice["logprobs"] is None
    assert isinstance(body["system_fingerprint"], str)


def test_the_content_is_the_upstreams(embellished: RunningGateway) -> None:
    upstream = embellished.upstream
    with (
        embellished.client() as api,
        httpx.Client(
            base_url=upstream.https_url + "/",
            verify=ssl.create_default_context(cafile=upstream.ca),
            headers={"Authorization": f"Bearer {upstream.keys['main']}"},
            trust_env=False,
            timeout=30.0,
        ) as direct,
    ):
        through = api.post("chat/completions", json=CHAT).json()
        plain = direct.post("chat/completions", json=CHAT).json()
    assert (
        through["choices"][0]["message"]["content"]
        == plain["choices"][0]["message"]["content"]
    )
    assert through["usage"]["total_tokens"] == plain["usage"]["total_tokens"]


def test_gateway_headers_are_added(embellished: RunningGateway) -> None:
    with embellished.client() as api:
        response = api.get("models")
    for name in ("x-request-id", "openai-processing-ms", "via"):
        assert name in response.headers, f"Received headers: {sorted(response.headers)}"
    assert response.headers["server"] == "nginx"


def test_a_json_answer_is_gzipped_only_when_accepted(
    embellished: RunningGateway,
) -> None:
    with embellished.client() as api:
        zipped = api.get("models", headers={"Accept-Encoding": "gzip"})
        unzipped = api.get("models", headers={"Accept-Encoding": "identity"})
    assert zipped.headers.get("content-encoding") == "gzip"
    assert zipped.json()["object"] == "list"  # httpx decodes it
    assert "content-encoding" not in unzipped.headers


def test_a_stream_is_framed_with_crlf_and_carries_the_fingerprint(
    embellished: RunningGateway,
) -> None:
    raw = b""
    with (
        embellished.client() as api,
        api.stream(
            "POST", "chat/completions", json={**CHAT, "stream": True}
        ) as response,
    ):
        for chunk in response.iter_raw():
            raw += chunk
    assert b"\r\n\r\n" in raw and raw.count(b"\n") == raw.count(b"\r\n"), (
        f"Received: {raw[:120]!r}"
    )
    events = [e for e in raw.split(b"\r\n\r\n") if e]
    assert events[-1] == b"data: [DONE]"
    chunks = [json.loads(e.removeprefix(b"data: ")) for e in events[:-1]]
    assert all(c["system_fingerprint"] for c in chunks)
    assert all(c["choices"][0]["delta"]["tool_calls"] is None for c in chunks)
