"""Undo a body's Content-Encoding piece by piece, never past a size cap.

httpx inflates a compressed body as it reads it, whatever it grows to: a gzip bomb
of 1 MB becomes a GiB in memory. The suite reads the raw bytes and inflates them
here, with zlib, each piece at most up to the cap (``max_length``), so a bomb stops
at the cap with its size as the evidence. Codings (RFC 9110 §8.4.1): ``gzip``
(RFC 1952), ``deflate`` (the zlib format of RFC 1950, or raw RFC 1951 as some
servers send it) and ``identity``; a body in a coding listed after an unknown one
(``br``, ``zstd``: the suite never asks for them) is kept as it came.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

__all__ = ["PIECE", "BodyTooLarge", "Inflater", "UndecodableBody"]

PIECE = 1024 * 1024  # largest decoded piece handed on at once


class BodyTooLarge(Exception):
    """The body passed the cap; ``size`` bytes were produced when it did."""

    def __init__(self, size: int) -> None:
        self.size = size
        super().__init__(f"{size} bytes")


class UndecodableBody(Exception):
    """The bytes are not in the coding the answer names."""


class _Decoder:
    def __init__(self, coding: str) -> None:
        self.coding = coding
        gzip = coding in ("gzip", "x-gzip")
        self._zlib = zlib.decompressobj(zlib.MAX_WBITS | 16 if gzip else zlib.MAX_WBITS)
        self._first = True

    def decode(self, data: bytes, room: int) -> Iterator[bytes]:
        """Inflate ``data`` in pieces of at most :data:`PIECE` bytes, stopping once
        more than ``room`` bytes came out (the caller counts them)."""
        try:
            yield from self._pieces(data, room)
        except zlib.error as exc:
            raise UndecodableBody(f"not {self.coding} data ({exc})") from None

    def _pieces(self, data: bytes, room: int) -> Iterator[bytes]:
        made = 0
        while made <= room:
            try:
                piece = self._zlib.decompress(data, min(PIECE, room + 1 - made))
            except zlib.error:
                if not (self.coding == "deflate" and self._first):
                    raise
                self._first = False  # raw deflate (RFC 1951), as some servers send
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                continue
            self._first = False
            made += len(piece)
            if piece:
                yield piece
            data = self._zlib.unconsumed_tail
            if not data:
                return

    def flush(self) -> bytes:
        try:
            return self._zlib.flush()
        except zlib.error as exc:  # pragma: no cover - zlib flushes what it holds
            raise UndecodableBody(f"not {self.coding} data ({exc})") from None


class Inflater:
    """Feed raw body bytes, get the decoded bytes in pieces; :class:`BodyTooLarge`
    past ``cap``.

    Only the last coding applied is undone (a body encoded twice is kept as the
    first decoding leaves it, with the codings still on it in :attr:`kept`). Pieces
    are at most :data:`PIECE` bytes: a bomb's one small chunk never becomes one
    huge string.
    """

    def __init__(self, content_encoding: str, cap: int) -> None:
        codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
        codings = [c for c in codings if c != "identity"]
        self.cap = cap
        self.decoded = 0  # bytes produced so far
        self.raw = 0  # bytes fed so far
        self._decoder: _Decoder | None = None
        if codings and codings[-1] in ("gzip", "x-gzip", "deflate"):
            self._decoder = _Decoder(codings.pop())
        self.kept = tuple(codings)  # codings left on the body

    @property
    def coding(self) -> str | None:
        """The coding undone, if any."""
        return self._decoder.coding if self._decoder else None

    def feed(self, data: bytes) -> Iterator[bytes]:
        """The decoded pieces of ``data``; iterate them all before the next feed."""
        self.raw += len(data)
        if self._decoder is None:
            if data:
                yield self._count(data)
            return
        for piece in self._decoder.decode(data, self.cap - self.decoded):
            yield self._count(piece)

    def flush(self) -> bytes:
        return self._count(self._decoder.flush() if self._decoder else b"")

    def _count(self, data: bytes) -> bytes:
        self.decoded += len(data)
        if self.decoded > self.cap:
            raise BodyTooLarge(self.decoded)
        return data
