"""Large or malformed bodies, made on the fly or once, never held whole in memory.

- :class:`Padded`: ``prefix + filler × size + suffix``, streamed in 1 MiB pieces, with
  its exact length known up front (for a truthful ``Content-Length``).
- :func:`gzip_bomb`: a gzip member (RFC 1952) built from one compressed 1 MiB block
  repeated: after a full flush deflate refers to nothing before it (zlib
  ``Z_FULL_FLUSH``; RFC 1951 blocks), so identical input gives identical bytes, and
  1 GiB of filler costs ~1 MB.
- :func:`deep_json`: valid JSON nested past any recursive parser's stack.
- :func:`garbage`: bytes that are not HTTP, the same every time.
"""

from __future__ import annotations

import functools
import random
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["GIB", "MIB", "Padded", "deep_json", "garbage", "gzip_bomb"]

MIB = 1024 * 1024
GIB = 1024 * MIB


@dataclass(frozen=True, slots=True)
class Padded:
    """A body of ``prefix``, ``size`` copies of the one-byte ``filler``, then ``suffix``."""

    prefix: bytes
    filler: bytes
    size: int
    suffix: bytes

    @property
    def length(self) -> int:
        return len(self.prefix) + self.size + len(self.suffix)

    def pieces(self, piece: int = MIB) -> Iterator[bytes]:
        """The body in order, at most ``piece`` filler bytes at a time."""
        yield self.prefix
        block = self.filler * piece
        left = self.size
        while left > 0:
            take = min(piece, left)
            yield block if take == piece else block[:take]
            left -= take
        yield self.suffix


@functools.lru_cache(maxsize=4)
def _deflated_front(lead: bytes, filler: bytes, size: int) -> tuple[bytes, int]:
    """Raw deflate of ``lead + filler × size`` ending on a full flush, and its CRC-32."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = filler * MIB
    whole, rest = divmod(size, MIB)
    parts = [deflate.compress(lead), deflate.flush(zlib.Z_FULL_FLUSH)]
    crc = zlib.crc32(lead)
    if whole:
        parts.append(
            (deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)) * whole
        )
        for _ in range(whole):
            crc = zlib.crc32(block, crc)
    parts.append(deflate.compress(block[:rest]) + deflate.flush(zlib.Z_FULL_FLUSH))
    return b"".join(parts), zlib.crc32(block[:rest], crc)


def gzip_bomb(lead: bytes, filler: bytes, size: int, tail: bytes) -> bytes:
    """One gzip member of ``lead + filler × size + tail``.

    The front is built once per (lead, filler, size); each call only compresses its
    ``tail`` in a fresh deflate stream, appended at the byte boundary the full flush
    left (a decoder reads on to the next block).
    """
    front, crc = _deflated_front(lead, filler, size)
    end = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    back = end.compress(tail) + end.flush(zlib.Z_FINISH)
    length = len(lead) + size + len(tail)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"  # deflate, no name, mtime 0
    trailer = struct.pack("<II", zlib.crc32(tail, crc), length & 0xFFFFFFFF)
    return header + front + back + trailer


def deep_json(depth: int) -> bytes:
    """``depth`` nested empty arrays: valid JSON (RFC 8259 sets no nesting limit)."""
    return b"[" * depth + b"]" * depth


def garbage(size: int, seed: int = 14) -> bytes:
    """``size`` pseudo-random bytes that cannot be read as an HTTP status line."""
    data = random.Random(seed).randbytes(size)
    return b"\x16\x03\x01\x00" + data[4:]  # starts like a TLS record, never "HTTP/"
