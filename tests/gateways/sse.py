"""Server-sent events, event by event: split a byte stream, rewrite ``data:`` JSON,
re-frame with a chosen line end (WHATWG HTML §9.2.5 allows CRLF, LF or CR).

Each event is passed on as soon as its blank line arrives: nothing is held back
beyond the event being read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from tests.gateways.jsonvalue import JsonValue

__all__ = ["EventSplitter", "dump_json", "reframe_event"]

_EVENT_END = re.compile(rb"\r\n\r\n|\n\n|\r\r")
_LINE_END = re.compile(rb"\r\n|\n|\r")


def dump_json(value: JsonValue) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class EventSplitter:
    """Feed bytes, get back the complete events (without their blank line)."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        self._buffer += chunk
        events: list[bytes] = []
        while True:
            # A lone CR at the end may be the start of CRLF: wait for the next byte.
            found = _EVENT_END.search(self._buffer)
            if found is None or (
                found.group() == b"\r\r" and found.end() == len(self._buffer)
            ):
                return events
            events.append(self._buffer[: found.start()])
            self._buffer = self._buffer[found.end() :]

    def rest(self) -> bytes:
        """What is left when the stream ends (an unterminated event, if any)."""
        rest, self._buffer = self._buffer, b""
        return rest


def reframe_event(
    event: bytes, transform: Callable[[JsonValue], JsonValue], eol: bytes
) -> bytes:
    """``event`` with each JSON ``data:`` line transformed, lines ended by ``eol``,
    and the blank line that ends the event."""
    lines: list[bytes] = []
    for line in _LINE_END.split(event):
        if line.startswith(b"data:"):
            payload = line[5:].removeprefix(b" ")
            try:
                parsed: JsonValue = json.loads(payload)
            except ValueError:
                lines.append(line)
                continue
            changed = transform(parsed)
            lines.append(line if changed == parsed else b"data: " + dump_json(changed))
        else:
            lines.append(line)
    return eol.join(lines) + eol + eol
