"""Image generation: the count, the delivery form, and images that really decode.

An item carries ``b64_json`` or ``url`` (ImagesResponse, protocol-facts §1.6). The
format is judged by the file signature and the size by decoding with Pillow, so an
image that only claims to be a 512x512 JPEG does not pass.

A ``url`` must lead to the image from wherever the client is: a name reserved for tests
and documentation (RFC 6761 §6.4 ``.invalid``, §6.2 ``.test``; RFC 2606 ``.example``
and the example.com/net/org documentation names) is never a served image, and a
loopback name (RFC 6761 §6.3 ``localhost``, 127.0.0.0/8, ::1) only is when the
target itself is on loopback (:func:`image_url_host_usable`).
"""

from __future__ import annotations

import base64
import binascii
import io
import ipaddress
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
    "image_url_host_usable",
    "images_carry_data",
    "images_count_is",
    "images_decode_at",
    "is_loopback_host",
    "reserved_host_problem",
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


# RFC 6761 §6.2 (.test), §6.4 (.invalid); RFC 2606 §2 (.example): never real hosts.
_RESERVED_SUFFIXES = ("invalid", "test", "example")
# RFC 2606 §3: second-level names for documentation, never an API's files.
_DOCUMENTATION_NAMES = ("example.com", "example.net", "example.org")


def _labels_end_with(host: str, suffix: str) -> bool:
    return host == suffix or host.endswith("." + suffix)


def is_loopback_host(host: str) -> bool:
    """``localhost`` and its subdomains (RFC 6761 §6.3), 127.0.0.0/8 and ::1."""
    name = host.strip("[]").lower().rstrip(".")
    if _labels_end_with(name, "localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def reserved_host_problem(host: str, target_host: str) -> str | None:
    """Why ``host`` can never serve the target's image, or None.

    ``target_host`` is the host of the base URL: a loopback image host is fine for a
    target on loopback (the embedded server), never for a remote one.
    """
    name = host.strip("[]").lower().rstrip(".")
    for suffix in _RESERVED_SUFFIXES:
        if _labels_end_with(name, suffix):
            return f"a reserved name (.{suffix}) that never resolves to a real host"
    for doc in _DOCUMENTATION_NAMES:
        if _labels_end_with(name, doc):
            return f"a documentation name ({doc}, RFC 2606 §3)"
    if is_loopback_host(name) and not is_loopback_host(target_host):
        return (
            f"a loopback host, while the target is {target_host}: it names the "
            "client's own machine"
        )
    return None


@check
def image_url_host_usable(url: str, base_url: str, where: str = "url") -> None:
    """The url is absolute http(s) on a host that can serve it (IMG-004/005, CLIENT-006)."""
    parts = urlsplit(url)
    expected = "an absolute http(s) URL on a host that serves the image"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise failure(
            "Image url unusable", f"{where}: {describe_value(url, 160)}", expected
        )
    problem = reserved_host_problem(parts.hostname, urlsplit(base_url).hostname or "")
    if problem is not None:
        raise failure(
            "Image url on a host that cannot serve it",
            f"{where}: {describe_value(url, 160)}: {parts.hostname} is {problem}",
            expected,
        )


@check
def image_fetch_succeeded(response: ResponseLike, where: str = "GET url") -> None:
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
            f"{where} (sent without the API key): {shown}",
            "200 with Content-Type image/* and the image bytes",
        )
