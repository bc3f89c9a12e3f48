"""The replaceable parts of a server instance.

Endpoints do their work through these parts; a fault (``faults/``) swaps one part for
a deviant one or wraps the ASGI app, so no endpoint carries fault flags.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from starlette.requests import Request

from qbtsuite.modelcatalog import MODELS, Category, ModelInfo
from qbtsuite.server.audioinfo import AudioInfo, read_audio_info
from qbtsuite.server.imaging import ImageRenderer
from qbtsuite.server.keys import KeyStore
from qbtsuite.server.ratelimit import Limiter, SlidingLogLimiter, retry_after_header
from qbtsuite.server.settings import ServerSettings
from qbtsuite.server.sseframes import SSEFramer
from qbtsuite.server.textgen import TextGenerator
from qbtsuite.server.vectors import Embedder

__all__ = ["Parts", "build_parts", "parts_of", "usage_block"]


def usage_block(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    """OpenAI ``CompletionUsage``: total is the sum of the two counts."""
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def _retry_after(seconds: float) -> dict[str, str]:
    return {"Retry-After": retry_after_header(seconds)}


@dataclass(slots=True)
class Parts:
    """Everything endpoints use besides the request itself."""

    settings: ServerSettings
    keys: KeyStore
    limiter: Limiter
    retry_after: Callable[[float], dict[str, str]] = _retry_after
    textgen: TextGenerator = field(default_factory=TextGenerator)
    usage: Callable[[int, int], dict[str, int]] = usage_block
    framer: SSEFramer = field(default_factory=SSEFramer)
    embedder: Embedder = field(default_factory=Embedder)
    images: ImageRenderer = field(default_factory=ImageRenderer)
    audio_reader: Callable[[BinaryIO], AudioInfo] = read_audio_info
    models: tuple[ModelInfo, ...] = MODELS
    extra: dict[str, Any] = field(default_factory=dict)
    # ``models`` indexed by id, rebuilt whenever ``models`` is replaced.
    _index: tuple[tuple[ModelInfo, ...], dict[str, ModelInfo]] = ((), {})

    def model(self, model_id: str) -> ModelInfo | None:
        """The documented model ``model_id``, or None."""
        if self._index[0] is not self.models:
            self._index = (self.models, {m.id: m for m in self.models})
        return self._index[1].get(model_id)

    def models_in(self, category: Category) -> tuple[ModelInfo, ...]:
        return tuple(m for m in self.models if m.category is category)


def build_parts(settings: ServerSettings, keys: KeyStore) -> Parts:
    """The clean parts for ``settings``."""
    return Parts(settings, keys, SlidingLogLimiter(settings.rate_window))


def parts_of(request: Request) -> Parts:
    """The parts of the app serving ``request`` (``app.ReferenceApp``)."""
    # Read from the scope: ``request.app`` and ``app.state`` are two more calls.
    parts: Parts = request.scope["app"].parts
    return parts
