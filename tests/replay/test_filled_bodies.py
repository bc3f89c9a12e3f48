"""Oversized uploads and raw-socket requests get a curl line too: a filled body is
recorded as its head, its tail and the fill's size, and rebuilt whole on the way
into curl; an exchange made past httpx is recorded through the suite's client."""

from __future__ import annotations

import hashlib
import secrets
import subprocess
from pathlib import Path

import httpx
import pytest

from qbtsuite import redact
from qbtsuite.reporting.har import render_har
from qbtsuite.reporting.reproduce import reproductions, write_bodies
from qbtsuite.target.client import SuiteClient
from qbtsuite.target.config import load_settings
from qbtsuite.target.filled import FILLED_BODY, FilledBody
from qbtsuite.target.taping import RawReply, RecordingTransport
from qbtsuite.target.wirelog import (
    Credentials,
    ExchangeLog,
    read_exchanges,
    set_current_test,
)
from tests.harness.synthetic import synthetic_results

KEY = "qbt_" + secrets.token_urlsafe(24)
redact.register(KEY)
FAILING = "test_auth.py::test_unknown_key"  # a failing test of the synthetic results
BODY = FilledBody(b"--b\r\nhead \x00\xff\r\n", 300_000, ord("0"), b"\r\n--b--\r\n")


def _refuse(request: httpx.Request) -> httpx.Response:
    for _ in request.stream:  # type: ignore[union-attr]
        pass
    return httpx.Response(413, json={"error": {"code": "request_entity_too_large"}})


def _recorded_upload(tmp_path: Path) -> Path:
    log = ExchangeLog(tmp_path / "exchanges", "local")
    transport = RecordingTransport(
        httpx.MockTransport(_refuse), log, Credentials({KEY: "main"})
    )
    set_current_test(FAILING)
    request = httpx.Request(
        "POST",
        "https://gw.example/v1/audio/transcriptions",
        headers={"Authorization": f"Bearer {KEY}", "Content-Length": str(len(BODY))},
        content=BODY,
        extensions={FILLED_BODY: BODY},
    )
    with httpx.Client(transport=transport) as client:
        client.send(request).read()
    return tmp_path


def test_a_filled_body_streams_exactly_its_head_fill_and_tail() -> None:
    whole = b"".join(BODY)
    assert len(whole) == len(BODY) == 300_000 + len(BODY.head) + len(BODY.tail)
    assert whole == BODY.head + b"0" * 300_000 + BODY.tail
    with pytest.raises(ValueError):
        FilledBody(b"", -1, 0, b"")


def test_a_filled_body_is_recorded_as_its_ends_and_the_size_of_its_fill(
    tmp_path: Path,
) -> None:
    [exchange] = read_exchanges(_recorded_upload(tmp_path))
    req = exchange.request
    assert req.fill is not None and req.fill.count == 300_000
    assert req.body == BODY.head + BODY.tail and req.body_size == len(BODY)
    assert not req.body_recorded  # a replay never matches it
    assert exchange.response is not None and exchange.response.status == 413
    har = render_har([exchange])
    assert "300000 bytes 0x30" in har and "0" * 1000 not in har


def test_the_curl_line_of_a_filled_body_sends_it_whole_byte_for_byte(
    tmp_path: Path,
) -> None:
    run = _recorded_upload(tmp_path)
    repro = reproductions(synthetic_results(), read_exchanges(run), run)[FAILING]
    write_bodies(run, {FAILING: repro})
    group, _, curl = repro.curl.partition(" | curl ")
    assert curl and "--data-binary @-" in curl and KEY not in repro.curl
    # the file beside the report holds the ends only; the shell group rebuilds it
    assert (run / "reproduce" / repro.body_name).stat().st_size < 100
    sent = subprocess.run(["bash", "-c", group], capture_output=True, check=True)
    assert (
        hashlib.sha256(sent.stdout).digest() == hashlib.sha256(b"".join(BODY)).digest()
    )


def test_an_exchange_made_on_a_raw_socket_is_recorded_through_the_client(
    tmp_path: Path,
) -> None:
    log = ExchangeLog(tmp_path / "exchanges", "local")
    recording = RecordingTransport(
        httpx.MockTransport(_refuse), log, Credentials({KEY: "main"})
    )
    env = {"QUBITTRON_BASE_URL": "https://gw.example/v1", "QUBITTRON_API_KEY": KEY}
    api = SuiteClient(load_settings({}, env).target(), recording=recording)
    set_current_test(FAILING)
    request = httpx.Request(
        "GET", "https://gw.example/v1/models", headers={"Authorization": "Bearer "}
    )
    api.bind().tape(request, RawReply(403, "Forbidden", (), b'{"error":{}}'), 0.0)
    [exchange] = read_exchanges(tmp_path)
    assert exchange.request.credential == "Bearer <empty>"
    assert exchange.response is not None and exchange.response.status == 403
    repro = reproductions(synthetic_results(), [exchange], tmp_path)[FAILING]
    assert "-H 'Authorization: Bearer '" in repro.curl
