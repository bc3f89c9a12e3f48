"""--rename-models: the gateway serves its own names only. Requests are mapped to the
upstream's names, answers (streams too) carry the gateway's, and any other name, the
upstream's originals included, is an unknown model in the envelope."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.gateways.behaviours import RENAMES
from tests.gateways.conftest import WAV, emulator
from tests.gateways.harness import RunningGateway
from tests.gateways.options import GatewayOptions, parse_renames
from tests.gateways.renames import (
    Rewritten,
    UnknownModel,
    rewrite_json_request,
    rewrite_multipart_request,
)

CHAT = "llama-3.1-8b-instruct"
HELLO = [{"role": "user", "content": "hello"}]


@pytest.fixture(scope="module")
def renamed(
    upstream_info: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningGateway]:
    with emulator(
        upstream_info, tmp_path_factory, GatewayOptions(renames=RENAMES)
    ) as gw:
        yield gw


def test_a_malformed_rename_list_is_refused_with_the_reason() -> None:
    for spec, reason in [
        ("a", "expected old=new"),
        ("a=b,c=b", "given twice"),
        ("", "no old=new"),
    ]:
        with pytest.raises(ValueError, match=reason):
            parse_renames(spec)


def test_the_multipart_model_part_is_rewritten_and_nothing_else() -> None:
    body = (
        b'--B\r\nContent-Disposition: form-data; name="file"; filename="model"\r\n'
        b"Content-Type: audio/wav\r\n\r\nRIFF-model-bytes\r\n"
        b'--B\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-large-v3\r\n--B--\r\n'
    )
    models = parse_renames("whisper-large-v3-turbo=whisper-large-v3")
    result = rewrite_multipart_request(body, "multipart/form-data; boundary=B", models)
    assert isinstance(result, Rewritten)
    assert result.body == body.replace(
        b"\r\n\r\nwhisper-large-v3\r\n", b"\r\n\r\nwhisper-large-v3-turbo\r\n"
    )


def test_an_unmapped_name_in_a_body_is_unknown() -> None:
    models = parse_renames("bge-m3=nomic-embed-text")
    assert rewrite_json_request(b'{"model": "bge-m3"}', models) == UnknownModel(
        "bge-m3"
    )
    mapped = rewrite_json_request(
        b'{"model": "nomic-embed-text", "input": "x"}', models
    )
    assert isinstance(mapped, Rewritten)
    assert json.loads(mapped.body) == {"model": "bge-m3", "input": "x"}


def test_the_model_list_names_exactly_the_gateways_models(
    renamed: RunningGateway,
) -> None:
    with renamed.client() as api:
        response = api.get("models")
    assert response.status_code == 200, f"Received: {response.status_code}"
    ids = sorted(m["id"] for m in response.json()["data"])
    assert ids == sorted(RENAMES.to_upstream), f"Received: {ids}"


def test_a_gateway_model_is_retrieved_under_its_name(renamed: RunningGateway) -> None:
    with renamed.client() as api:
        response = api.get(f"models/{CHAT}")
    assert response.status_code == 200, (
        f"Received: {response.status_code} {response.text}"
    )
    assert response.json()["id"] == CHAT


@pytest.mark.parametrize("name", ["bge-m3", "Llama-3.1-8B-Instruct", "no-such-model"])
def test_an_upstream_or_unknown_name_is_not_found(
    renamed: RunningGateway, name: str
) -> None:
    with renamed.client() as api:
        listed = api.get(f"models/{name}")
        chat = api.post("chat/completions", json={"model": name, "messages": HELLO})
    assert listed.status_code == 404, f"Received: {listed.status_code}"
    assert listed.json()["error"]["code"] == "model_not_found"
    assert chat.status_code == 400, f"Received: {chat.status_code}"
    error = chat.json()["error"]
    assert (error["code"], error["param"]) == ("model_not_found", "model")
    assert name in error["message"]


def test_an_unknown_model_with_a_bad_key_is_a_401(renamed: RunningGateway) -> None:
    with renamed.client(role=None) as api:
        response = api.post(
            "chat/completions",
            json={"model": "bge-m3", "messages": HELLO},
            headers={"Authorization": "Bearer qbt_not-a-key"},
        )
    assert response.status_code == 401, f"Received: {response.status_code}"


def test_a_chat_answer_names_the_gateway_model(renamed: RunningGateway) -> None:
    with renamed.client() as api:
        response = api.post("chat/completions", json={"model": CHAT, "messages": HELLO})
    assert response.status_code == 200, (
        f"Received: {response.status_code} {response.text}"
    )
    assert response.json()["model"] == CHAT


def test_every_stream_chunk_names_the_gateway_model(renamed: RunningGateway) -> None:
    body = {"model": CHAT, "prompt": "hello", "max_tokens": 5, "stream": True}
    models: set[str] = set()
    with (
        renamed.client() as api,
        api.stream("POST", "completions", json=body) as response,
    ):
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("data: {"):
                models.add(json.loads(line[6:])["model"])
    assert models == {CHAT}, f"Received: {models}"


def test_an_error_message_names_the_gateway_model(renamed: RunningGateway) -> None:
    with renamed.client() as api:
        response = api.post(
            "chat/completions", json={"model": "nomic-embed-text", "messages": HELLO}
        )
    assert response.status_code == 400, f"Received: {response.status_code}"
    message = response.json()["error"]["message"]
    assert "'nomic-embed-text'" in message and "bge-m3" not in message, (
        f"Received: {message}"
    )


def test_embeddings_answer_under_the_gateway_name(renamed: RunningGateway) -> None:
    with renamed.client() as api:
        response = api.post(
            "embeddings", json={"model": "nomic-embed-text", "input": "hi"}
        )
    assert response.status_code == 200, (
        f"Received: {response.status_code} {response.text}"
    )
    assert response.json()["model"] == "nomic-embed-text"


def test_a_multipart_upload_names_the_gateway_model(renamed: RunningGateway) -> None:
    with renamed.client() as api:
        served = api.post(
            "audio/transcriptions",
            data={"model": "whisper-large-v3"},
            files={"file": ("speech.wav", WAV.read_bytes(), "audio/wav")},
        )
        hidden = api.post(
            "audio/transcriptions",
            data={"model": "whisper-large-v3-turbo"},
            files={"file": ("speech.wav", WAV.read_bytes(), "audio/wav")},
        )
    assert served.status_code == 200, f"Received: {served.status_code} {served.text}"
    assert hidden.status_code == 400, f"Received: {hidden.status_code}"
    assert hidden.json()["error"]["code"] == "model_not_found"


def test_the_unknown_model_status_can_be_404(
    upstream_info: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    options = GatewayOptions(renames=RENAMES, unknown_model_status=404)
    with emulator(upstream_info, tmp_path_factory, options) as gw, gw.client() as api:
        response = api.post(
            "chat/completions", json={"model": "bge-m3", "messages": HELLO}
        )
    assert response.status_code == 404, f"Received: {response.status_code}"
    assert response.json()["error"]["code"] == "model_not_found"
