"""POST /v1/images/generations and the files behind its URLs (spec/image-generations.txt).

The response is OpenAI's ImagesResponse: ``created``, one ``data`` item per image with
``b64_json`` or ``url`` (the other null, as in the spec's example), plus the optional
``output_format`` and ``size``. URLs are fetched without a key (like signed blob URLs):
the random file name is the credential, and it expires after 60 minutes.
"""

from __future__ import annotations

import base64
import time
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from qbtsuite.modelcatalog import Category
from qbtsuite.server.apierrors import ApiError
from qbtsuite.server.bodies import Body, read_json, resolve_model
from qbtsuite.server.gate import admit, ensure_funds
from qbtsuite.server.imaging import ImageRenderer
from qbtsuite.server.jsonresp import json_response
from qbtsuite.server.parts import parts_of

__all__ = ["SIZES", "create_image", "image_file"]

# The sizes common across image models (OpenAI's enum plus SDXL's native buckets).
SIZES = (
    "256x256",
    "512x512",
    "768x768",
    "1024x1024",
    "1024x1792",
    "1792x1024",
    "1536x1024",
    "1024x1536",
    "1152x896",
    "896x1152",
)
_FORMATS = (
    "png",
    "jpeg",
)  # "jpg" is not an output_format value (OpenAI: png|jpeg|webp)
_RESPONSE_FORMATS = ("b64_json", "url")
_MAX_N = 10  # OpenAI CreateImageRequest: n 1..10
# Below this many pixels per request, rendering takes well under a millisecond and
# runs inline; above it, in the thread pool so the event loop keeps serving.
_INLINE_PIXELS = 512 * 512


def _size(body: Body) -> tuple[str, int, int]:
    """``size`` as given, and its width and height."""
    size = body.optional_enum("size", SIZES, "1024x1024")
    width, height = (int(part) for part in size.split("x"))
    return size, width, height


def _render_all(
    renderer: ImageRenderer,
    prompt: str,
    n: int,
    width: int,
    height: int,
    output_format: str,
) -> list[bytes]:
    return [
        renderer.render(prompt, index, width, height, output_format)
        for index in range(n)
    ]


def _file_url(request: Request, name: str) -> str:
    """The file's URL on the host and port the client used for this request."""
    return f"https://{request.url.netloc}/v1/images/files/{name}"


async def create_image(request: Request) -> Response:
    """``n`` images of the requested size and format, as base64 or as URLs."""
    parts = parts_of(request)
    account = admit(request, parts)
    body = await read_json(request, parts.settings.upload_cap)
    resolve_model(parts, body.required_str("model"), Category.IMAGE)
    prompt = body.required_str("prompt")
    n = body.optional_int("n", 1, 1, _MAX_N)
    assert n is not None
    size, width, height = _size(body)
    output_format = body.optional_enum("output_format", _FORMATS, "png")
    response_format = body.optional_enum(
        "response_format", _RESPONSE_FORMATS, "b64_json"
    )
    for passthrough in ("quality", "style", "user"):  # model-dependent, not used
        body.optional_str(passthrough)
    ensure_funds(account)
    renderer = parts.images
    args = (renderer, prompt, n, width, height, output_format)
    if n * width * height <= _INLINE_PIXELS:
        images = _render_all(*args)
    else:
        images = await run_in_threadpool(_render_all, *args)
    data: list[dict[str, Any]] = []
    for image in images:
        if response_format == "url":
            name = renderer.files.put(image, output_format)
            data.append({"b64_json": None, "url": _file_url(request, name)})
        else:
            encoded = base64.b64encode(image).decode("ascii")
            data.append({"b64_json": encoded, "url": None})
    # Pricing: "Metered per image generated (data[].length)".
    account.charge(len(data) * parts.keys.pricing.image)
    return json_response(
        {
            "created": int(time.time()),
            "data": data,
            "output_format": output_format,
            "size": size,
        }
    )


async def image_file(request: Request) -> Response:
    """A generated file by name; no key needed, 404 once unknown or expired."""
    name = request.path_params["name"]
    stored = parts_of(request).images.files.get(name)
    if stored is None:
        raise ApiError(
            404, "not_found", "No such image file (unknown, or its URL expired)"
        )
    return Response(stored.data, media_type=stored.media_type)
