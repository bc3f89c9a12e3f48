"""Deterministic unit vectors standing in for an embedding model."""

from __future__ import annotations

import hashlib

import numpy as np
import numpy.typing as npt

__all__ = ["Embedder"]


class Embedder:
    """Same (model, text) → same unit vector; a shorter ``dimensions`` keeps a prefix.

    Truncating then renormalising is how Matryoshka-trained models serve a smaller
    ``dimensions``, so a short vector stays close to its full-width self.
    """

    def embed(
        self, model: str, text: str, native: int, dimensions: int
    ) -> npt.NDArray[np.float32]:
        seed = int.from_bytes(
            hashlib.sha256(f"{model}\x00{text}".encode()).digest()[:8]
        )
        full = np.random.default_rng(seed).standard_normal(native, dtype=np.float32)
        vector = full[:dimensions]
        norm = np.linalg.norm(vector)
        return (vector / norm).astype(np.float32)
