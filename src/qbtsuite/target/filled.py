"""A request body that is mostly one repeated byte: the oversized uploads' shape.

The upload-cap checks send 25 MB and more; building or recording that much would cost
the run memory and the run folder its size. A :class:`FilledBody` is a head, ``count``
copies of one byte, and a tail: it streams in slices, and it is recorded (and
reproduced by a curl line) as its head, its tail and the size of the fill between them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["FILLED_BODY", "FilledBody"]

# The ``httpx.Request.extensions`` key under which the suite's client hands a
# FilledBody to the recording transport (httpx itself ignores unknown keys).
FILLED_BODY = "qbtsuite.filled_body"

_SLICE = 1024 * 1024


@dataclass(frozen=True)
class FilledBody:
    """``head``, then ``count`` bytes of ``byte``, then ``tail``."""

    head: bytes
    count: int
    byte: int
    tail: bytes

    def __post_init__(self) -> None:
        if self.count < 0 or not 0 <= self.byte <= 255:
            raise ValueError("a fill is a non-negative count of one byte value")

    def __len__(self) -> int:
        return len(self.head) + self.count + len(self.tail)

    def __iter__(self) -> Iterator[bytes]:
        yield self.head
        block = bytes([self.byte]) * min(self.count, _SLICE)
        left = self.count
        while left > 0:
            size = min(left, len(block))
            yield block if size == len(block) else block[:size]
            left -= size
        yield self.tail
