"""Just enough of the Qubittron API for a run to pass discovery and reach every endpoint.

:func:`answer` turns a request into a :class:`Reply` — status, fields and either a
JSON document, a text body or a list of SSE events — without writing anything, so a
hostile mode can send it slowly, partly, padded or not at all. Any ``Bearer`` key is
accepted; a missing one gets 401 ``invalid_api_key`` (getting-started.txt). Errors use
the one envelope ``{"error": {"message", "type", "param", "code"}}``.
"""

from __future__ import annotations

import base64
import json
import re
import struct
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TypeAlias

from tests.hostile.wire import Request

__all__ = [
    "BASE_PATH",
    "JSON",
    "MODELS",
    "Reply",
    "answer",
    "is_discovery",
    "json_bytes",
    "sse_bytes",
]

JSON: TypeAlias = dict[str, "JSON"] | list["JSON"] | str | int | float | bool | None

BASE_PATH = "/v1"

# Every documented model with its family and owner (completions.txt, embeddings.txt,
# image-generations.txt, audio-transcriptions.txt).
_TEXT_MODELS = (
    ("gpt-oss-120b", "openai"),
    ("gpt-oss-20b", "openai"),
    ("Llama-3.1-8B-Instruct", "meta"),
    ("Meta-Llama-3_3-70B-Instruct", "meta"),
    ("Qwen3-32B", "qwen"),
    ("Mistral-7B-Instruct-v0.3", "mistralai"),
    ("Mistral-Small-3.2-24B-Instruct-2506", "mistralai"),
    ("Mistral-Nemo-Instruct-2407", "mistralai"),
    ("Qwen3-Coder-30B-A3B-Instruct", "qwen"),
    ("Qwen2.5-VL-72B-Instruct", "qwen"),
    ("Qwen3Guard-Gen-8B", "qwen"),
    ("Qwen3Guard-Gen-0.6B", "qwen"),
)
MODELS: Mapping[str, tuple[str, str]] = {
    **{name: ("text", owner) for name, owner in _TEXT_MODELS},
    "Qwen3-Embedding-8B": ("embedding", "qwen"),
    "bge-m3": ("embedding", "baai"),
    "bge-multilingual-gemma2": ("embedding", "baai"),
    "stable-diffusion-xl-base-v10": ("image", "stabilityai"),
    "whisper-large-v3": ("transcription", "openai"),
    "whisper-large-v3-turbo": ("transcription", "openai"),
}
_ROUTES: Mapping[str, str] = {
    "/completions": "text",
    "/chat/completions": "text",
    "/embeddings": "embedding",
    "/images/generations": "image",
    "/audio/transcriptions": "transcription",
}
_CREATED = 1735689600
_WORDS = ("Hello", " from", " the", " hostile", " target", ".")


@dataclass(frozen=True, slots=True)
class Reply:
    """What a well-behaved server would send. Exactly one of json/text/events is used."""

    status: int
    fields: tuple[tuple[str, str], ...] = ()
    json: JSON = None
    text: str | None = None
    events: tuple[JSON, ...] | None = None  # SSE: each a data payload; [DONE] added
    route: str = ""
    raw_fragments: Mapping[str, str] = field(default_factory=dict)

    @property
    def streaming(self) -> bool:
        return self.events is not None

    def with_fields(self, *extra: tuple[str, str]) -> Reply:
        return replace(self, fields=self.fields + extra)


def json_bytes(document: JSON, raw_fragments: Mapping[str, str] | None = None) -> bytes:
    """Compact JSON; each ``"placeholder"`` string is then replaced by raw JSON text."""
    text = json.dumps(document, separators=(",", ":"))
    for placeholder, fragment in (raw_fragments or {}).items():
        text = text.replace(json.dumps(placeholder), fragment)
    return text.encode()


def sse_bytes(payload: JSON, raw_fragments: Mapping[str, str] | None = None) -> bytes:
    """One SSE event carrying ``payload`` as its data line (WHATWG HTML §9.2)."""
    return b"data: " + json_bytes(payload, raw_fragments) + b"\n\n"


def body_of(reply: Reply) -> bytes:
    """The whole body of a non-streaming reply."""
    if reply.text is not None:
        return reply.text.encode()
    return json_bytes(reply.json, reply.raw_fragments)


def is_discovery(request: Request) -> bool:
    """``GET /v1/models`` or ``/v1/models/{id}``: what the suite asks before testing."""
    path = request.path.rstrip("/")
    return request.method == "GET" and (
        path == BASE_PATH + "/models" or path.startswith(BASE_PATH + "/models/")
    )


def error(
    status: int, message: str, kind: str, code: str, param: str | None = None
) -> Reply:
    document: JSON = {
        "error": {"message": message, "type": kind, "param": param, "code": code}
    }
    fields = [("Content-Type", "application/json")]
    if status == 401:
        fields.append(("WWW-Authenticate", 'Bearer realm="qubittron"'))
    return Reply(status, tuple(fields), json=document)


def _ok(document: JSON) -> Reply:
    return Reply(200, (("Content-Type", "application/json"),), json=document)


def _model_object(model_id: str) -> JSON:
    return {
        "id": model_id,
        "object": "model",
        "created": _CREATED,
        "owned_by": MODELS[model_id][1],
    }


def _models(path: str) -> Reply:
    if path == BASE_PATH + "/models":
        return _ok({"object": "list", "data": [_model_object(m) for m in MODELS]})
    model_id = path.removeprefix(BASE_PATH + "/models/")
    if model_id in MODELS:
        return _ok(_model_object(model_id))
    return error(
        404,
        f"Model {model_id!r} not found",
        "invalid_request_error",
        "model_not_found",
        "model",
    )


def _usage(prompt: int, completion: int) -> JSON:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _words(body: Mapping[str, JSON]) -> list[str]:
    limit = body.get("max_tokens")
    count = limit if isinstance(limit, int) and 0 < limit < len(_WORDS) else len(_WORDS)
    return list(_WORDS[:count])


def _text(route: str, model: str, body: Mapping[str, JSON]) -> Reply:
    chat = route == "/chat/completions"
    words = _words(body)
    finish = "length" if len(words) < len(_WORDS) else "stop"
    ident = f"{'chatcmpl' if chat else 'cmpl'}-{zlib.crc32(repr(body).encode()):08x}"
    base: dict[str, JSON] = {
        "id": ident,
        "object": "chat.completion" if chat else "text_completion",
        "created": _CREATED,
        "model": model,
    }
    if not body.get("stream"):
        choice: JSON = (
            {
                "index": 0,
                "message": {"role": "assistant", "content": "".join(words)},
                "finish_reason": finish,
            }
            if chat
            else {
                "index": 0,
                "text": "".join(words),
                "finish_reason": finish,
                "logprobs": None,
            }
        )
        return _ok({**base, "choices": [choice], "usage": _usage(2, len(words))})
    base["object"] = "chat.completion.chunk" if chat else "text_completion"
    events: list[JSON] = []
    if chat:
        events.append(
            {
                **base,
                "choices": [
                    {"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}
                ],
            }
        )
    for word in words:
        piece: JSON = {"content": word} if chat else word
        key = "delta" if chat else "text"
        events.append(
            {**base, "choices": [{"index": 0, key: piece, "finish_reason": None}]}
        )
    last: JSON = (
        {"index": 0, "delta": {}, "finish_reason": finish}
        if chat
        else {"index": 0, "text": "", "finish_reason": finish}
    )
    events.append({**base, "choices": [last]})
    options = body.get("stream_options")
    if isinstance(options, dict) and options.get("include_usage"):
        events.append({**base, "choices": [], "usage": _usage(2, len(words))})
    return Reply(
        200,
        (("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache")),
        events=tuple(events),
    )


def _vector(text: str, width: int) -> list[float]:
    seed = zlib.crc32(text.encode())
    raw = [((seed * (i + 1) * 2654435761) % 1000) / 1000 - 0.5 for i in range(width)]
    norm = sum(v * v for v in raw) ** 0.5 or 1.0
    return [round(v / norm, 6) for v in raw]


def _embeddings(model: str, body: Mapping[str, JSON]) -> Reply:
    given = body.get("input")
    inputs = given if isinstance(given, list) else [given]
    if not inputs or not all(isinstance(i, str) and i for i in inputs):
        return error(
            400,
            "input must be a non-empty string or array of strings",
            "invalid_request_error",
            "invalid_request",
            "input",
        )
    dims = body.get("dimensions")
    width = dims if isinstance(dims, int) and 0 < dims <= 1024 else 1024
    data: list[JSON] = []
    for index, text in enumerate(inputs):
        vector = _vector(str(text), width)
        embedding: JSON = list[JSON](vector)
        if body.get("encoding_format") == "base64":
            embedding = base64.b64encode(struct.pack(f"<{width}f", *vector)).decode()
        data.append({"object": "embedding", "index": index, "embedding": embedding})
    tokens = sum(len(str(t).split()) for t in inputs)
    return _ok(
        {
            "object": "list",
            "data": data,
            "model": model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
    )


def png(width: int, height: int) -> bytes:
    """A valid one-colour RGB PNG (ISO/IEC 15948: signature, IHDR, IDAT, IEND)."""

    def part(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data))
        )

    row = b"\x00" + b"\xc0\x20\x20" * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + part(b"IHDR", header)
        + part(b"IDAT", zlib.compress(row * height))
        + part(b"IEND", b"")
    )


def _images(body: Mapping[str, JSON]) -> Reply:
    size = body.get("size", "256x256")
    match = (
        re.fullmatch(r"(\d{2,4})x(\d{2,4})", size) if isinstance(size, str) else None
    )
    if match is None:
        return error(
            400,
            "size must look like 256x256",
            "invalid_request_error",
            "invalid_request",
            "size",
        )
    count = body.get("n", 1)
    n = count if isinstance(count, int) and 1 <= count <= 4 else 1
    image = base64.b64encode(png(int(match[1]), int(match[2]))).decode()
    return _ok(
        {
            "created": _CREATED,
            "data": [{"b64_json": image, "url": None} for _ in range(n)],
        }
    )


def _form_value(body: bytes, name: str) -> str | None:
    """A text field of a multipart/form-data body (RFC 7578), read loosely."""
    pattern = (
        rb'name="'
        + re.escape(name.encode())
        + rb'"\r\n(?:[^\r\n]+\r\n)*\r\n([^\r\n]*)\r\n'
    )
    found = re.search(pattern, body)
    return found[1].decode("utf-8", "replace") if found else None


def _transcription(request: Request) -> Reply:
    if "multipart/form-data" not in (request.header("content-type") or ""):
        return error(
            400,
            "Content-Type must be multipart/form-data",
            "invalid_request_error",
            "invalid_request",
        )
    model = _form_value(request.body, "model")
    if model is None or model not in MODELS or MODELS[model][0] != "transcription":
        return error(
            400,
            f"Model {model!r} does not support transcriptions",
            "invalid_request_error",
            "model_not_found",
            "model",
        )
    text = "Hello from the hostile target."
    form = _form_value(request.body, "response_format") or "json"
    if form == "text":
        return Reply(200, (("Content-Type", "text/plain; charset=utf-8"),), text=text)
    if form == "verbose_json":
        return _ok(
            {
                "task": "transcribe",
                "language": "english",
                "duration": 2.0,
                "text": text,
                "segments": [],
            }
        )
    return _ok({"text": text})


def _json_request(request: Request, family: str) -> tuple[str, dict[str, JSON]] | Reply:
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return error(
            400, "Body is not valid JSON", "invalid_request_error", "invalid_request"
        )
    if not isinstance(body, dict):
        return error(
            400,
            "Body must be a JSON object",
            "invalid_request_error",
            "invalid_request",
        )
    model = body.get("model")
    if not isinstance(model, str):
        return error(
            400,
            "model is required",
            "invalid_request_error",
            "invalid_request",
            "model",
        )
    if model not in MODELS or MODELS[model][0] != family:
        return error(
            400,
            f"Model {model!r} does not support this endpoint",
            "invalid_request_error",
            "model_not_found",
            "model",
        )
    return model, body


def _authorised(request: Request) -> bool:
    scheme, _, key = (request.header("authorization") or "").partition(" ")
    return scheme.lower() == "bearer" and bool(key.strip())


def answer(request: Request) -> Reply:
    """The well-behaved answer to ``request``."""
    path = request.path.rstrip("/")
    reply = _route(request, path)
    extra = (("X-Request-Id", f"req-{time.monotonic_ns():x}"),)
    return replace(reply, fields=reply.fields + extra, route=path)


def _route(request: Request, path: str) -> Reply:
    relative = path.removeprefix(BASE_PATH)
    known = (
        relative in _ROUTES or relative == "/models" or relative.startswith("/models/")
    )
    if not path.startswith(BASE_PATH + "/") or not known:
        return error(404, f"Unknown path {path}", "invalid_request_error", "not_found")
    wanted = "GET" if relative.startswith("/models") else "POST"
    if request.method != wanted:
        return error(
            405,
            f"Method {request.method} not allowed on {path}",
            "invalid_request_error",
            "method_not_allowed",
        )
    if not _authorised(request):
        return error(401, "Invalid API key", "invalid_request_error", "invalid_api_key")
    if wanted == "GET":
        return _models(path)
    family = _ROUTES[relative]
    if family == "transcription":
        return _transcription(request)
    parsed = _json_request(request, family)
    if isinstance(parsed, Reply):
        return parsed
    model, body = parsed
    if family == "text":
        return _text(relative, model, body)
    if family == "embedding":
        return _embeddings(model, body)
    return _images(body)
