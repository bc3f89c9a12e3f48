"""Each hostile mode misbehaves exactly as it says, so the server cannot quietly turn harmless.

Raw sockets (``rawclient``) with small caps and short deadlines; slow modes run with
shortened intervals, the 1 GiB bodies are checked by their head, their first bytes
and a small-size twin built by the same code.
"""

from __future__ import annotations

import base64
import io
import json
import socket
import ssl
import struct
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout

import httpx
import pytest

from tests.hostile.modes import INVALID_UTF8, MODES, Settings, Target
from tests.hostile.payloads import GIB, MIB
from tests.hostile.rawclient import TEST_KEY, exchange, request_bytes, split_head
from tests.hostile.secret_forms import echo_forms, needles
from tests.hostile.server import HostileServer, ServerInfo, main

# Most cases wait for a hostile server to time out (a second each).
pytestmark = pytest.mark.slow

COMPLETION = {"model": "gpt-oss-120b", "prompt": "Hi", "max_tokens": 2}
STREAM = {**COMPLETION, "stream": True}
CHAT = {"model": "gpt-oss-120b", "messages": [{"role": "user", "content": "Hi"}]}
EMBEDDING = {"model": "bge-m3", "input": "Hi"}
FAST = Settings(byte_interval=0.05, chunk_interval=0.01, continue_interval=0.005)


@contextmanager
def serving(
    mode: str,
    *,
    tls: bool = False,
    scope: str = "endpoints",
    settings: Settings | None = None,
) -> Iterator[ServerInfo]:
    with HostileServer(mode, plain=not tls, scope=scope, settings=settings) as info:
        yield info


def post(path: str, body: object) -> bytes:
    return request_bytes("POST", path, body)


def test_every_mode_is_listed_on_one_line_of_list_modes() -> None:
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["--list-modes"]) == 0
    lines = out.getvalue().splitlines()
    for name, mode in MODES.items():
        assert f"{name}  " in "\n".join(lines), (
            f"Received: no line for {name}. Expected: one"
        )
        assert "\n" not in mode.summary


def test_the_well_behaved_api_passes_discovery_and_answers_every_endpoint_family() -> (
    None
):
    with serving("normal", tls=True) as info:
        verify = ssl.create_default_context(cafile=info.ca)
        auth = {"Authorization": f"Bearer {TEST_KEY}"}
        with httpx.Client(
            base_url=info.url + "/", verify=verify, headers=auth, timeout=5
        ) as api:
            listed = {m["id"] for m in api.get("models").json()["data"]}
            assert {
                "gpt-oss-120b",
                "bge-m3",
                "stable-diffusion-xl-base-v10",
                "whisper-large-v3",
            } <= listed
            assert (
                api.post("completions", json=COMPLETION).json()["object"]
                == "text_completion"
            )
            assert (
                api.post("chat/completions", json=CHAT).json()["choices"][0]["message"][
                    "role"
                ]
                == "assistant"
            )
            with api.stream(
                "POST", "chat/completions", json={**CHAT, "stream": True}
            ) as events:
                assert events.headers["content-type"].startswith("text/event-stream")
                lines = [
                    line for line in events.iter_lines() if line.startswith("data: ")
                ]
            assert lines[-1] == "data: [DONE]"
            assert (
                len(
                    api.post("embeddings", json=EMBEDDING).json()["data"][0][
                        "embedding"
                    ]
                )
                == 1024
            )
            image = api.post(
                "images/generations",
                json={
                    "model": "stable-diffusion-xl-base-v10",
                    "prompt": "a dot",
                    "size": "256x256",
                },
            )
            assert base64.b64decode(image.json()["data"][0]["b64_json"]).startswith(
                b"\x89PNG"
            )
            text = api.post(
                "audio/transcriptions",
                data={"model": "whisper-large-v3"},
                files={"file": ("a.wav", b"RIFF....WAVE", "audio/wav")},
            )
            assert text.status_code == 200 and text.json()["text"]
            anonymous = httpx.get(info.url + "/models", verify=verify, timeout=5)
            assert anonymous.status_code == 401
            assert anonymous.json()["error"]["code"] == "invalid_api_key"
            assert set(anonymous.json()["error"]) == {
                "message",
                "type",
                "param",
                "code",
            }
        redirect = httpx.get(info.http_url + "/models", timeout=5)
        assert redirect.status_code == 308
        assert redirect.headers["location"] == info.url + "/models"


@pytest.mark.parametrize(
    "mode", [m for m, v in MODES.items() if v.target is Target.ENDPOINTS]
)
def test_endpoint_modes_leave_discovery_well_behaved(mode: str) -> None:
    with serving(mode, settings=FAST) as info:
        got = exchange(info, request_bytes("GET", "/models"), seconds=3)
    status, _, body = split_head(got.data)
    assert status == 200, (
        f"Received: {status}. Expected: 200 from GET /v1/models in {mode}"
    )
    assert "bge-m3" in {m["id"] for m in json.loads(body)["data"]}


def test_scope_all_spoils_discovery_too() -> None:
    with serving("silent", scope="all") as info:
        got = exchange(info, request_bytes("GET", "/models"), seconds=0.5)
    assert (got.data, got.ended) == (b"", "timeout")


def test_echo_auth_sends_every_encoding_the_leak_scan_looks_for() -> None:
    wanted = needles(TEST_KEY)
    with serving("echo-auth") as info:
        for request in (
            post("/completions", COMPLETION),
            post("/completions", STREAM),
            post("/completions", {"prompt": "no model"}),  # a 400 in the envelope
        ):
            got = exchange(info, request, seconds=3, cap=4 * MIB)
            _, fields, body = split_head(got.data)
            for needle in wanted:
                assert needle.data in body, (
                    f"Received: no {needle.form} copy in the body. Expected: one"
                )
            for form in echo_forms(f"Bearer {TEST_KEY}"):
                assert fields[f"x-echo-auth-{form.name}".lower()] == form.text


def test_echo_auth_json_escaped_copy_parses_back_to_the_key() -> None:
    # The \u-escaped copy is raw JSON text: a parser hands back the key itself.
    with serving("echo-auth") as info:
        got = exchange(info, post("/embeddings", EMBEDDING), seconds=3, cap=4 * MIB)
    raw = split_head(got.data)[2]
    assert b"\\u0071\\u0062\\u0074" in raw  # "qbt" as written
    assert json.loads(raw)["echo"]["key-json-escaped-lower"] == TEST_KEY


def test_trickle_sends_one_byte_per_interval_from_the_status_line_on() -> None:
    with serving("trickle", settings=FAST) as info:
        got = exchange(info, post("/completions", COMPLETION), seconds=0.6)
    assert got.ended == "timeout"
    assert b"HTTP/1.1 200 OK"[: len(got.data)] == got.data
    assert 4 <= len(got.data) <= 15, (
        f"Received: {len(got.data)} bytes in 0.6 s. Expected: ~12 at 0.05 s each"
    )
    assert all(size == 1 for _, size in got.arrivals)


def test_slow_headers_sends_the_status_line_at_once_then_the_fields_a_byte_at_a_time() -> (
    None
):
    with serving("slow-headers", settings=FAST) as info:
        got = exchange(info, post("/completions", COMPLETION), seconds=0.6)
    assert got.data.startswith(b"HTTP/1.1 200 OK\r\n")
    first_time, first_size = got.arrivals[0]
    assert first_time < FAST.byte_interval and first_size >= len(b"HTTP/1.1 200 OK\r\n")
    assert got.ended == "timeout" and b"\r\n\r\n" not in got.data
    assert len(got.data) - len(b"HTTP/1.1 200 OK\r\n") <= 15


@pytest.mark.parametrize("body", [STREAM, COMPLETION], ids=["stream", "not-stream"])
def test_endless_stream_keeps_sending_sse_chunks_and_never_done(
    body: dict[str, object],
) -> None:
    with serving("endless-stream", settings=FAST) as info:
        got = exchange(info, post("/completions", body), seconds=1.0)
    _, fields, rest = split_head(got.data)
    assert fields["content-type"] == "text/event-stream"
    assert got.ended == "timeout"
    assert rest.count(b"data: ") >= 20 and b"[DONE]" not in rest


def test_endless_stream_gives_other_endpoints_a_json_body_that_never_ends() -> None:
    with serving("endless-stream", settings=FAST) as info:
        got = exchange(info, post("/embeddings", EMBEDDING), seconds=1.0)
    _, fields, rest = split_head(got.data)
    assert fields["transfer-encoding"] == "chunked" and got.ended == "timeout"
    assert rest.count(b"0.0,") >= 20 and b"]" not in rest


@pytest.mark.parametrize(
    ("mode", "path"), [("silent", "/completions"), ("silent-models", "/models")]
)
def test_silent_modes_read_the_request_and_never_answer(mode: str, path: str) -> None:
    request = (
        post(path, COMPLETION) if path != "/models" else request_bytes("GET", path)
    )
    with serving(mode) as info:
        got = exchange(info, request, seconds=1.0)
    assert (got.data, got.ended) == (b"", "timeout")


def test_silent_models_and_models_404_leave_the_endpoints_answering() -> None:
    for mode in ("silent-models", "models-404"):
        with serving(mode) as info:
            got = exchange(info, post("/completions", COMPLETION), seconds=3)
        assert split_head(got.data)[0] == 200


def test_models_404_has_no_models_route() -> None:
    with serving("models-404") as info:
        got = exchange(info, request_bytes("GET", "/models"), seconds=3)
    status, _, body = split_head(got.data)
    assert status == 404 and json.loads(body)["error"]["code"] == "not_found"


def test_no_accept_never_answers_and_soon_stops_completing_handshakes() -> None:
    with serving("no-accept") as info:
        port = int(info.url.split(":")[2].split("/")[0])
        opened, refused_in_time = [], 0
        for _ in range(4):
            try:
                opened.append(
                    socket.create_connection(("127.0.0.1", port), timeout=0.5)
                )
            except TimeoutError:
                refused_in_time += 1
        for sock in opened:
            sock.sendall(request_bytes("GET", "/models"))
            sock.settimeout(0.3)
            with pytest.raises(TimeoutError):
                sock.recv(1)
            sock.close()
    assert refused_in_time >= 1, (
        f"Received: {len(opened)} of 4 connections completed. Expected: the queue to fill"
    )


def test_close_immediately_closes_before_reading() -> None:
    with serving("close-immediately") as info:
        got = exchange(info, request_bytes("GET", "/models"), seconds=1.0)
    assert (got.data, got.ended) in ((b"", "eof"), (b"", "reset"))


def test_tls_stall_never_completes_the_handshake_but_the_http_side_redirects() -> None:
    with serving("tls-stall", tls=True) as info:
        verify = ssl.create_default_context(cafile=info.ca)
        with pytest.raises(httpx.ConnectTimeout):
            httpx.get(info.url + "/models", verify=verify, timeout=httpx.Timeout(1.0))
        assert httpx.get(info.http_url + "/models", timeout=3).status_code == 308


def test_garbage_answers_bytes_that_are_not_http() -> None:
    with serving("garbage") as info:
        got = exchange(info, post("/completions", COMPLETION), seconds=3)
    assert got.ended == "eof" and len(got.data) == 4096
    assert not got.data.startswith(b"HTTP/")


def test_huge_body_announces_and_starts_a_1_gib_json_answer() -> None:
    with serving("huge-body") as info:
        got = exchange(info, post("/completions", COMPLETION), seconds=3, cap=MIB)
    _, fields, rest = split_head(got.data)
    assert int(fields["content-length"]) > GIB
    assert rest.startswith(b'{"id":"cmpl-') and b',"padding":"xxxx' in rest


@pytest.mark.parametrize("body", [COMPLETION, STREAM], ids=["json", "sse"])
def test_huge_body_is_valid_json_at_any_size(body: dict[str, object]) -> None:
    with serving("huge-body", settings=Settings(body_size=100_000)) as info:
        got = exchange(info, post("/completions", body), seconds=3, cap=4 * MIB)
    _, fields, rest = split_head(got.data)
    if body.get("stream"):
        rest = _dechunk(rest)
        document = json.loads(rest.split(b"\n\n")[0].removeprefix(b"data: "))
    else:
        assert int(fields["content-length"]) == len(rest)
        document = json.loads(rest)
    assert len(document["padding"]) == 100_000 and document["choices"]


def _dechunk(data: bytes) -> bytes:
    out, rest = bytearray(), data
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            break
        out += rest[:size]
        rest = rest[size + 2 :]
    return bytes(out)


def test_gzip_bomb_is_about_1_mb_that_inflates_past_1_gib() -> None:
    with serving("gzip-bomb") as info:
        got = exchange(info, post("/completions", COMPLETION), seconds=10, cap=4 * MIB)
    _, fields, bomb = split_head(got.data)
    assert fields["content-encoding"] == "gzip"
    assert len(bomb) == int(fields["content-length"]) < 2 * MIB
    inflated_size = struct.unpack("<I", bomb[-4:])[
        0
    ]  # ISIZE, RFC 1952 §2.3.1 (exact < 4 GiB)
    assert inflated_size > GIB
    first = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(bomb, MIB)
    assert first == b"{" + b" " * (MIB - 1)


@pytest.mark.parametrize("body", [COMPLETION, STREAM], ids=["json", "sse"])
def test_gzip_bomb_inflates_to_a_valid_answer(body: dict[str, object]) -> None:
    with serving("gzip-bomb", settings=Settings(body_size=3 * MIB)) as info:
        got = exchange(info, post("/completions", body), seconds=5, cap=4 * MIB)
    _, _, bomb = split_head(got.data)
    inflated = zlib.decompress(bomb, 16 + zlib.MAX_WBITS)
    assert len(inflated) > 3 * MIB
    if body.get("stream"):
        events = [e for e in inflated.split(b"\n\n") if e.startswith(b"data: ")]
        assert events[-1] == b"data: [DONE]" and json.loads(events[0][6:])["choices"]
    else:
        assert json.loads(inflated)["object"] == "text_completion"


@pytest.mark.parametrize(
    ("mode", "low", "high"), [("huge-headers", 120, 140), ("big-headers", 80, 99)]
)
def test_header_modes_send_that_many_kib_of_fields(
    mode: str, low: int, high: int
) -> None:
    with serving(mode) as info:
        got = exchange(info, post("/completions", COMPLETION), seconds=3, cap=4 * MIB)
    head = got.data.partition(b"\r\n\r\n")[0]
    assert low * 1024 <= len(head) <= high * 1024, (
        f"Received: {len(head)} bytes of head"
    )
    assert json.loads(split_head(got.data)[2])["object"] == "text_completion"


def test_big_headers_pass_httpx_where_huge_headers_do_not() -> None:
    for mode, passes in (("big-headers", True), ("huge-headers", False)):
        with serving(mode, tls=True) as info:
            verify = ssl.create_default_context(cafile=info.ca)
            auth = {"Authorization": f"Bearer {TEST_KEY}"}
            try:
                status = httpx.post(
                    info.url + "/completions",
                    json=COMPLETION,
                    headers=auth,
                    verify=verify,
                    timeout=5,
                ).status_code
            except httpx.RemoteProtocolError:
                status = 0
        assert (status == 200) is passes, f"Received: {status} in {mode}"


@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_reset_sends_part_of_the_answer_then_a_tcp_reset(tls: bool) -> None:
    with serving("reset", tls=tls) as info:
        got = exchange(info, post("/completions", COMPLETION), seconds=3)
    _, fields, body = split_head(got.data)
    assert got.ended == "reset"
    assert 0 < len(body) < int(fields["content-length"])


def test_short_body_closes_normally_before_the_promised_length() -> None:
    with serving("short-body") as info:
        got = exchange(info, post("/completions", COMPLETION), seconds=3)
    _, fields, body = split_head(got.data)
    assert got.ended == "eof" and 0 < len(body) < int(fields["content-length"])


def test_bad_utf8_json_puts_invalid_utf8_inside_a_json_string() -> None:
    with serving("bad-utf8-json") as info:
        got = exchange(info, post("/completions", COMPLETION), seconds=3)
    _, _, body = split_head(got.data)
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    assert INVALID_UTF8 in body
    assert json.loads(body.replace(INVALID_UTF8, b""))["object"] == "text_completion"


def test_bad_utf8_sse_puts_invalid_utf8_in_every_data_line() -> None:
    with serving("bad-utf8-sse") as info:
        got = exchange(info, post("/completions", STREAM), seconds=3)
        plain = exchange(info, post("/completions", COMPLETION), seconds=3)
    lines = [
        ln
        for ln in _dechunk(split_head(got.data)[2]).split(b"\n")
        if ln.startswith(b"data: {")
    ]
    assert lines
    for line in lines:
        with pytest.raises(UnicodeDecodeError):
            line.decode("utf-8")
    split_head(plain.data)[2].decode("utf-8")


def test_flood_sends_an_unframed_body_that_does_not_end() -> None:
    with serving("flood") as info:
        got = exchange(info, post("/completions", COMPLETION), seconds=10, cap=32 * MIB)
    _, fields, _ = split_head(got.data)
    assert got.ended == "cap"
    assert "content-length" not in fields and "transfer-encoding" not in fields


def test_sse_endless_line_never_ends_its_data_line() -> None:
    with serving("sse-endless-line") as info:
        got = exchange(info, post("/completions", STREAM), seconds=10, cap=16 * MIB)
    body = _dechunk(split_head(got.data)[2])
    assert got.ended == "cap"
    last = body.rindex(b"data: ")
    assert b"\n" not in body[last:] and len(body) - last > 15 * MIB


def test_deep_json_nests_a_million_arrays_in_a_valid_answer() -> None:
    with serving("deep-json") as info:
        got = exchange(info, post("/completions", COMPLETION), seconds=5, cap=4 * MIB)
    _, _, body = split_head(got.data)
    nested = b"[" * 1_000_000 + b"]" * 1_000_000
    assert nested in body
    assert json.loads(body.replace(nested, b"[]"))["nested"] == []
    with pytest.raises(RecursionError):
        json.loads(body)


def test_continue_flood_sends_only_interim_answers() -> None:
    with serving("continue-flood", settings=FAST) as info:
        got = exchange(info, post("/completions", COMPLETION), seconds=1.0)
    heads = [h for h in got.data.split(b"\r\n\r\n") if h]
    assert len(heads) >= 50 and set(heads) == {b"HTTP/1.1 100 Continue"}


def test_redirect_loop_points_back_at_the_same_url() -> None:
    with serving("redirect-loop") as info:
        got = exchange(info, post("/completions", COMPLETION), seconds=3)
    status, fields, _ = split_head(got.data)
    assert (status, fields["location"]) == (307, "/v1/completions")


def test_retry_after_forever_asks_to_wait_68_years() -> None:
    with serving("retry-after-forever") as info:
        got = exchange(info, post("/completions", COMPLETION), seconds=3)
    status, fields, body = split_head(got.data)
    assert (status, fields["retry-after"]) == (429, "2147483647")
    assert json.loads(body)["error"]["code"] == "rate_limit_exceeded"


def test_stopping_the_server_ends_its_endless_connections_at_once() -> None:
    server = HostileServer("flood", plain=True)
    info = server.start()
    started = time.monotonic()
    exchange(info, post("/completions", COMPLETION), seconds=1, cap=MIB)
    server.stop()
    assert time.monotonic() - started < 5
