"""What one request/response looked like: the response, its timings, its transcript.

Times are ``time.monotonic()`` seconds: ``sent`` (request handed to the transport),
``first_byte`` (status line and headers received), ``done`` (body read or stream
closed). Streams also keep each chunk with its arrival time. An exchange that got no
answer at all (it timed out or the connection closed first) has no ``response``;
it exists only for its transcript, attached to the test before its failure is raised.
"""

from __future__ import annotations

import json as jsonlib
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from qbtsuite.errors import AnswerTooLarge, BrokenAnswer, CheckFailure, NoCompleteAnswer
from qbtsuite.target.inflate import BodyTooLarge, Inflater, UndecodableBody
from qbtsuite.target.transcript import BODY_EXCERPT, body_excerpt
from qbtsuite.target.watch import Watch

__all__ = [
    "Exchange",
    "RetryEvent",
    "StreamExchange",
    "decode_json",
    "describe_request_body",
    "raw_body",
]

_EVIDENCE = 16  # bytes shown around an invalid UTF-8 sequence


@dataclass(frozen=True, slots=True)
class RetryEvent:
    """One retried attempt: what failed and how long the client waited."""

    method: str
    url: str
    attempt: int
    reason: str
    wait: float


@dataclass
class Exchange:
    """One completed request: response, body, timings, retries and transcript."""

    request: httpx.Request
    response: httpx.Response | None  # None: no answer arrived
    body: bytes
    sent: float
    first_byte: float
    done: float
    transcript: str
    chunks: list[tuple[bytes, float]] | None = None
    retries: list[RetryEvent] = field(default_factory=list)
    error: str = ""  # the body broke off (reset, closed early), if it did

    @property
    def status_code(self) -> int:
        """The status, 0 when no answer arrived."""
        return 0 if self.response is None else self.response.status_code

    @property
    def headers(self) -> httpx.Headers:
        return httpx.Headers() if self.response is None else self.response.headers

    @property
    def content(self) -> bytes:
        return self.body

    @property
    def text(self) -> str:
        encoding = self.response.encoding if self.response is not None else None
        return self.body.decode(encoding or "utf-8", errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON; :class:`~qbtsuite.errors.BrokenAnswer` (a
        ``ValueError``, the target's failure) if it was cut or is not JSON."""
        if self.error:
            raise BrokenAnswer(
                title="The answer was cut short",
                received=f"{self.status_code}: {self.error}",
                expected="a complete JSON body",
            )
        return decode_json(self.body)

    @property
    def elapsed(self) -> float:
        """Seconds from sending to the end of the body."""
        return self.done - self.sent

    @property
    def time_to_first_byte(self) -> float:
        return self.first_byte - self.sent


def raw_body(response: httpx.Response) -> Iterator[bytes]:
    """The body as it came (chunked framing undone, Content-Encoding not): what the
    suite inflates itself. A response made with its content in memory (a test's
    ``MockTransport``) is already read: its content is all there is."""
    try:
        yield from response.iter_raw()
    except httpx.StreamConsumed:
        yield response.content


class StreamExchange:
    """A response being read as a stream; iterate for ``(chunk, arrival_time)``.

    Iterating stops with the failure past the stream's deadline (the ``watch``) or
    its size cap (``max_body`` bytes); :attr:`problem` keeps it for the transcript.
    """

    def __init__(
        self,
        response: httpx.Response,
        sent: float,
        first_byte: float,
        retries: list[RetryEvent],
        clock: Callable[[], float],
        watch: Watch | None = None,
        max_body: int | None = None,
        preread: tuple[list[tuple[bytes, float]], str] | None = None,
    ) -> None:
        self.response = response
        # chunks already read (a possible throttle is read before it is judged),
        # with how the body broke off ("" when it ended)
        self._preread = preread
        self.sent = sent
        self.first_byte = first_byte
        self.first_chunk: float | None = None
        self.chunks: list[tuple[bytes, float]] = []
        self.error = ""
        self.problem: CheckFailure | None = None
        self._retries = retries
        self._clock = clock
        self._watch = watch
        self._max_body = max_body
        self._size = 0

    @property
    def status_code(self) -> int:
        return self.response.status_code

    @property
    def headers(self) -> httpx.Headers:
        return self.response.headers

    def __iter__(self) -> Iterator[tuple[bytes, float]]:
        if self._preread is not None:
            yield from self._replay(*self._preread)
            return
        body = raw_body(self.response)
        pieces = self._watch.guard(body) if self._watch is not None else body
        encoding = self.response.headers.get("content-encoding", "")
        inflater = Inflater(encoding, self._max_body or sys.maxsize)
        try:
            for piece in pieces:
                for chunk in inflater.feed(piece):
                    now = self._clock()
                    if self.first_chunk is None:
                        self.first_chunk = now
                    self.chunks.append((chunk, now))
                    yield chunk, now
                if self._watch is not None and self._watch.left() <= 0:
                    raise httpx.ReadTimeout("the stream's deadline passed")
        except httpx.TimeoutException:
            seconds = self._watch.seconds if self._watch else 0.0
            self.problem = NoCompleteAnswer(
                received=f"{inflater.decoded} bytes of the stream within "
                f"{seconds:g} s, not the end",
                expected=f"a complete stream within {seconds:g} s",
                no_answer=False,
            )
            raise self.problem from None
        except BodyTooLarge as exc:
            self.problem = AnswerTooLarge(
                what="stream",
                received=f"more than {self._max_body} bytes, reading stopped at "
                f"{exc.size}",
                expected=f"a stream of at most {self._max_body} bytes (--max-body)",
            )
            del self.chunks[1:]
            raise self.problem from None
        except UndecodableBody as exc:
            self.problem = BrokenAnswer(
                title="The stream is not in its Content-Encoding",
                received=str(exc),
                expected="a body that decodes as its Content-Encoding says",
            )
            raise self.problem from None
        except httpx.TransportError as exc:
            size = sum(len(c) for c, _ in self.chunks)
            self.error = (
                f"reset by the target after {size} bytes ({type(exc).__name__}: {exc})"
                if "reset" in str(exc).lower()
                else f"the stream broke off after {size} bytes "
                f"({type(exc).__name__}: {exc})"
            )
            raise

    def _replay(
        self, chunks: list[tuple[bytes, float]], error: str
    ) -> Iterator[tuple[bytes, float]]:
        for chunk, arrived in chunks:
            if self.first_chunk is None:
                self.first_chunk = arrived
            self.chunks.append((chunk, arrived))
            yield chunk, arrived
        if error:
            self.error = error
            raise httpx.ReadError(error)

    def finish(self) -> Exchange:
        """The exchange as read so far (called when the stream is closed)."""
        return Exchange(
            request=self.response.request,
            response=self.response,
            body=b"".join(c for c, _ in self.chunks),
            sent=self.sent,
            first_byte=self.first_byte,
            done=self._clock(),
            transcript="",
            chunks=list(self.chunks),
            retries=list(self._retries),
            error=self.error,
        )


def decode_json(body: bytes) -> Any:
    """``body`` as JSON, or :class:`~qbtsuite.errors.BrokenAnswer` saying why not:
    not UTF-8 (RFC 8259 §8.1 requires it), nested past the decoder's recursion
    limit, or not JSON at all."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        around = body[max(0, exc.start - _EVIDENCE) : exc.end + _EVIDENCE]
        raise BrokenAnswer(
            title="The JSON body is not UTF-8",
            received=f"invalid UTF-8 at byte {exc.start} of {len(body)}: {around!r}",
            expected="a UTF-8 JSON text (RFC 8259 §8.1)",
        ) from None
    try:
        return jsonlib.loads(text)
    except RecursionError:
        depth = len(text) - len(text.lstrip("[{ \t\r\n"))
        raise BrokenAnswer(
            title="The JSON body nests too deeply to decode",
            received=f"{len(body)} bytes, more than {depth} levels deep at the start"
            if depth > 100
            else f"{len(body)} bytes nested past the decoder's recursion limit",
            expected="JSON an ordinary client can decode (a few levels deep)",
        ) from None
    except ValueError as exc:
        raise BrokenAnswer(
            title="The body is not JSON",
            received=f"{len(body)} bytes: {exc}; starts {body[:80]!r}",
            expected="a JSON text",
        ) from None


def _file_summary(name: str, value: Any) -> str:
    if isinstance(value, tuple):
        filename = value[0]
        payload = value[1] if len(value) > 1 else b""
        ctype = value[2] if len(value) > 2 else "application/octet-stream"
    else:
        filename, payload, ctype = getattr(value, "name", "file"), value, "?"
    size = f"{len(payload)} bytes" if isinstance(payload, bytes | str) else "streamed"
    return f"{name}={filename} ({size}, {ctype})"


def describe_request_body(kwargs: Mapping[str, Any]) -> str:
    """A short, readable description of the body that was sent."""
    if kwargs.get("json") is not None:
        text = jsonlib.dumps(kwargs["json"], ensure_ascii=False)
        return text if len(text) <= BODY_EXCERPT else text[:BODY_EXCERPT] + "…"
    content = kwargs.get("content")
    if isinstance(content, str):
        content = content.encode()
    if isinstance(content, bytes):
        return body_excerpt(content, "text/plain") if content else "<empty body>"
    if content is not None:
        return "<body streamed from a generator>"
    parts = []
    data = kwargs.get("data") or {}
    parts += [f"{k}={str(v)[:200]}" for k, v in data.items()]
    files = kwargs.get("files") or {}
    items = files.items() if isinstance(files, Mapping) else files
    parts += [_file_summary(k, v) for k, v in items]
    return ("multipart/form-data: " + ", ".join(parts)) if parts else ""
