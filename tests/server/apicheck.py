"""Assertions and helpers shared by the reference server's own tests.

``expect_error`` checks the one error envelope of spec/getting-started.txt ("Error
format") with precise "Received / Expected" messages; ``read_stream`` reads an SSE
response from the real server, recording when each event arrived. The event split
here is deliberately simple (on blank lines); the suite's strict parser lives elsewhere.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = [
    "ENVELOPE_FIELDS",
    "StreamRead",
    "expect_error",
    "expect_ok",
    "read_stream",
]

ENVELOPE_FIELDS = {"message", "type", "param", "code"}


def expect_ok(response: httpx.Response) -> dict[str, Any]:
    """The JSON body of a 200 response; fail with the error body otherwise."""
    assert response.status_code == 200, (
        f"Received: {response.status_code} {response.text[:300]} / Expected: 200"
    )
    body: dict[str, Any] = response.json()
    return body


def expect_error(
    response: httpx.Response,
    status: int,
    code: str,
    error_type: str | None = None,
    param: str | None = None,
) -> dict[str, Any]:
    """Assert ``response`` is ``status`` with ``code`` in the envelope; return the error.

    ``param`` is checked when given (the field a validation error names).
    """
    got = f"{response.status_code} {response.text[:300]}"
    assert response.status_code == status, (
        f"Received: {got} / Expected: {status} {code}"
    )
    media = response.headers.get("content-type", "").split(";")[0].strip()
    assert media == "application/json", (
        f"Received: Content-Type {media!r} / Expected: application/json"
    )
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"error"}, (
        f"Received: {got} / Expected: an object with the single key 'error'"
    )
    error = body["error"]
    assert isinstance(error, dict) and set(error) == ENVELOPE_FIELDS, (
        f"Received: {got} / Expected: error with keys {sorted(ENVELOPE_FIELDS)}"
    )
    assert isinstance(error["message"], str) and error["message"], (
        f"Received: {got} / Expected: a non-empty message"
    )
    assert error["code"] == code, f"Received: {got} / Expected: code {code!r}"
    if error_type is not None:
        assert error["type"] == error_type, (
            f"Received: {got} / Expected: type {error_type!r}"
        )
    if param is not None:
        assert error["param"] == param, f"Received: {got} / Expected: param {param!r}"
    return error


@dataclass(slots=True)
class StreamRead:
    """One SSE response as read: status, headers, event payloads and arrival times."""

    status: int
    headers: httpx.Headers
    sent_at: float
    payloads: list[str] = field(default_factory=list)
    arrived: list[float] = field(default_factory=list)  # monotonic, per payload
    body: bytes = b""

    @property
    def chunks(self) -> list[dict[str, Any]]:
        """The JSON chunks (every payload but ``[DONE]``)."""
        return [json.loads(p) for p in self.payloads if p != "[DONE]"]

    def text_of(self, index: int, chat: bool) -> str:
        """The concatenated text of choice ``index``."""
        out = []
        for chunk in self.chunks:
            for choice in chunk["choices"]:
                if choice["index"] == index:
                    piece = choice["delta"].get("content") if chat else choice["text"]
                    out.append(piece or "")
        return "".join(out)


def _payload(event: bytes) -> str:
    text = event.decode("utf-8")
    assert "\n" not in text and text.startswith("data: "), (
        f"Received: event {text[:200]!r} / Expected: one line 'data: <payload>'"
    )
    return text[len("data: ") :]


def read_stream(client: httpx.Client, path: str, body: dict[str, Any]) -> StreamRead:
    """POST ``body`` with ``stream`` and read the events as they arrive."""
    sent_at = time.monotonic()
    with client.stream("POST", path, json=body) as response:
        result = StreamRead(response.status_code, response.headers, sent_at)
        if response.status_code != 200:
            result.body = response.read()
            return result
        buffer = b""
        for data in response.iter_bytes():
            now = time.monotonic()
            result.body += data
            buffer += data
            while b"\n\n" in buffer:
                event, buffer = buffer.split(b"\n\n", 1)
                result.payloads.append(_payload(event))
                result.arrived.append(now)
        assert not buffer, f"Received: trailing bytes {buffer[:200]!r} / Expected: none"
    return result
