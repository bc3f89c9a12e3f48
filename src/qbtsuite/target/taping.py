"""The recording transport: every exchange through it goes to the run's :class:`ExchangeLog`.

It sits below the suite's ``httpx.Client`` (:func:`qbtsuite.target.client.build_http_client`),
so what it keeps is what went over the wire: the request as sent, the raw body as it
came (before Content-Encoding is undone, as a replay must give it back), each chunk with
its arrival offset. The record is written when the response is closed, read or not.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx

from qbtsuite import redact
from qbtsuite.target.filled import FILLED_BODY, FilledBody
from qbtsuite.target.wirelog import (
    KEPT_UP_TO,
    Credentials,
    ExchangeLog,
    Fill,
    WireChunk,
    WireExchange,
    WireRequest,
    WireResponse,
    current_test,
    match_key,
    redacted_headers,
    scrub_bytes,
)

__all__ = ["RawReply", "RecordingTransport", "wire_request"]


def _body_of(request: httpx.Request) -> tuple[bytes, bool]:
    """The request body, when it can be read without consuming a generator."""
    if isinstance(request.stream, httpx.ByteStream):
        return request.read(), True
    try:
        from httpx._multipart import MultipartStream
    except ImportError:  # pragma: no cover - httpx moved it
        return b"", False
    if isinstance(request.stream, MultipartStream):
        return b"".join(request.stream), True
    return b"", False


def wire_request(request: httpx.Request, credentials: Credentials) -> WireRequest:
    """``request`` as recorded and matched (keys redacted, credential by role)."""
    credential = credentials.name(request.headers.get("authorization", ""))
    headers = redacted_headers(request.headers, credentials)
    filled = request.extensions.get(FILLED_BODY)
    if isinstance(filled, FilledBody):  # its head and tail, and the fill's size
        head, _ = scrub_bytes(filled.head)
        tail, _ = scrub_bytes(filled.tail)
        return WireRequest(
            method=request.method,
            url=redact.scrub(str(request.url)),
            headers=headers,
            credential=credential,
            body=head + tail,
            body_size=len(filled),
            body_recorded=False,  # never replayed: its request is not matched
            match="",
            fill=Fill(len(head), filled.count, filled.byte),
        )
    body, readable = _body_of(request)
    kept, _ = scrub_bytes(body)
    return WireRequest(
        method=request.method,
        url=redact.scrub(str(request.url)),
        headers=headers,
        credential=credential,
        body=kept,
        body_size=len(body),
        body_recorded=readable,
        match=match_key(request.method, str(request.url), headers, credential, body)
        if readable
        else "",
    )


class _TapedStream(httpx.SyncByteStream):
    """The response body, passed on as it comes, each chunk timed."""

    def __init__(
        self,
        inner: httpx.SyncByteStream,
        sent: float,
        done: Callable[[list[WireChunk], str, bool], None],
    ) -> None:
        self._inner = inner
        self._sent = sent
        self._done = done
        self._chunks: list[WireChunk] = []
        self._size = 0
        self._dropped = False
        self._error = ""
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in self._inner:
                self._size += len(chunk)
                if self._size <= KEPT_UP_TO:
                    self._chunks.append(WireChunk(time.monotonic() - self._sent, chunk))
                elif not self._dropped:  # past what is kept: the body is not recorded
                    self._dropped = True
                    self._chunks = [WireChunk(time.monotonic() - self._sent, b"")]
                yield chunk
        except httpx.TransportError as exc:
            self._error = f"{type(exc).__name__}: {exc}"
            raise

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._inner.close()
        finally:
            self._done(self._chunks, self._error, self._dropped)


class RecordingTransport(httpx.BaseTransport):
    """Passes every request to ``inner`` and records the exchange in ``log``."""

    def __init__(
        self, inner: httpx.BaseTransport, log: ExchangeLog, credentials: Credentials
    ) -> None:
        self._inner = inner
        self._log = log
        self._credentials = credentials
        self._origin = time.monotonic()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        wire = wire_request(request, self._credentials)
        test, seq = current_test(), self._log.next_seq()
        sent, wall = time.monotonic(), time.time()
        started = sent - self._origin
        try:
            response = self._inner.handle_request(request)
        except httpx.TransportError as exc:
            self._log.write(
                WireExchange(
                    test, seq, self._log.worker, started, wire, None,
                    error=f"{type(exc).__name__}: {exc}", wall=wall,
                )
            )  # fmt: skip
            raise

        def done(chunks: list[WireChunk], error: str, dropped: bool) -> None:
            version = response.extensions.get("http_version", b"HTTP/1.1")
            reason = response.extensions.get("reason_phrase", b"")
            reply = RawReply(
                status=response.status_code,
                reason=_text(reason),
                headers=tuple(response.headers.multi_items()),
                http_version=_text(version),
            )
            self._log.write(
                WireExchange(
                    test, seq, self._log.worker, started, wire,
                    _response_record(reply, chunks, error, dropped), wall=wall,
                )
            )  # fmt: skip

        if not isinstance(response.stream, httpx.SyncByteStream):
            done([], "", False)  # an async stream: never from the suite's sync client
            return response
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_TapedStream(response.stream, sent, done),
            extensions=response.extensions,
            request=request,
        )

    def tape(
        self, request: httpx.Request, reply: RawReply | None, sent: float, error: str
    ) -> None:
        """Record an exchange made past httpx (a raw socket): ``request`` as it was
        sent, ``reply`` as it came (None: no answer), ``sent`` its monotonic time."""
        wire = wire_request(request, self._credentials)
        seq, wall = self._log.next_seq(), time.time() - (time.monotonic() - sent)
        response = None
        if reply is not None:
            chunks = [WireChunk(time.monotonic() - sent, reply.body)]
            dropped = len(reply.body) > KEPT_UP_TO
            response = _response_record(reply, chunks, reply.error, dropped)
        self._log.write(
            WireExchange(
                current_test(), seq, self._log.worker, sent - self._origin, wire,
                response, error=error if reply is None else "", wall=wall,
            )
        )  # fmt: skip

    def close(self) -> None:
        self._inner.close()


@dataclass(frozen=True)
class RawReply:
    """An answer read past httpx, as it came."""

    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""
    error: str = ""  # how the body broke off, if it did
    http_version: str = "HTTP/1.1"


def _response_record(
    reply: RawReply, chunks: list[WireChunk], error: str, dropped: bool
) -> WireResponse:
    """What is kept of an answer: keys scrubbed out of its header fields and body
    (then marked ``redacted``), a body past KEPT_UP_TO dropped whole."""
    body = b"".join(c.data for c in chunks)
    # a body past KEPT_UP_TO counts as scrubbed: a replay never gives it back
    clean, scrubbed = (b"", True) if dropped else scrub_bytes(body)
    headers = tuple((k, redact.scrub(v)) for k, v in reply.headers)
    kept = (WireChunk(chunks[-1].offset, clean),) if scrubbed else tuple(chunks)
    return WireResponse(
        status=reply.status,
        http_version=reply.http_version,
        reason=reply.reason,
        headers=headers,
        chunks=kept,
        redacted=scrubbed or headers != reply.headers,
        error=error,
    )


def _text(value: object) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)
