"""Image generation: the count, the delivery form, and images that really decode.

An item carries ``b64_json`` or ``url`` (ImagesResponse, protocol-facts §1.6). The
format is judged by the file signature and the size by decoding with Pillow, so an
image that only claims to be a 512x512 JPEG does not pass.
"""

from __future__ import annotations

import base64
import binascii
import io
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from PIL import Image, UnidentifiedImageError

from qbtsuite.checks._format import (
    ResponseLike,
    describe_response,
    describe_value,
    failure,
    media_type,
    read_body,
)
from qbtsuite.checks._registry import check

__all__ = [
    "image_decodes_at",
    "image_fetch_succeeded",
    "image_format_of",
    "images_carry_data",
    "images_count_is",
    "images_decode_at",
]

_SIGNATURES = {
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpeg": (b"\xff\xd8\xff",),
    "webp": (),  # RIFF????WEBP, checked below
}


def image_format_of(data: bytes) -> str | None:
    """``png``, ``jpeg`` or ``webp`` from the file signature, else None."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    for name, signatures in _SIGNATURES.items():
        if any(data.startswith(s) for s in signatures):
            return name
    return None


def _size(size: str) -> tuple[int, int] | None:
    """``"512x512"`` → (512, 512); None for ``auto``."""
    if size == "auto":
        return None
    width, _, height = size.lower().partition("x")
    return int(width), int(height)


def _items(body: Any) -> list[Any]:
    data = body.get("data") if isinstance(body, Mapping) else None
    return data if isinstance(data, list) else []


@check
def images_count_is(body: Any, n: int) -> None:
    """``data`` holds exactly ``n`` images (IMG-002, METER-008)."""
    items = _items(body)
    if len(items) != n:
        raise failure(
            "Wrong number of images",
            f"{len(items)} items in $.data",
            f"{n} image(s)",
        )


def _item_problem(item: Any, response_format: str | None) -> str | None:
    if not isinstance(item, Mapping):
        return f"is {describe_value(item, 60)}"
    fields = ("b64_json", "url") if response_format is None else (response_format,)
    present = [f for f in fields if isinstance(item.get(f), str) and item[f]]
    if not present:
        wanted = " or ".join(fields)
        return f"has no {wanted} string ({describe_value(item, 80)})"
    url = str(item.get("url"))
    if present == ["url"]:  # the image is only reachable by its url
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return f"url {describe_value(url, 80)} is not an absolute http(s) URL"
    return None


@check
def images_carry_data(body: Any, response_format: str | None = None) -> None:
    """Each item has a ``b64_json`` or absolute ``url`` string (the one asked for, if any)."""
    items = _items(body)
    problems = [
        f"$.data[{i}] {p}"
        for i, item in enumerate(items)
        if (p := _item_problem(item, response_format)) is not None
    ]
    if problems or not items:
        wanted = response_format or "b64_json or url"
        raise failure(
            "Images not delivered",
            "; ".join(problems[:3]) or "no items in $.data",
            f"every item with a {wanted} string",
        )


@check
def image_decodes_at(
    data: bytes,
    size: str | None = None,
    output_format: str | None = None,
    where: str = "image",
) -> None:
    """``data`` is an image of ``output_format`` (by signature) that decodes at ``size``.

    ``size`` is ``"WxH"`` (``auto`` or None: any); ``output_format`` is png, jpeg or webp.
    """
    found = image_format_of(data)
    if output_format is not None and found != output_format.lower():
        raise failure(
            "Image in the wrong format",
            f"{where}: {found or 'unknown'} signature {data[:12]!r}",
            f"a {output_format} file",
        )
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            got = image.size
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise failure(
            "Image does not decode",
            f"{where}: {len(data)} bytes, {exc}",
            "a decodable image",
        ) from None
    wanted = _size(size) if size is not None else None
    if wanted is not None and got != wanted:
        raise failure(
            "Image of the wrong size",
            f"{where}: {got[0]}x{got[1]}",
            f"{wanted[0]}x{wanted[1]}",
        )


@check
def images_decode_at(
    body: Any, size: str | None = None, output_format: str | None = None
) -> None:
    """Every ``b64_json`` item decodes at ``size`` in ``output_format`` (IMG-003/006/007)."""
    images_carry_data(body, "b64_json")
    for i, item in enumerate(_items(body)):
        where = f"$.data[{i}].b64_json"
        try:
            data = base64.b64decode(item["b64_json"], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise failure(
                "Image does not decode", f"{where}: not base64 ({exc})", "base64"
            ) from None
        image_decodes_at(data, size, output_format, where=where)


@check
def image_fetch_succeeded(response: ResponseLike) -> None:
    """GET of an image url answers 200 with image bytes (IMG-004)."""
    body = read_body(response)
    kind = media_type(response)
    if response.status_code != 200 or not body or not kind.startswith("image/"):
        shown = (
            describe_response(response, 120)
            if not kind.startswith("image/")
            else f"{response.status_code} {kind} ({len(body or b'')} bytes)"
        )
        raise failure(
            "Image url does not deliver the image",
            shown,
            "200 with Content-Type image/* and the image bytes",
        )
