"""Deterministic text generation and token counting for the text endpoints.

Output depends only on (model, prompt, choice index), so runs are reproducible; token
counts use one simple rule everywhere (a word or a punctuation mark is one token), so
``usage`` can be checked against what was streamed.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections.abc import Sequence
from typing import NamedTuple

__all__ = ["Generation", "TextGenerator", "count_tokens"]

_TOKEN = re.compile(r"\w+|[^\w\s]")
# The same rule for ASCII text without a regular expression (three C calls, about a
# third of the time): the marks are the bytes that are neither word characters nor
# white space (Unicode \s, which also holds the separators \x1c-\x1f).
_ASCII_SPACE = b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"
_ASCII_WORD = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
_ASCII_MARKS = bytes(b for b in range(128) if b not in _ASCII_SPACE + _ASCII_WORD)
_MARKS_TO_SPACE = bytes.maketrans(
    _ASCII_MARKS + _ASCII_SPACE, b" " * (len(_ASCII_MARKS) + len(_ASCII_SPACE))
)
_VOCAB = (
    "the",
    "gateway",
    "answers",
    "every",
    "request",
    "with",
    "a",
    "small",
    "and",
    "deterministic",
    "reply",
    "so",
    "that",
    "tests",
    "can",
    "compare",
    "runs",
    "token",
    "stream",
    "model",
    "quiet",
    "river",
    "carries",
    "light",
    "over",
    "stone",
    "bright",
    "morning",
    "keeps",
    "its",
    "promise",
    "to",
    "measure",
    "time",
    "between",
    "words",
)
# Replies come from a table prepared at import: a CRC-32 of (model, prompt, index)
# picks an entry, so a request costs a lookup instead of building its words (as
# vectors.py prepares its blocks). 4,096 replies of 5–28 words and a final ".".
_REPLY_BITS = 12


def _reply_table() -> tuple[tuple[str, ...], ...]:
    pieces = [" " + word for word in _VOCAB]  # one string object per word
    stream = hashlib.shake_256(b"qbtsuite replies").digest(29 << _REPLY_BITS)
    table = []
    for start in range(0, len(stream), 29):
        natural = 5 + stream[start] % 24
        picks = stream[start + 1 : start + 1 + natural]
        words = [pieces[b % len(pieces)] for b in picks]
        table.append((*words, "."))
    return tuple(table)


_REPLIES = _reply_table()


def count_tokens(text: str) -> int:
    """Tokens in ``text``: each word and each punctuation mark counts one."""
    if not text.isascii():
        return len(_TOKEN.findall(text))
    raw = text.encode("ascii")
    marks = len(raw) - len(raw.translate(None, _ASCII_MARKS))
    words = len(raw.translate(_MARKS_TO_SPACE).split())
    return words + marks


class Generation(NamedTuple):
    """One choice's output: the text pieces as streamed, and why it ended.

    (A named tuple: built once per choice, it is cheaper than a frozen dataclass.)
    """

    pieces: tuple[str, ...]
    finish_reason: str  # "stop" | "length"

    @property
    def text(self) -> str:
        return "".join(self.pieces)


class TextGenerator:
    """Produce a reply of 6–29 tokens ending in ".", cut by ``max_tokens`` or ``stop``."""

    def generate(
        self,
        model: str,
        prompt: str,
        index: int,
        max_tokens: int | None,
        stop: Sequence[str] = (),
    ) -> Generation:
        seed = f"{model}\x00{prompt}\x00{index}".encode()
        pieces = _REPLIES[zlib.crc32(seed) >> (32 - _REPLY_BITS)]
        return _cut(pieces, max_tokens, stop)


def _cut(
    pieces: tuple[str, ...], max_tokens: int | None, stop: Sequence[str]
) -> Generation:
    limit = len(pieces) if max_tokens is None else min(max_tokens, len(pieces))
    reason = "length" if limit < len(pieces) else "stop"
    if not any(stop):  # nothing to search for (the common case): skip the scan
        return Generation(pieces[:limit], reason)
    kept: list[str] = []
    text = ""
    for piece in pieces[:limit]:
        candidate = text + piece
        hit = min((i for s in stop if s and (i := candidate.find(s)) >= 0), default=-1)
        if hit >= 0:
            # The text ends where the stop sequence begins, even when that is inside
            # an earlier piece (a stop string spanning a piece boundary).
            return Generation(_prefix([*kept, piece], hit), "stop")
        kept.append(piece)
        text = candidate
    return Generation(tuple(kept), reason)


def _prefix(pieces: list[str], end: int) -> tuple[str, ...]:
    """The pieces covering the first ``end`` characters, the last one cut short."""
    out: list[str] = []
    pos = 0
    for piece in pieces:
        if pos >= end:
            break
        out.append(piece[: end - pos])
        pos += len(piece)
    return tuple(out)
