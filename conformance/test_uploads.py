"""Conformance: the 25 MB upload cap (spec/audio-transcriptions.txt "Multipart upload,
25 MB cap"; getting-started.txt 413 ``request_entity_too_large``).

Every upload is a valid multipart form (``model``, a real short WAV as ``file``, and
an extra ``padding`` file part of zeros that brings the whole body to the size under
test), streamed from a generator: nothing of 25 MB is ever built in memory.

Oversized uploads go through a small HTTP/1.1 client on a raw (TLS) socket (h11 does
the framing): it sends the headers, then the body in slices, and before each slice
looks whether an answer has arrived. So it records how many body bytes it had sent
when the refusal came (UPLOAD-004), and a server that answers 413 and closes the
connection mid-upload (``Connection: close``) is read correctly: a write error after
the answer arrived is not a failure.

Bodies are given as factories (a fresh generator per attempt), so that a throttle
answer (429 with Retry-After) can be waited out and the upload sent again; the
raw client asks the suite's client to pace the main key and to judge such answers
as its own requests do.
"""

from __future__ import annotations

import functools
import json
import select
import socket
import ssl
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import h11
import httpx
import pytest

from qbtsuite import redact
from qbtsuite.checks import (
    oversize_upload_refused,
    refused_with,
    upload_not_rejected_as_too_large,
    upload_rejected_before_body_sent,
)
from qbtsuite.errors import CheckFailure
from qbtsuite.harness.recording import RequirementRecorder
from qbtsuite.harness.verdicts import judge_error, refused
from qbtsuite.payloads.audio import load_manifest
from qbtsuite.target.client import SuiteClient
from qbtsuite.target.config import TargetConfig
from qbtsuite.target.filled import FILLED_BODY, FilledBody
from qbtsuite.target.taping import RawReply
from qbtsuite.target.transcript import body_excerpt, header_lines
from qbtsuite.target.watch import SocketDeadline

PATH = "audio/transcriptions"
UNDER_CAP = 25_000_000  # UPLOAD-001: "at most 25,000,000 bytes"
SPEC_CAP = 26_214_400  # UPLOAD-002/003: "more than 26,214,400 bytes"
BOUNDARY = "qbtsuite-upload-7d1c0b5e"
SLICE = 64 * 1024  # body bytes sent between two looks for an early answer
WAV = next(f for f in load_manifest() if f.file == "tone-440hz.wav")


def _over_cap(config: TargetConfig) -> int:
    """One byte more than the spec's 25 MB, or than the target's own larger cap."""
    return max(SPEC_CAP, config.upload_cap) + 1


def _model(config: TargetConfig) -> str:
    model = config.model("transcriptions")
    if not model:
        pytest.skip("no transcription model configured (models.transcriptions)")
    return model


# ─── the body ────────────────────────────────────────────────────────────────


def _part(name: str, filename: str | None = None, ctype: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"'
    if filename is not None:
        disposition += f'; filename="{filename}"'
    head = f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n"
    if ctype is not None:
        head += f"Content-Type: {ctype}\r\n"
    return (head + "\r\n").encode()


def padded_upload(model: str, total: int) -> FilledBody:
    """A multipart body of exactly ``total`` bytes: model, the WAV, then zero padding."""
    head = (
        _part("model")
        + model.encode()
        + b"\r\n"
        + _part("file", WAV.file, WAV.content_type)
        + WAV.path.read_bytes()
        + b"\r\n"
        + _part("padding", "padding.bin", "application/octet-stream")
    )
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    padding = total - len(head) - len(tail)
    if padding < 0:
        raise ValueError(f"{total} bytes cannot hold the form ({len(head)} bytes)")
    return FilledBody(head, padding, 0, tail)


def _sliced(chunks: Iterable[bytes]) -> Iterator[bytes]:
    for chunk in chunks:
        for start in range(0, len(chunk), SLICE):
            yield chunk[start : start + SLICE]


# ─── a raw HTTP/1.1 upload that watches for an early answer ─────────────────


@dataclass
class RawAnswer:
    """What came back for one raw upload; quacks like a response for the checks."""

    total: int
    sent: int = 0  # body bytes handed to the socket when the answer arrived
    status_code: int = 0  # 0: no answer at all
    reason: str = ""
    headers: httpx.Headers = field(default_factory=httpx.Headers)
    content: bytes = b""
    write_error: str = ""
    read_error: str = ""

    def transcript(self, request_head: list[str]) -> str:
        lines = [f"> {line}" for line in request_head]
        lines.append(f"> <{self.total:,} body bytes streamed; {self.sent:,} sent>")
        lines.append("")
        if self.status_code:
            lines.append(f"< HTTP/1.1 {self.status_code} {self.reason}")
            lines += [f"< {h}" for h in header_lines(self.headers.multi_items())]
            ctype = self.headers.get("content-type", "")
            lines += [
                f"< {ln}" for ln in body_excerpt(self.content, ctype).splitlines()
            ]
        else:
            lines.append("< (no response)")
        for problem in (self.write_error, self.read_error):
            if problem:
                lines.append(f"  ({problem})")
        return redact.scrub("\n".join(lines))


def _connect(config: TargetConfig) -> tuple[socket.socket, str, str]:
    """A connected (TLS) socket to the target, its Host value and base path."""
    url = urlsplit(config.base_url)
    host = url.hostname or "localhost"
    tls = url.scheme == "https"
    port = url.port or (443 if tls else 80)
    sock = socket.create_connection((host, port), timeout=config.connect_timeout)
    if tls:
        if config.insecure:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        else:
            context = ssl.create_default_context(cafile=config.ca_bundle)
        context.set_alpn_protocols(["http/1.1"])
        sock = context.wrap_socket(sock, server_hostname=host)
    sock.settimeout(config.read_timeout)
    return sock, url.netloc, url.path.rstrip("/")


class _Reader:
    """Feeds what the server sends into h11 and keeps the answer."""

    def __init__(
        self, sock: socket.socket, conn: h11.Connection, answer: RawAnswer, cap: int
    ) -> None:
        self.sock, self.conn, self.answer = sock, conn, answer
        self.cap = cap  # body bytes kept; past them the answer is cut (too large)
        self.body = bytearray()
        self.received = 0  # bytes that came back, head included
        self.done = False
        self.ended = False  # the connection's end was fed to h11

    def arrived(self) -> bool:
        """Read whatever is there without waiting; True once an answer has begun."""
        ready = isinstance(self.sock, ssl.SSLSocket) and self.sock.pending() > 0
        if not ready and not select.select([self.sock], [], [], 0)[0]:
            return False
        timeout = self.sock.gettimeout()
        self.sock.setblocking(False)
        try:
            # A readable TLS socket may only hold a session ticket: no answer yet.
            self._feed(self.sock.recv(65536))
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
            pass
        except OSError as exc:
            self._feed(b"", f"{type(exc).__name__}: {exc}")
        finally:
            self.sock.settimeout(timeout)
        self._parse()
        return self.answer.status_code != 0 or self.done or self.ended

    def wait(self) -> None:
        """Read until the answer is complete or the connection ends."""
        while not self.done:
            try:
                data = self.sock.recv(65536)
            except OSError as exc:
                self._feed(b"", f"{type(exc).__name__}: {exc}")
            else:
                self._feed(data)
            self._parse()
            self.done = self.done or self.ended  # nothing more can arrive

    def _feed(self, data: bytes, error: str = "") -> None:
        self.received += len(data)
        if error and not self.answer.read_error:
            self.answer.read_error = f"reading: {error}"
        if self.ended:
            return
        self.ended = not data
        try:
            self.conn.receive_data(data)
        except h11.RemoteProtocolError:
            self.done = True

    def _parse(self) -> None:
        while not self.done:
            try:
                event = self.conn.next_event()
            except h11.RemoteProtocolError as exc:
                self.answer.read_error = (
                    f"the answer broke off or is not HTTP/1.1: {exc}"
                )
                self.done = True
                return
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return
            if isinstance(event, h11.Response):
                self.answer.status_code = event.status_code
                self.answer.reason = event.reason.decode("latin-1")
                self.answer.headers = httpx.Headers(
                    [
                        (k.decode("latin-1"), v.decode("latin-1"))
                        for k, v in event.headers
                    ]
                )
            elif isinstance(event, h11.Data):
                self.body += event.data
                if len(self.body) > self.cap:
                    self.answer.read_error = f"the body passed {self.cap} bytes"
                    del self.body[self.cap :]
                    self.done = True
            elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                self.done = True


def _raw_attempt(
    api: SuiteClient,
    record: RequirementRecorder,
    body: FilledBody,
    total: int,
    *,
    chunked: bool,
) -> RawAnswer:
    """One POST of ``body`` over a fresh raw socket, its answer attached to the record
    and recorded as the client records its own."""
    config = api.config
    started = time.monotonic()
    answer = RawAnswer(total=total)
    sock, netloc, base_path = _connect(config)
    framing = (
        ("Transfer-Encoding", "chunked") if chunked else ("Content-Length", str(total))
    )
    headers = [
        ("Host", netloc),
        *api.authorization("main").items(),
        ("Content-Type", f"multipart/form-data; boundary={BOUNDARY}"),
        framing,
        ("User-Agent", "qbtsuite-upload-probe"),
    ]
    target = f"{base_path}/{PATH}"
    conn = h11.Connection(
        our_role=h11.CLIENT, max_incomplete_event_size=config.max_headers
    )
    reader = _Reader(sock, conn, answer, config.max_body)
    deadline = SocketDeadline(sock, api.deadline(upload=True))
    with sock, deadline:
        try:
            sock.sendall(
                conn.send(h11.Request(method="POST", target=target, headers=headers))
            )
            for piece in _sliced(body):
                if reader.arrived():
                    break
                sock.sendall(conn.send(h11.Data(data=piece)) or b"")
                answer.sent += len(piece)
            else:
                sock.sendall(conn.send(h11.EndOfMessage()) or b"")
        except OSError as exc:  # the server may close its end after answering
            answer.write_error = f"writing: {type(exc).__name__}: {exc}"
        reader.wait()
    answer.content = bytes(reader.body)
    if deadline.fired:
        answer.read_error = f"no complete answer within {deadline.seconds:g} s"
    # Nothing at all came back: the breaker counts it (an oversized or broken head
    # is an answer, judged by the checks).
    api.tally(
        config.base_url,
        answered=bool(answer.status_code or reader.received),
        reason=answer.read_error or answer.write_error or "no answer to an upload",
    )
    head = [f"POST {target} HTTP/1.1", *header_lines(headers)]
    record.attach(answer.transcript(head))
    _tape(api, headers, body, answer, started)
    return answer


def _tape(
    api: SuiteClient,
    headers: list[tuple[str, str]],
    body: FilledBody,
    answer: RawAnswer,
    started: float,
) -> None:
    request = httpx.Request(
        "POST", api.url(PATH), headers=headers, extensions={FILLED_BODY: body}
    )
    reply = None
    if answer.status_code:
        reply = RawReply(
            status=answer.status_code,
            reason=answer.reason,
            headers=tuple(answer.headers.multi_items()),
            body=answer.content,
            error=answer.read_error,
        )
    api.tape(request, reply, started, answer.read_error or answer.write_error)


def raw_upload(
    api: SuiteClient,
    record: RequirementRecorder,
    body: Callable[[], FilledBody],
    total: int,
    *,
    chunked: bool,
) -> RawAnswer:
    """POST a fresh ``body()`` (``total`` bytes) to the transcription endpoint over a
    raw socket, paced and throttle-aware like the suite's own requests."""
    while True:
        api.admit()
        api.pace("main")
        answer = _raw_attempt(api, record, body(), total, chunked=chunked)
        url = api.url(PATH)
        if not answer.status_code or not api.after_answer(
            "main", "POST", url, answer.status_code, answer.headers, answer.content
        ):
            return answer


def _answered(answer: RawAnswer) -> None:
    """Fail when no HTTP answer came back at all (a dropped connection)."""
    if not answer.status_code:
        problem = answer.read_error or answer.write_error or "no answer"
        raise CheckFailure(
            title="Oversized upload got no answer",
            received=f"connection ended after {answer.sent:,} of {answer.total:,} "
            f"body bytes ({problem})",
            expected="413 request_entity_too_large in the error envelope",
        )


def _note_timing(record: RequirementRecorder, answer: RawAnswer) -> None:
    """Say when the answer came, in body bytes sent (UPLOAD-004's measure)."""
    status = answer.status_code or "no answer"
    if answer.sent >= answer.total:
        when = f"after all {answer.total:,} body bytes were sent"
    else:
        share = answer.sent / answer.total
        when = (
            f"while the client still had bytes to send: {answer.sent:,} of "
            f"{answer.total:,} body bytes sent ({share:.1%})"
        )
    extra = f"; {answer.write_error}" if answer.write_error else ""
    record.note(f"{status} arrived {when}{extra}")


# ─── tests ───────────────────────────────────────────────────────────────────


@pytest.mark.capability("transcriptions")
@pytest.mark.requirement("UPLOAD-001")
@pytest.mark.spend(requests=1, audio_seconds=WAV.duration)
def test_an_upload_of_at_most_25_000_000_bytes_is_not_rejected_as_too_large(
    api: SuiteClient, target_config: TargetConfig, record: RequirementRecorder
) -> None:
    headers = {
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        "Content-Length": str(UNDER_CAP),
    }
    model = _model(target_config)
    response = api.request(
        "POST", PATH, content=lambda: padded_upload(model, UNDER_CAP), headers=headers
    )
    record.note(f"{UNDER_CAP:,}-byte upload answered {response.status_code}")
    upload_not_rejected_as_too_large(response)


@pytest.mark.capability("transcriptions")
@pytest.mark.requirement("UPLOAD-002")
@pytest.mark.spend(requests=1)
def test_an_upload_over_25_mb_with_content_length_is_rejected_with_413(
    api: SuiteClient, target_config: TargetConfig, record: RequirementRecorder
) -> None:
    total, model = _over_cap(target_config), _model(target_config)
    body = functools.partial(padded_upload, model, total)
    answer = raw_upload(api, record, body, total, chunked=False)
    _note_timing(record, answer)
    _answered(answer)
    refused(
        record, answer, 413, "request_entity_too_large", "UPLOAD-002", envelope=True
    )


@pytest.mark.capability("transcriptions")
@pytest.mark.requirement("UPLOAD-003")
@pytest.mark.spend(requests=1)
def test_an_upload_over_25_mb_sent_chunked_is_rejected_with_413(
    api: SuiteClient, target_config: TargetConfig, record: RequirementRecorder
) -> None:
    total, model = _over_cap(target_config), _model(target_config)
    body = functools.partial(padded_upload, model, total)
    answer = raw_upload(api, record, body, total, chunked=True)
    _note_timing(record, answer)
    _answered(answer)
    refused(
        record, answer, 413, "request_entity_too_large", "UPLOAD-003", envelope=True
    )


@pytest.mark.capability("transcriptions")
@pytest.mark.requirement("UPLOAD-004")
@pytest.mark.spend(requests=1)
def test_an_upload_over_the_cap_is_refused_before_the_whole_body_is_sent(
    api: SuiteClient, target_config: TargetConfig, record: RequirementRecorder
) -> None:
    total, model = _over_cap(target_config), _model(target_config)
    body = functools.partial(padded_upload, model, total)
    answer = raw_upload(api, record, body, total, chunked=False)
    _note_timing(record, answer)
    _answered(answer)
    if 200 <= answer.status_code <= 299:
        pytest.skip(
            f"the oversized upload was accepted ({answer.status_code}; see UPLOAD-002): "
            "there is no refusal to time"
        )
    oversize_upload_refused(answer)  # the refusal timed must be one of the size
    upload_rejected_before_body_sent(answer.sent, total)


def _oversize_json(model: str, total: int) -> FilledBody:
    """``{"model", "input": "hello", "qbtsuite_padding": "000…"}`` of ``total`` bytes.

    The size is in an unknown member, not in ``input``: a target that wrongly
    accepts the body bills one short input, not 26 MB of tokens.
    """
    head = json.dumps({"model": model, "input": "hello"})[:-1].encode()
    head += b', "qbtsuite_padding": "'
    tail = b'"}'
    return FilledBody(head, total - len(head) - len(tail), ord("0"), tail)


@pytest.mark.requirement("UPLOAD-005")
@pytest.mark.spend(requests=1, tokens=1)
def test_a_json_body_over_25_mb_is_refused_in_the_error_envelope(
    api: SuiteClient, target_config: TargetConfig, record: RequirementRecorder
) -> None:
    model = target_config.model("embeddings")
    if not model:
        pytest.skip("no embeddings model configured (models.embeddings)")
    total = _over_cap(target_config)
    headers = {"Content-Type": "application/json", "Content-Length": str(total)}
    try:
        response = api.request(
            "POST",
            "embeddings",
            content=lambda: _oversize_json(model, total),
            headers=headers,
        )
    except httpx.TransportError as exc:
        raise CheckFailure(
            title="Oversized JSON body dropped the connection",
            received=f"{type(exc).__name__}: {exc}",
            expected="413 request_entity_too_large (or 400) in the error envelope",
        ) from None
    record.note(f"{total:,}-byte JSON body answered {response.status_code}")
    with record.check("UPLOAD-005"):
        # "refused in the error envelope (413 request_entity_too_large or 400)"
        refused_with(response, (413, 400), None, envelope=True)
        if response.status_code == 413:
            refused_with(response, 413, "request_entity_too_large")
    judge_error(record, response)
