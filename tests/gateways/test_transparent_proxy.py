"""With no behaviour switched on the emulator is a faithful proxy: Authorization,
streams, multipart uploads, the upload cap and the HTTPS redirect all pass through,
and every upstream call is bounded in time."""

from __future__ import annotations

import json
import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.gateways.conftest import WAV, emulator
from tests.gateways.harness import RunningGateway, gateway
from tests.gateways.options import GatewayOptions


@pytest.fixture(scope="module")
def proxy(
    upstream_info: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningGateway]:
    with emulator(upstream_info, tmp_path_factory, GatewayOptions()) as running:
        yield running


def _upstream_client(gw: RunningGateway) -> httpx.Client:
    return httpx.Client(
        base_url=gw.upstream.https_url + "/",
        verify=ssl.create_default_context(cafile=gw.upstream.ca),
        headers={"Authorization": f"Bearer {gw.keys['main']}"},
        timeout=30.0,
        trust_env=False,
    )


def test_the_model_list_is_the_upstreams(proxy: RunningGateway) -> None:
    with proxy.client() as api, _upstream_client(proxy) as direct:
        through, upstream = api.get("models"), direct.get("models")
    assert through.status_code == 200, f"Received: {through.status_code} {through.text}"
    assert through.json() == upstream.json()


def test_a_request_without_a_key_gets_the_upstreams_401(proxy: RunningGateway) -> None:
    with proxy.client(role=None) as api:
        response = api.get("models")
    assert response.status_code == 401, f"Received: {response.status_code}"
    assert response.json()["error"]["code"] == "invalid_api_key"


def test_a_stream_is_passed_on_event_by_event(proxy: RunningGateway) -> None:
    body = {
        "model": "Llama-3.1-8B-Instruct",
        "messages": [{"role": "user", "content": "hello"}],
        "max_tokens": 30,
        "stream": True,
    }
    arrivals: list[float] = []
    with (
        proxy.client() as api,
        api.stream("POST", "chat/completions", json=body) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("data:"):
                arrivals.append(time.monotonic())
    # The upstream paces tokens 20 ms apart: a buffering proxy would hand every
    # event over at once, at the end.
    assert len(arrivals) > 10, f"Received: {len(arrivals)} events"
    spread = arrivals[-1] - arrivals[0]
    assert spread > 0.2, (
        f"Received: all events within {spread:.3f} s; Expected: spread over the stream"
    )


def test_a_multipart_transcription_passes_through(proxy: RunningGateway) -> None:
    with proxy.client() as api:
        response = api.post(
            "audio/transcriptions",
            data={"model": "whisper-large-v3"},
            files={"file": ("speech.wav", WAV.read_bytes(), "audio/wav")},
        )
    assert response.status_code == 200, (
        f"Received: {response.status_code} {response.text}"
    )
    assert isinstance(response.json()["text"], str)


def test_an_upload_declared_over_the_cap_is_refused_413_unread(
    proxy: RunningGateway,
) -> None:
    # Only the head is sent: the answer must come from Content-Length alone.
    parts = urlsplit(proxy.base_url)
    assert parts.hostname and parts.port and proxy.ca
    head = (
        f"POST /v1/audio/transcriptions HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        f"Authorization: Bearer {proxy.keys['main']}\r\n"
        "Content-Type: multipart/form-data; boundary=x\r\n"
        f"Content-Length: {proxy.upstream.upload_cap + 1}\r\n\r\n"
    )
    context = ssl.create_default_context(cafile=proxy.ca)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname=parts.hostname) as tls:
            tls.sendall(head.encode())
            answer = b""
            while b"\r\n\r\n" not in answer and (chunk := tls.recv(65536)):
                answer += chunk
            head_bytes, _, body = answer.partition(b"\r\n\r\n")
            lines = head_bytes.decode("latin-1").split("\r\n")
            fields = dict(line.lower().split(": ", 1) for line in lines[1:])
            while len(body) < int(fields.get("content-length", "0")):
                if not (chunk := tls.recv(65536)):
                    break
                body += chunk
    assert lines[0].startswith("HTTP/1.1 413"), f"Received: {lines[0]!r}"
    code = json.loads(body)["error"]["code"]
    assert code == "request_entity_too_large", f"Received: {code}"


def test_plain_http_is_redirected_308_to_the_same_path_on_https(
    proxy: RunningGateway,
) -> None:
    assert proxy.http_url is not None
    with httpx.Client(trust_env=False, timeout=10.0) as plain:
        response = plain.get(proxy.http_url + "/models?x=1")
    assert response.status_code == 308, f"Received: {response.status_code}"
    assert response.headers["location"] == proxy.base_url + "/models?x=1"


def test_an_upstream_that_never_answers_ends_in_502_within_the_timeout(
    upstream_info: Path, tmp_path: Path
) -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # connections queue, nothing ever answers
    with silent:
        info = json.loads(upstream_info.read_text())
        info["https_url"] = f"https://127.0.0.1:{silent.getsockname()[1]}/v1"
        fake = tmp_path / "server.json"
        fake.write_text(json.dumps(info))
        options = GatewayOptions(upstream_timeout=0.5)
        with gateway(fake, options, tmp_path / "gw") as gw, gw.client() as api:
            response = api.get("models")
    assert response.status_code == 502, f"Received: {response.status_code}"
    assert response.json()["error"]["code"] == "upstream_error"
