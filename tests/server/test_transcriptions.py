"""POST /v1/audio/transcriptions of the reference server, and its 25 MB upload cap.

Endpoint tests talk HTTPS to the session server with the committed audio fixtures;
metering and the replaceable duration reader are checked in-process. Oversize bodies
are streamed from generators that reuse one 64 KiB block (25 MB is never built).

"Accepted" for a body at the cap means: read to the end, parsed, and transcribed with
200 — the padding travels in an extra file part, which the endpoint ignores.
"""

from __future__ import annotations

import io
import itertools
import json
import socket
import ssl
from collections.abc import Iterator
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import httpx
import pytest
from starlette.testclient import TestClient

from qbtsuite.payloads.audio import AudioFixture, load_manifest
from qbtsuite.server.app import create_app
from qbtsuite.server.audioinfo import AudioInfo, UndecodableAudio, read_audio_info
from qbtsuite.server.keys import KeyStore
from qbtsuite.server.parts import build_parts
from qbtsuite.server.settings import ServerSettings
from qbtsuite.target.embedded import ServerTarget
from qbtsuite.target.filled import FilledBody

MODEL = "whisper-large-v3-turbo"
PATH = "audio/transcriptions"  # relative to the client's base URL, which ends in /v1/
FIXTURES = load_manifest()
BY_NAME = {f.file: f for f in FIXTURES}
SEGMENT_FIELDS = {
    "id": int,
    "seek": int,
    "start": float,
    "end": float,
    "text": str,
    "tokens": list,
    "temperature": float,
    "avg_logprob": float,
    "compression_ratio": float,
    "no_speech_prob": float,
}


def _transcribe(
    api: httpx.Client, fixture: AudioFixture, **fields: str
) -> httpx.Response:
    data = {"model": MODEL, **fields}
    upload = (fixture.file, fixture.path.read_bytes(), fixture.content_type)
    return api.post(PATH, data=data, files={"file": upload})


def _ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, (
        f"Received: {response.status_code} {response.text[:300]} / Expected: 200"
    )
    if response.headers["content-type"].startswith("application/json"):
        return response.json()
    return response.text


def _assert_error(
    response: httpx.Response, status: int, code: str, param: str | None
) -> None:
    assert response.status_code == status, (
        f"Received: {response.status_code} {response.text[:300]} / Expected: {status} {code}"
    )
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}, error
    assert (error["code"], error["param"]) == (code, param), (
        f"Received: {error['code']} (param {error['param']}) / Expected: {code} (param {param})"
    )


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda f: f.file)
def test_default_json_response_has_text_and_language(
    api: httpx.Client, fixture: AudioFixture
) -> None:
    payload = _ok(_transcribe(api, fixture))
    assert set(payload) == {"text", "language"}, payload
    assert isinstance(payload["text"], str) and payload["text"].endswith(".")
    assert len(payload["text"].split()) >= 5
    assert payload["language"] == "en"


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda f: f.file)
def test_verbose_json_duration_is_within_0_1_s_of_the_true_duration(
    api: httpx.Client, fixture: AudioFixture
) -> None:
    payload = _ok(_transcribe(api, fixture, response_format="verbose_json"))
    assert abs(payload["duration"] - fixture.duration) <= 0.1, (
        f"Received: duration {payload['duration']} / Expected: {fixture.duration} ± 0.1"
    )
    assert payload["usage"] == {"type": "duration", "seconds": payload["duration"]}
    assert payload["task"] == "transcribe" and payload["language"] == "en"


@pytest.mark.parametrize("name", ["speech-like.wav", "tone-440hz.mp3"])
def test_verbose_json_segments_have_openai_fields_and_cover_the_whole_audio(
    api: httpx.Client, name: str
) -> None:
    payload = _ok(
        _transcribe(
            api, BY_NAME[name], response_format="verbose_json", temperature="0.3"
        )
    )
    segments = payload["segments"]
    assert segments, "Received: no segments / Expected: at least one"
    for index, seg in enumerate(segments):
        assert {k: type(seg[k]) for k in seg} == SEGMENT_FIELDS, seg
        assert seg["id"] == index and seg["temperature"] == 0.3
        assert seg["start"] < seg["end"] and seg["avg_logprob"] < 0
        assert all(isinstance(t, int) for t in seg["tokens"])
    assert segments[0]["start"] == 0.0
    assert segments[-1]["end"] == payload["duration"]
    assert all(a["end"] == b["start"] for a, b in itertools.pairwise(segments))
    assert "".join(s["text"] for s in segments).strip() == payload["text"]


@pytest.mark.parametrize("name", ["speech-like.wav", "speech-like.mp3"])
def test_text_format_is_the_bare_transcript_as_plain_text_not_json(
    api: httpx.Client, name: str
) -> None:
    fixture = BY_NAME[name]
    response = _transcribe(api, fixture, response_format="text")
    body = _ok(response)
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    with pytest.raises(json.JSONDecodeError):
        json.loads(body)
    assert body == _ok(_transcribe(api, fixture))["text"]


def test_same_audio_gives_the_same_text_and_other_audio_another(
    api: httpx.Client,
) -> None:
    first = _ok(_transcribe(api, BY_NAME["speech-like.flac"]))["text"]
    again = _ok(_transcribe(api, BY_NAME["speech-like.flac"]))["text"]
    other = _ok(_transcribe(api, BY_NAME["tone-440hz.flac"]))["text"]
    assert first == again and first != other


def test_requested_language_is_echoed(api: httpx.Client) -> None:
    payload = _ok(
        _transcribe(api, BY_NAME["tone-440hz.ogg"], language="de", prompt="Hallo")
    )
    assert payload["language"] == "de"


def test_missing_file_is_rejected_with_400_naming_file(api: httpx.Client) -> None:
    response = api.post(PATH, data={"model": MODEL}, files={"other": ("x.txt", b"x")})
    _assert_error(response, 400, "invalid_request", "file")


def test_missing_model_is_rejected_with_400_naming_model(api: httpx.Client) -> None:
    fixture = BY_NAME["tone-440hz.wav"]
    upload = (fixture.file, fixture.path.read_bytes(), fixture.content_type)
    _assert_error(
        api.post(PATH, files={"file": upload}), 400, "invalid_request", "model"
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("response_format", "srt"),
        ("response_format", "vtt"),
        ("response_format", "JSON"),
        ("language", "english"),
        ("language", "EN"),
        ("temperature", "hot"),
        ("temperature", "1.5"),
    ],
)
def test_invalid_optional_field_is_rejected_with_400_naming_it(
    api: httpx.Client, field: str, value: str
) -> None:
    response = _transcribe(api, BY_NAME["tone-440hz.wav"], **{field: value})
    _assert_error(response, 400, "invalid_request", field)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"plain text, not audio" * 10,
        b"RIFF\x00\x00\x00\x00WAVEjunk" * 8,
        b"ID3" + bytes(200),
    ],
)
def test_undecodable_audio_is_rejected_with_400_naming_file(
    api: httpx.Client, content: bytes
) -> None:
    response = api.post(
        PATH, data={"model": MODEL}, files={"file": ("a.wav", content, "audio/wav")}
    )
    _assert_error(response, 400, "invalid_request", "file")


def test_file_sent_as_a_text_field_is_rejected_with_400_naming_file(
    api: httpx.Client,
) -> None:
    response = api.post(
        PATH, data={"model": MODEL, "file": "not a file"}, files={"x": ("x", b"x")}
    )
    _assert_error(response, 400, "invalid_request", "file")


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/x-www-form-urlencoded", None]
)
def test_non_multipart_body_is_rejected_with_400_naming_the_content_type(
    api: httpx.Client, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = api.post(PATH, content=b'{"model": "whisper-large-v3"}', headers=headers)
    _assert_error(response, 400, "invalid_request", None)
    assert "Content-Type" in response.json()["error"]["message"]


@pytest.mark.parametrize("model", ["whisper-9", "gpt-oss-20b", "bge-m3"])
def test_unknown_or_non_transcription_model_is_rejected_with_400_model_not_found(
    api: httpx.Client, model: str
) -> None:
    response = _transcribe(api, BY_NAME["tone-440hz.wav"], model=model)
    _assert_error(response, 400, "model_not_found", "model")


def test_zero_balance_key_is_refused_with_402(
    server: ServerTarget, api: httpx.Client
) -> None:
    request = api.build_request(
        "POST",
        PATH,
        data={"model": MODEL},
        files={
            "file": ("a.wav", BY_NAME["tone-440hz.wav"].path.read_bytes(), "audio/wav")
        },
    )
    request.headers["Authorization"] = f"Bearer {server.keys['zero_balance']}"
    _assert_error(api.send(request), 402, "insufficient_funds", None)


# --- the 25 MB cap -----------------------------------------------------------------


class PaddedUpload:
    """A valid multipart body of exactly ``total`` bytes: the fields, a real audio
    file, then a ``padding`` file part that fills the rest. Streamed, never built."""

    boundary = "qbtsuite-cap-test"

    def __init__(self, audio: AudioFixture, total: int) -> None:
        b = self.boundary.encode()
        fields = b"".join(
            b'--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
            % (b, k, v)
            for k, v in (
                (b"model", MODEL.encode()),
                (b"response_format", b"verbose_json"),
            )
        )
        self.head = (
            fields
            + b'--%s\r\nContent-Disposition: form-data; name="file"; filename="%s"\r\n'
            b"Content-Type: %s\r\n\r\n"
            % (b, audio.file.encode(), audio.content_type.encode())
            + audio.path.read_bytes()
            + b'\r\n--%s\r\nContent-Disposition: form-data; name="padding"; '
            b'filename="padding.bin"\r\nContent-Type: application/octet-stream\r\n\r\n'
            % b
        )
        self.tail = b"\r\n--%s--\r\n" % b
        self.padding = total - len(self.head) - len(self.tail)
        self.total = total
        assert self.padding > 0

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def chunks(self) -> Iterator[bytes]:
        return iter(FilledBody(self.head, self.padding, 0, self.tail))


def _post_stream(
    api: httpx.Client, upload: PaddedUpload, *, declare_length: bool
) -> httpx.Response:
    headers = {"Content-Type": upload.content_type}
    if declare_length:
        headers["Content-Length"] = str(upload.total)  # else httpx sends it chunked
    return api.post(PATH, content=upload.chunks(), headers=headers)


@pytest.mark.slow
def test_body_of_exactly_the_cap_is_accepted_and_transcribed(
    server: ServerTarget, api: httpx.Client
) -> None:
    audio = BY_NAME["speech-like.wav"]
    response = _post_stream(
        api, PaddedUpload(audio, server.upload_cap), declare_length=True
    )
    payload = _ok(response)
    assert abs(payload["duration"] - audio.duration) <= 0.1, payload["duration"]


@pytest.mark.slow
def test_chunked_body_under_the_cap_is_accepted(
    server: ServerTarget, api: httpx.Client
) -> None:
    audio = BY_NAME["tone-440hz.mp3"]
    response = _post_stream(
        api, PaddedUpload(audio, 3 * 1024 * 1024), declare_length=False
    )
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert abs(_ok(response)["duration"] - audio.duration) <= 0.1


@pytest.mark.slow
@pytest.mark.parametrize(
    "declare_length", [True, False], ids=["content-length", "chunked"]
)
def test_body_one_byte_over_the_cap_is_rejected_with_413(
    server: ServerTarget, api: httpx.Client, declare_length: bool
) -> None:
    upload = PaddedUpload(BY_NAME["tone-440hz.wav"], server.upload_cap + 1)
    response = _post_stream(api, upload, declare_length=declare_length)
    _assert_error(response, 413, "request_entity_too_large", None)
    assert response.json()["error"]["type"] == "invalid_request_error"
    follow_up = api.get("models")  # the client and server carry on normally
    assert follow_up.status_code == 200


def _read_response(sock: ssl.SSLSocket) -> tuple[bytes, dict[str, str], bytes]:
    """Status line, headers and Content-Length body of one HTTP/1.1 response."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, (
            f"Received: connection closed after {data!r} / Expected: a response"
        )
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {
        k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines)
    }
    while len(body) < int(headers["content-length"]):
        body += sock.recv(65536)
    return status.encode(), headers, body


def test_oversize_content_length_gets_413_before_any_body_byte_is_sent(
    server: ServerTarget,
) -> None:
    url = urlsplit(server.https_url)
    assert url.hostname is not None and url.port is not None
    context = ssl.create_default_context(cafile=server.ca)
    request = (
        f"POST /v1/{PATH} HTTP/1.1\r\nHost: {url.hostname}:{url.port}\r\n"
        f"Authorization: Bearer {server.keys['main']}\r\n"
        "Content-Type: multipart/form-data; boundary=never-sent\r\n"
        f"Content-Length: {server.upload_cap + 1}\r\n\r\n"
    ).encode()
    with socket.create_connection((url.hostname, url.port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname=url.hostname) as sock:
            sock.sendall(request)  # headers only: not one byte of the body
            status, headers, body = _read_response(sock)
            closed = sock.recv(1) == b""
    assert status.split()[1] == b"413", f"Received: {status!r} / Expected: 413"
    assert json.loads(body)["error"]["code"] == "request_entity_too_large"
    assert headers.get("connection") == "close"
    assert closed, "Received: connection left open / Expected: closed after the 413"


# --- in-process: metering and the replaceable duration reader ------------------------


@pytest.fixture
def local() -> Iterator[tuple[TestClient, KeyStore, Any]]:
    """An in-process app whose accounts and parts the test can inspect."""
    keys = KeyStore.default()
    parts = build_parts(ServerSettings(), keys)
    headers = {"Authorization": f"Bearer {keys.by_role()['main']}"}
    with TestClient(
        create_app(parts), base_url="https://testserver", headers=headers
    ) as client:
        yield client, keys, parts


def _local_post(client: TestClient, name: str, **fields: str) -> Any:
    fixture = BY_NAME[name]
    upload = (fixture.file, fixture.path.read_bytes(), fixture.content_type)
    return client.post(
        "/v1/" + PATH, data={"model": MODEL, **fields}, files={"file": upload}
    )


def test_transcription_is_metered_per_second_of_decoded_audio(
    local: tuple[TestClient, KeyStore, Any],
) -> None:
    client, keys, _ = local
    account = keys.get(keys.by_role()["main"])
    assert account is not None
    before = account.balance
    response = _local_post(client, "speech-like.ogg", response_format="verbose_json")
    assert response.status_code == 200, response.text
    seconds = response.json()["usage"]["seconds"]
    assert seconds == pytest.approx(BY_NAME["speech-like.ogg"].duration, abs=0.01)
    charged = before - account.balance  # balances near 1e12 keep ~1e-4 precision
    assert charged == pytest.approx(seconds * keys.pricing.audio_second, abs=1e-3)


def test_rejected_upload_is_not_metered(
    local: tuple[TestClient, KeyStore, Any],
) -> None:
    client, keys, _ = local
    account = keys.get(keys.by_role()["main"])
    assert account is not None
    before = account.balance
    assert (
        _local_post(client, "tone-440hz.wav", response_format="srt").status_code == 400
    )
    assert account.balance == before


def test_duration_comes_from_the_replaceable_audio_reader(
    local: tuple[TestClient, KeyStore, Any],
) -> None:
    client, _, parts = local
    parts.audio_reader = lambda file: AudioInfo("wav", 7.25)
    response = _local_post(client, "tone-440hz.wav", response_format="verbose_json")
    assert response.json()["duration"] == 7.25


# --- the reader itself ----------------------------------------------------------------


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda f: f.file)
def test_reader_recognises_the_format_from_the_bytes_not_the_name(
    fixture: AudioFixture,
) -> None:
    with fixture.path.open("rb") as file:
        info = read_audio_info(file)
    assert info.format == fixture.format
    assert abs(info.duration - fixture.duration) <= 0.05


def test_reader_rejects_a_truncated_file_and_leaves_the_position_usable() -> None:
    data = BY_NAME["tone-440hz.mp3"].path.read_bytes()[:300]
    file: BinaryIO = io.BytesIO(data)
    with pytest.raises(UndecodableAudio):
        read_audio_info(file)
    file.seek(0)
    assert file.read() == data
