"""A strict, incremental Server-Sent Events parser that also records what it saw.

The parsing follows WHATWG HTML §9.2 ("Parsing an event stream", "Interpreting an
event stream"): lines end at CRLF, a lone LF or a lone CR; one leading BOM is
ignored; ``:`` lines are comments; a field's value loses one leading space; ``data``
lines are joined with LF; a blank line dispatches, unless the data buffer is empty;
an unfinished event at end of file is discarded.

Unlike a client, the parser keeps the facts a conformance check needs: the raw lines
of every event, the field names and values used, comment lines, the blocks that were
*not* dispatched (``event: ping`` alone breaks the official SDKs, protocol-facts §3),
line-ending styles, invalid UTF-8, and the bytes that follow the ``[DONE]``
terminator. It does no I/O: feed it bytes (with the caller's timestamp) and read
events back.

What it keeps is bounded: a line longer than ``max_line`` bytes, or more than
``max_lines`` lines in one stream, is the target's failure
(:class:`~qbtsuite.errors.AnswerTooLarge`), never memory growing without end.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from qbtsuite.errors import AnswerTooLarge

__all__ = [
    "DONE",
    "MAX_LINE",
    "MAX_LINES",
    "SSEEvent",
    "SSELine",
    "SSEParser",
    "SSEStream",
    "SSETail",
    "parse_stream",
]

DONE = "[DONE]"  # OpenAI's stream terminator (protocol-facts §5.1)

_BOM = b"\xef\xbb\xbf"
_EOL = re.compile(rb"[\r\n]")
_KEEP_AFTER_TERMINATOR = 64 * 1024  # bytes of post-[DONE] content kept for reports
# A chunk of a completion is a few hundred bytes; a test's stream a few dozen
# events. Each line kept costs a few hundred bytes of objects.
MAX_LINE = 1024 * 1024
MAX_LINES = 50_000
_NAMES = {"\r\n": "CRLF", "\n": "LF", "\r": "CR"}


@dataclass(slots=True)
class SSELine:
    """One line of the stream, without its terminator.

    ``ending`` is ``"\\n"``, ``"\\r\\n"`` or ``"\\r"``. A CR that ends a chunk is
    processed at once (WHATWG: the line ends at the CR) and ``ending`` becomes
    ``"\\r\\n"`` if the next chunk starts with LF. ``at`` is the caller's timestamp
    of the chunk that completed the line; ``offset`` its first byte in the stream.
    """

    raw: bytes
    text: str
    offset: int
    at: float | None
    ending: str
    valid_utf8: bool = True

    @property
    def is_comment(self) -> bool:
        return self.text.startswith(":")


@dataclass(frozen=True, slots=True)
class SSEEvent:
    """A block of lines closed by a blank line, dispatched or not.

    ``dispatched`` is False when the data buffer was empty (WHATWG: nothing fires);
    such blocks are kept so that checks can tell a comment keep-alive
    (``only_comments``) from an ``event: ping``/``retry:``/``id:``-only block.
    ``id`` is the value of an ``id`` field in this block (None if none, or ignored
    because it contained NUL); ``last_event_id`` is the persistent WHATWG value.
    """

    event: str | None
    data: str
    data_lines: tuple[str, ...]
    id: str | None
    last_event_id: str
    retry: int | None
    fields: tuple[tuple[str, str], ...]
    lines: tuple[SSELine, ...]
    comments: tuple[str, ...]
    dispatched: bool
    index: int  # order among dispatched events (-1 when not dispatched)
    offset: int  # first byte of the block
    end_offset: int  # where the line ending of the closing blank line starts
    started_at: float | None  # timestamp of the block's first line
    received_at: float | None  # timestamp of the blank line (dispatch time)
    after_terminator: bool  # closed after the [DONE] event
    ignored_before: tuple[
        SSEEvent, ...
    ] = ()  # undispatched blocks since the last event

    @property
    def type(self) -> str:
        """The event type as a browser reports it (``message`` unless set)."""
        return self.event or "message"

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.fields)

    @property
    def only_comments(self) -> bool:
        """True for a block of comment lines only (a legitimate keep-alive)."""
        return not self.fields

    @property
    def is_done(self) -> bool:
        return self.dispatched and self.data == DONE


@dataclass(frozen=True, slots=True)
class SSETail:
    """What :meth:`SSEParser.close` found at the end of the stream."""

    incomplete: SSEEvent | None  # lines after the last blank line (discarded)
    unterminated_line: bytes  # bytes after the last line ending (discarded)
    trailing: tuple[SSEEvent, ...]  # undispatched blocks after the last event
    line_endings: dict[str, int]  # "CRLF" / "LF" / "CR" → lines
    invalid_utf8: tuple[SSELine, ...]
    bom: bool
    total_bytes: int
    events: int
    terminated: bool  # a [DONE] event was dispatched
    after_terminator: bytes  # bytes after the [DONE] block (first 64 KiB)
    after_terminator_size: int  # how many bytes followed the [DONE] block


@dataclass(frozen=True, slots=True)
class SSEStream:
    """A whole parsed stream: dispatched events, every block, and the tail."""

    events: tuple[SSEEvent, ...]
    blocks: tuple[SSEEvent, ...]
    comments: tuple[SSELine, ...]
    tail: SSETail


@dataclass(slots=True)
class _Block:
    """The buffers of the block being read."""

    lines: list[SSELine] = field(default_factory=list)
    fields: list[tuple[str, str]] = field(default_factory=list)
    data_lines: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    event: str | None = None
    id: str | None = None
    retry: int | None = None


class SSEParser:
    """Feed bytes with :meth:`feed`, get dispatched events; finish with :meth:`close`.

    ``terminator`` is the data value after which the stream is over (``[DONE]``);
    everything after its block is still parsed but flagged and counted.
    """

    def __init__(
        self,
        terminator: str | None = DONE,
        *,
        max_line: int = MAX_LINE,
        max_lines: int = MAX_LINES,
    ) -> None:
        self.terminator = terminator
        self.max_line = max_line
        self.max_lines = max_lines
        self._lines = 0
        self.blocks: list[SSEEvent] = []
        self.comments: list[SSELine] = []
        self.invalid_utf8: list[SSELine] = []
        self.last_event_id = ""
        self.reconnection_time: int | None = None
        self.bom = False
        self._buf = bytearray()
        self._buf_offset = 0  # stream offset of _buf[0]
        self._total = 0
        self._bom_checked = False
        self._pending_cr: SSELine | None = None
        self._block = _Block()
        self._ignored: list[SSEEvent] = []
        self._events = 0
        self._terminator_end: int | None = None
        self._after = bytearray()
        self._after_size = 0
        self._endings: Counter[str] = Counter()
        self._closed = False

    @property
    def terminated(self) -> bool:
        return self._terminator_end is not None

    def feed(self, data: bytes, at: float | None = None) -> list[SSEEvent]:
        """Parse ``data`` (any split of the stream) and return the events it completed."""
        if self._closed:
            raise RuntimeError("SSEParser.feed() after close()")
        start = self._total
        self._total += len(data)
        self._buf += data
        pos = self._resolve_cr()
        out: list[SSEEvent] = []
        if not self._bom_checked:
            if len(self._buf) < len(_BOM) and _BOM.startswith(bytes(self._buf)):
                self._keep_after(data, start)
                return out  # may still become a BOM
            self._bom_checked = True
            if self._buf.startswith(_BOM):
                self.bom, pos = True, len(_BOM)
        while (match := _EOL.search(self._buf, pos)) is not None:
            end = match.start()
            nxt = end + 1
            if self._buf[end] == 0x0D:
                if nxt < len(self._buf):
                    ending = "\r\n" if self._buf[nxt] == 0x0A else "\r"
                    nxt += len(ending) - 1
                else:
                    ending = "\r"  # provisional: the next chunk may start with LF
            else:
                ending = "\n"
            line = self._make_line(bytes(self._buf[pos:end]), pos, at, ending)
            if ending == "\r" and nxt == len(self._buf):
                self._pending_cr = line
            event = self._process(line, self._buf_offset + nxt)
            if event is not None:
                out.append(event)
            pos = nxt
        del self._buf[:pos]
        self._buf_offset += pos
        self._keep_after(data, start)
        if len(self._buf) > self.max_line:
            self._too_large(
                f"a line of more than {self.max_line} bytes", len(self._buf)
            )
        return out

    def _too_large(self, what: str, size: int) -> None:
        raise AnswerTooLarge(
            what="event stream",
            received=f"{what} ({size} so far, at byte {self._buf_offset} of the stream)",
            expected=f"lines of at most {self.max_line} bytes, at most "
            f"{self.max_lines} lines in a stream",
        )

    def close(self) -> SSETail:
        """End of stream: discard (and report) any unfinished event."""
        self._closed = True
        self._pending_cr = None
        block = self._block
        incomplete = None
        if block.lines:
            incomplete = self._freeze(block, dispatched=False, end=self._total, at=None)
        return SSETail(
            incomplete=incomplete,
            unterminated_line=bytes(self._buf),
            trailing=tuple(self._ignored),
            line_endings={_NAMES[k]: v for k, v in self._endings.items() if v},
            invalid_utf8=tuple(self.invalid_utf8),
            bom=self.bom,
            total_bytes=self._total,
            events=self._events,
            terminated=self.terminated,
            after_terminator=bytes(self._after),
            after_terminator_size=self._after_size,
        )

    # -- internals ---------------------------------------------------------------

    def _resolve_cr(self) -> int:
        """Settle a CR that ended the previous chunk; skip its LF if one follows."""
        line = self._pending_cr
        if line is None or not self._buf:
            return 0
        self._pending_cr = None
        if self._buf[0] != 0x0A:
            return 0
        line.ending = "\r\n"
        self._endings["\r"] -= 1
        self._endings["\r\n"] += 1
        if self._terminator_end == self._buf_offset:
            self._terminator_end += 1  # the LF belongs to the [DONE] block
        return 1

    def _keep_after(self, data: bytes, start: int) -> None:
        """Record the bytes of this chunk that lie after the terminator block."""
        if self._terminator_end is None:
            return
        tail = data[max(0, self._terminator_end - start) :]
        self._after_size += len(tail)
        room = _KEEP_AFTER_TERMINATOR - len(self._after)
        self._after += tail[:room]

    def _make_line(
        self, raw: bytes, pos: int, at: float | None, ending: str
    ) -> SSELine:
        self._lines += 1
        if len(raw) > self.max_line:
            self._too_large(f"a line of more than {self.max_line} bytes", len(raw))
        if self._lines > self.max_lines:
            self._too_large(f"more than {self.max_lines} lines", self._lines)
        try:
            text, valid = raw.decode("utf-8"), True
        except UnicodeDecodeError:
            # WHATWG decodes with replacement; the check reports the invalid bytes.
            text, valid = raw.decode("utf-8", errors="replace"), False
        line = SSELine(raw, text, self._buf_offset + pos, at, ending, valid)
        self._endings[ending] += 1
        if not valid:
            self.invalid_utf8.append(line)
        return line

    def _process(self, line: SSELine, end: int) -> SSEEvent | None:
        """Interpret one line (WHATWG "Interpreting an event stream")."""
        block = self._block
        if not line.raw:
            return self._dispatch(line, end)
        block.lines.append(line)
        if line.is_comment:
            self.comments.append(line)
            block.comments.append(line.text[1:])
            return None
        name, colon, value = line.text.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        block.fields.append((name, value))
        if name == "data":
            block.data_lines.append(value)
        elif name == "event":
            block.event = value
        elif name == "id" and "\0" not in value:
            block.id = self.last_event_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            block.retry = self.reconnection_time = int(value)
        return None

    def _dispatch(self, blank: SSELine, end: int) -> SSEEvent | None:
        block, self._block = self._block, _Block()
        if not block.lines:
            return None  # a blank line with nothing before it
        dispatched = bool(block.data_lines)
        event = self._freeze(
            block, dispatched=dispatched, end=blank.offset, at=blank.at
        )
        self.blocks.append(event)
        if not dispatched:
            self._ignored.append(event)
            return None
        self._ignored = []
        self._events += 1
        if self.terminator is not None and event.data == self.terminator:
            if self._terminator_end is None:
                self._terminator_end = end
        return event

    def _freeze(
        self, block: _Block, *, dispatched: bool, end: int, at: float | None
    ) -> SSEEvent:
        first = block.lines[0]
        return SSEEvent(
            event=block.event,
            data="\n".join(block.data_lines),
            data_lines=tuple(block.data_lines),
            id=block.id,
            last_event_id=self.last_event_id,
            retry=block.retry,
            fields=tuple(block.fields),
            lines=tuple(block.lines),
            comments=tuple(block.comments),
            dispatched=dispatched,
            index=self._events if dispatched else -1,
            offset=first.offset,
            end_offset=end,
            started_at=first.at,
            received_at=at,
            after_terminator=self._terminator_end is not None,
            ignored_before=tuple(self._ignored) if dispatched else (),
        )


def parse_stream(
    chunks: Iterable[tuple[bytes, float | None]], terminator: str | None = DONE
) -> SSEStream:
    """Parse a whole stream given as ``(bytes, timestamp)`` chunks (bounded: see
    :class:`SSEParser`)."""
    parser = SSEParser(terminator)
    events: list[SSEEvent] = []
    for data, at in chunks:
        events.extend(parser.feed(data, at))
    tail = parser.close()
    return SSEStream(tuple(events), tuple(parser.blocks), tuple(parser.comments), tail)
