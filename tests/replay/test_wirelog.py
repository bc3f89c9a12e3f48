"""The run's recording: every exchange kept redacted and replayable, and replayed
from it with no network."""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx
import pytest

from qbtsuite import redact
from qbtsuite.target.replay import ReplayTransport
from qbtsuite.target.taping import RecordingTransport
from qbtsuite.target.wirelog import (
    Credentials,
    ExchangeLog,
    read_exchanges,
    set_current_test,
)

KEY = "qbt_" + secrets.token_urlsafe(24)
redact.register(KEY)
CREDENTIALS = Credentials({KEY: "main"})


def _server(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/v1/echo":  # a target echoing the key
        seen = request.headers["authorization"]
        return httpx.Response(200, json={"seen": seen}, headers={"x-debug-auth": seen})
    if request.url.path == "/v1/stream":
        chunks = [b"data: 1\n\n", b"data: 2\n\n", b"data: [DONE]\n\n"]
        return httpx.Response(
            200,
            headers={"content-type": "text/event-stream"},
            stream=httpx.ByteStream(b"".join(chunks)),
        )
    return httpx.Response(401, json={"error": {"code": "invalid_api_key"}})


def _record(tmp_path: Path) -> Path:
    log = ExchangeLog(tmp_path / "exchanges", "local")
    transport = RecordingTransport(httpx.MockTransport(_server), log, CREDENTIALS)
    set_current_test("test_a.py::test_one")
    with httpx.Client(transport=transport) as client:
        client.post(
            "https://gw.test/v1/models",
            json={"prompt": f"key {KEY}"},
            headers={"Authorization": f"Bearer {KEY}"},
        )
        client.get("https://gw.test/v1/stream", headers={"Accept": "text/event-stream"})
        client.get(
            "https://gw.test/v1/echo", headers={"Authorization": f"Bearer {KEY}"}
        )
    return tmp_path


def test_a_recorded_exchange_names_the_key_by_role_and_never_holds_it(
    tmp_path: Path,
) -> None:
    run = _record(tmp_path)
    text = (run / "exchanges" / "local.jsonl").read_text()
    assert KEY not in text
    first, stream, echo = read_exchanges(run)
    assert first.test == "test_a.py::test_one"
    assert first.request.credential == "Bearer <main>"
    assert ("authorization", "Bearer <main>") in first.request.headers
    assert (
        KEY.encode() not in first.request.body and b"[REDACTED]" in first.request.body
    )
    assert first.response is not None and first.response.status == 401
    assert stream.streamed and stream.response is not None
    assert stream.response.body.endswith(b"data: [DONE]\n\n")
    assert all(c.offset >= 0 for c in stream.response.chunks)
    assert echo.response is not None and echo.response.redacted


def test_the_replay_answers_a_recorded_request_as_it_was_answered(
    tmp_path: Path,
) -> None:
    run = _record(tmp_path)
    other = "qbt_" + secrets.token_urlsafe(24)  # the replay's own key in the same role
    redact.register(other)
    replay = ReplayTransport(read_exchanges(run), Credentials({other: "main"}))
    set_current_test("test_a.py::test_one")
    with httpx.Client(transport=replay) as client:
        answer = client.post(
            "https://gw.test/v1/models",
            json={"prompt": f"key {other}"},
            headers={"Authorization": f"Bearer {other}"},
        )
        stream = client.get(
            "https://gw.test/v1/stream", headers={"Accept": "text/event-stream"}
        )
    assert answer.status_code == 401
    assert answer.json() == {"error": {"code": "invalid_api_key"}}
    assert stream.text.endswith("data: [DONE]\n\n")
    assert not replay.misses


@pytest.mark.parametrize(
    ("path", "headers", "why"),
    [
        ("/v1/models", {"Authorization": "Bearer other-key-00000"}, "not recorded"),
        ("/v1/echo", {"Authorization": f"Bearer {KEY}"}, "a key scrubbed out of it"),
    ],
    ids=["another-credential", "answer-scrubbed"],
)
def test_a_request_the_recording_cannot_answer_faithfully_is_a_miss_not_a_network_call(
    tmp_path: Path, path: str, headers: dict[str, str], why: str
) -> None:
    run = _record(tmp_path)
    replay = ReplayTransport(read_exchanges(run), CREDENTIALS)
    set_current_test("test_a.py::test_one")
    with httpx.Client(transport=replay) as client, pytest.raises(httpx.ConnectError):
        client.get("https://gw.test" + path, headers=headers)
    assert why in replay.misses["test_a.py::test_one"][0]


def test_multipart_bodies_match_whatever_their_random_boundary(tmp_path: Path) -> None:
    log = ExchangeLog(tmp_path / "exchanges", "local")
    transport = RecordingTransport(httpx.MockTransport(_server), log, CREDENTIALS)
    set_current_test("test_b.py::test_upload")
    files = {"file": ("a.wav", b"RIFF0000WAVE", "audio/wav")}
    with httpx.Client(transport=transport) as client:
        client.post(
            "https://gw.test/v1/audio/transcriptions", files=files, data={"model": "w"}
        )
    replay = ReplayTransport(read_exchanges(tmp_path), CREDENTIALS)
    with httpx.Client(transport=replay) as client:
        again = client.post(
            "https://gw.test/v1/audio/transcriptions", files=files, data={"model": "w"}
        )
    assert again.status_code == 401 and not replay.misses


def test_a_credential_holding_a_roles_key_names_the_role_as_is_or_in_base64() -> None:
    import base64

    basic = base64.b64encode(f"{KEY}:".encode()).decode()
    assert CREDENTIALS.name(f"Bearer {KEY} extra") == "Bearer <main> extra"
    assert CREDENTIALS.name(f"Basic {basic}") == "Basic base64(<main>:)"
    assert CREDENTIALS.name("Bearer") == "<6 characters, no scheme>"


def test_a_line_cut_by_a_stop_mid_write_is_left_out_and_any_other_bad_line_is_named(
    tmp_path: Path,
) -> None:
    run = _record(tmp_path)
    path = run / "exchanges" / "local.jsonl"
    whole = path.read_text()
    path.write_text(whole + '{"test": "cut')
    assert len(read_exchanges(run)) == 3
    path.write_text('{"test": 1}\n' + whole)
    with pytest.raises(ValueError, match=r"local.jsonl:1: not a recorded exchange"):
        read_exchanges(run)


def _large_answers(tmp_path: Path, bodies: list[bytes]) -> ExchangeLog:
    answers = iter(bodies)

    def server(request: httpx.Request) -> httpx.Response:
        data = next(answers)
        chunks = [data[i : i + 70_000] for i in range(0, len(data), 70_000)]
        return httpx.Response(200, stream=httpx.ByteStream(b"".join(chunks)))

    log = ExchangeLog(tmp_path / "exchanges", "local")
    transport = RecordingTransport(httpx.MockTransport(server), log, CREDENTIALS)
    set_current_test("test_a.py::test_large")
    with httpx.Client(transport=transport) as client:
        for _ in bodies:
            client.get("https://gw.test/v1/models").read()
    return log


def test_a_large_answer_sent_again_is_kept_once_and_read_back_whole(
    tmp_path: Path,
) -> None:
    body = b"[" * 300_000 + b"]" * 300_000  # what a hostile target sends every time
    _large_answers(tmp_path, [body] * 5)
    kept = list((tmp_path / "exchanges" / "bodies").iterdir())
    assert len(kept) == 1 and kept[0].stat().st_size == len(body)
    line_bytes = (tmp_path / "exchanges" / "local.jsonl").stat().st_size
    assert line_bytes < 5 * 2000, f"Received: {line_bytes} bytes of lines"
    exchanges = read_exchanges(tmp_path)
    assert [ex.response.body for ex in exchanges if ex.response] == [body] * 5
    assert not any(ex.response and ex.response.redacted for ex in exchanges)


def test_past_the_bodies_budget_an_answer_is_kept_without_its_body_and_marked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qbtsuite.target import wirelog

    monkeypatch.setattr(wirelog, "BODIES_UP_TO", 250_000)
    first, second = bytes(200_000), b"x" * 200_000  # distinct: no dedupe
    _large_answers(tmp_path, [first, second, first])
    answers = [ex.response for ex in read_exchanges(tmp_path)]
    assert [a.body if a else None for a in answers] == [first, b"", first]
    assert [a.redacted if a else None for a in answers] == [False, True, False]
