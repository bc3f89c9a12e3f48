"""What one request/response looked like: the response, its timings, its transcript.

Times are ``time.monotonic()`` seconds: ``sent`` (request handed to the transport),
``first_byte`` (status line and headers received), ``done`` (body read or stream
closed). Streams also keep each chunk with its arrival time.
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from qbtsuite.target.transcript import BODY_EXCERPT, body_excerpt

__all__ = ["Exchange", "RetryEvent", "StreamExchange", "describe_request_body"]


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
    response: httpx.Response
    body: bytes
    sent: float
    first_byte: float
    done: float
    transcript: str
    chunks: list[tuple[bytes, float]] | None = None
    retries: list[RetryEvent] = field(default_factory=list)
    error: str = ""  # a transport error while reading the body, if any

    @property
    def status_code(self) -> int:
        return self.response.status_code

    @property
    def headers(self) -> httpx.Headers:
        return self.response.headers

    @property
    def content(self) -> bytes:
        return self.body

    @property
    def text(self) -> str:
        return self.body.decode(self.response.encoding or "utf-8", errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON (raises ``ValueError`` if it is not JSON)."""
        return jsonlib.loads(self.body)

    @property
    def elapsed(self) -> float:
        """Seconds from sending to the end of the body."""
        return self.done - self.sent

    @property
    def time_to_first_byte(self) -> float:
        return self.first_byte - self.sent


class StreamExchange:
    """A response being read as a stream; iterate for ``(chunk, arrival_time)``."""

    def __init__(
        self,
        response: httpx.Response,
        sent: float,
        first_byte: float,
        retries: list[RetryEvent],
        clock: Callable[[], float],
    ) -> None:
        self.response = response
        self.sent = sent
        self.first_byte = first_byte
        self.first_chunk: float | None = None
        self.chunks: list[tuple[bytes, float]] = []
        self.error = ""
        self._retries = retries
        self._clock = clock

    @property
    def status_code(self) -> int:
        return self.response.status_code

    @property
    def headers(self) -> httpx.Headers:
        return self.response.headers

    def __iter__(self) -> Iterator[tuple[bytes, float]]:
        try:
            for chunk in self.response.iter_bytes():
                now = self._clock()
                if self.first_chunk is None:
                    self.first_chunk = now
                self.chunks.append((chunk, now))
                yield chunk, now
        except httpx.TransportError as exc:
            self.error = f"{type(exc).__name__}: {exc}"
            raise

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
