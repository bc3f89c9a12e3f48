"""Images for POST /v1/images/generations: rendering, and the store behind image URLs.

The reference server has no diffusion model; what the suite needs is an image that
really decodes at the requested size and format, the same for the same (prompt, index)
and different between the ``n`` images of one request. A few flat shapes on a flat
background do that in a few milliseconds (a 1024x1024 PNG is a few kB).

Files asked for with ``response_format: "url"`` live in an in-memory store: bounded
(least recently used files go first) and expiring after 60 minutes, as OpenAI's image
URLs do ("URLs are only valid for 60 minutes").
"""

from __future__ import annotations

import hashlib
import io
import random
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from PIL import Image, ImageDraw

__all__ = [
    "MEDIA_TYPES",
    "ImageRenderer",
    "ImageStore",
    "StoredImage",
]

# output_format → (Pillow format, Content-Type, file extension)
MEDIA_TYPES: dict[str, tuple[str, str, str]] = {
    "png": ("PNG", "image/png", "png"),
    "jpeg": ("JPEG", "image/jpeg", "jpg"),
}

_JPEG_QUALITY = 80
_SHAPES = 5


@dataclass(frozen=True, slots=True)
class StoredImage:
    """One generated file behind a URL."""

    data: bytes
    media_type: str
    expires_at: float


class ImageStore:
    """Generated files by unguessable name; bounded in count and bytes, LRU, expiring.

    Thread-safe: files may be stored from the thread pool that renders them.
    """

    def __init__(
        self,
        *,
        max_files: int = 256,
        max_bytes: int = 64 * 1024 * 1024,
        ttl: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_files = max_files
        self.max_bytes = max_bytes
        self.ttl = ttl
        self._clock = clock
        self._files: OrderedDict[str, StoredImage] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def put(self, data: bytes, output_format: str) -> str:
        """Store ``data``; return its file name (a random token plus extension)."""
        _, media_type, ext = MEDIA_TYPES[output_format]
        name = f"{secrets.token_urlsafe(24)}.{ext}"
        with self._lock:
            now = self._clock()
            self._drop_expired(now)
            self._files[name] = StoredImage(data, media_type, now + self.ttl)
            self._bytes += len(data)
            while len(self._files) > 1 and (
                len(self._files) > self.max_files or self._bytes > self.max_bytes
            ):
                self._evict_oldest()
        return name

    def get(self, name: str) -> StoredImage | None:
        """The file called ``name``, or None when unknown, evicted or expired."""
        with self._lock:
            self._drop_expired(self._clock())
            stored = self._files.get(name)
            if stored is not None:
                self._files.move_to_end(name)
            return stored

    def __len__(self) -> int:
        with self._lock:
            return len(self._files)

    def _drop_expired(self, now: float) -> None:
        # Expiry does not follow use order, so every entry is looked at (at most max_files).
        for name in [n for n, f in self._files.items() if f.expires_at <= now]:
            self._bytes -= len(self._files.pop(name).data)

    def _evict_oldest(self) -> None:
        _, stored = self._files.popitem(last=False)
        self._bytes -= len(stored.data)


@dataclass(slots=True)
class ImageRenderer:
    """Draws the images of a request and keeps the files served by URL."""

    files: ImageStore = field(default_factory=ImageStore)

    def render(
        self, prompt: str, index: int, width: int, height: int, output_format: str
    ) -> bytes:
        """Image ``index`` for ``prompt``: encoded bytes of exactly ``width`` x ``height``."""
        rng = random.Random(hashlib.sha256(f"{prompt}\x00{index}".encode()).digest())
        # A palette image: one byte per pixel keeps PNG encoding to a few ms.
        image = Image.new("P", (width, height), 0)
        image.putpalette([rng.randrange(256) for _ in range(3 * (_SHAPES + 1))])
        draw = ImageDraw.Draw(image)
        for colour in range(1, _SHAPES + 1):
            _draw_shape(draw, rng, width, height, colour)
        pil_format, _, _ = MEDIA_TYPES[output_format]
        buffer = io.BytesIO()
        if pil_format == "JPEG":
            image.convert("RGB").save(buffer, "JPEG", quality=_JPEG_QUALITY)
        else:
            image.save(buffer, "PNG")
        return buffer.getvalue()


def _draw_shape(
    draw: ImageDraw.ImageDraw, rng: random.Random, width: int, height: int, colour: int
) -> None:
    """One ellipse, rectangle or triangle in palette ``colour`` somewhere on the canvas."""
    w = rng.randrange(width // 8, width // 2)
    h = rng.randrange(height // 8, height // 2)
    x0, y0 = rng.randrange(width - w), rng.randrange(height - h)
    x1, y1 = x0 + w, y0 + h
    kind = rng.randrange(3)
    if kind == 0:
        draw.ellipse((x0, y0, x1, y1), fill=colour)
    elif kind == 1:
        draw.rectangle((x0, y0, x1, y1), fill=colour)
    else:
        draw.polygon([(x0, y1), (x1, y1), ((x0 + x1) // 2, y0)], fill=colour)
