"""Deterministic unit vectors standing in for an embedding model.

A vector of width ``w`` is ``w / 64`` blocks of 64 components. Each block is one of
256 fixed blocks, chosen by a byte of a BLAKE2b hash of (model, text) (its 64 bytes
cover the widest documented width, 4,096); every block has norm
``1/sqrt(w/64)``, so the whole vector has norm 1. The blocks' JSON text and float32
bytes are prepared once per width, so a full-width vector costs a hash and a join
instead of drawing and printing ``w`` floats (printing 1,024 floats was most of an
embeddings request, bench/README.md). Distinct texts share a block now and then
(a 1/256 chance per position) and are otherwise unrelated, as with a random model.
"""

from __future__ import annotations

import hashlib
from functools import cache

import numpy as np
import numpy.typing as npt
import orjson

__all__ = ["BLOCK", "Embedder", "Vector"]

BLOCK = 64  # components per block; every documented width is a multiple of it
_CHOICES = 256  # blocks to choose from at each position: one hash byte
_MAX_BLOCKS = 64  # one BLAKE2b digest: 4,096 components


class _Blocks:
    """The 256 blocks for vectors of ``width`` components, in three forms."""

    def __init__(self, width: int) -> None:
        count = width // BLOCK
        rng = np.random.default_rng(width)
        raw = rng.standard_normal((_CHOICES, BLOCK))
        raw /= np.linalg.norm(raw, axis=1, keepdims=True) * np.sqrt(count)
        self.values: npt.NDArray[np.float32] = raw.astype(np.float32)
        # Each block's components as float32 LE, and as JSON text: opening the array
        # (first block) or continuing it after a comma, so one join makes the array.
        self.raw = [row.astype("<f4").tobytes() for row in self.values]
        text = [
            orjson.dumps(row, option=orjson.OPT_SERIALIZE_NUMPY) for row in self.values
        ]
        self.opening = [t[:-1] for t in text]
        self.continuing = [b"," + t[1:-1] for t in text]


@cache
def _blocks(width: int) -> _Blocks:
    return _Blocks(width)


class Vector:
    """One embedding: ``dimensions`` leading components of a unit vector of ``native``
    components, renormalised (how Matryoshka-trained models serve a smaller width)."""

    __slots__ = ("_blocks", "_picks", "dimensions")

    def __init__(self, picks: bytes, native: int, dimensions: int) -> None:
        self._blocks = _blocks(native)
        self._picks = picks
        self.dimensions = dimensions

    def _full_width(self) -> bool:
        return self.dimensions == len(self._picks) * BLOCK

    def values(self) -> npt.NDArray[np.float32]:
        """The components as float32."""
        used = self._picks[: -(-self.dimensions // BLOCK)]
        vector = self._blocks.values[list(used)].reshape(-1)
        if self._full_width():
            return vector
        vector = vector[: self.dimensions].astype(np.float64)
        return (vector / np.linalg.norm(vector)).astype(np.float32)

    def json(self) -> bytes:
        """The components as a JSON array of numbers."""
        if self._full_width():
            blocks, picks = self._blocks, self._picks
            rest = blocks.continuing
            return b"".join(
                [blocks.opening[picks[0]], *[rest[p] for p in picks[1:]], b"]"]
            )
        return orjson.dumps(self.values(), option=orjson.OPT_SERIALIZE_NUMPY)

    def float32_le(self) -> bytes:
        """The components as little-endian float32, the base64 wire form's bytes."""
        if self._full_width():
            raw = self._blocks.raw
            return b"".join([raw[p] for p in self._picks])
        return self.values().astype("<f4").tobytes()


class Embedder:
    """Same (model, text) → same unit vector; a shorter ``dimensions`` keeps a prefix."""

    def embed(self, model: str, text: str, native: int, dimensions: int) -> Vector:
        blocks = native // BLOCK
        if native % BLOCK or blocks > _MAX_BLOCKS or not 0 < dimensions <= native:
            raise ValueError(f"unsupported widths {dimensions} of {native}")
        digest = hashlib.blake2b(f"{model}\x00{text}".encode()).digest()
        return Vector(digest[:blocks], native, dimensions)
