"""What real gateways add to valid answers, none of it wrong by the docs.

- ``null`` for optional fields the answer leaves out (``message.tool_calls``,
  ``function_call``, ``refusal``, ``logprobs``, usage details, ``revised_prompt``),
  and ``system_fingerprint``: the official openai SDK types all of them as optional.
- Extra response headers (request id, processing time, ``server``, ``via``).
- gzip when the request accepts it (RFC 9110 §8.4, §12.5.3).
"""

from __future__ import annotations

import gzip
import secrets

from tests.gateways.jsonvalue import JsonObject, JsonValue

__all__ = [
    "FINGERPRINT",
    "accepts_gzip",
    "embellish_answer",
    "embellish_chunk",
    "extra_headers",
    "gzip_body",
]

FINGERPRINT = "fp_" + "3b956da36b"
_CHAT = "/v1/chat/completions"
_TEXT = "/v1/completions"
_IMAGES = "/v1/images/generations"


def _with_nulls(value: JsonValue, names: tuple[str, ...]) -> JsonValue:
    if not isinstance(value, dict):
        return value
    added: JsonObject = dict(value)
    for name in names:
        added.setdefault(name, None)
    return added


def _choices(
    body: JsonObject,
    choice_nulls: tuple[str, ...],
    inner: str,
    inner_nulls: tuple[str, ...],
) -> None:
    choices = body.get("choices")
    if not isinstance(choices, list):
        return
    out: list[JsonValue] = []
    for choice in choices:
        choice = _with_nulls(choice, choice_nulls)
        if isinstance(choice, dict) and inner and inner in choice:
            choice[inner] = _with_nulls(choice[inner], inner_nulls)
        out.append(choice)
    body["choices"] = out


def _usage(body: JsonObject) -> None:
    if isinstance(body.get("usage"), dict):
        body["usage"] = _with_nulls(
            body["usage"], ("prompt_tokens_details", "completion_tokens_details")
        )


def embellish_answer(path: str, body: JsonValue) -> JsonValue:
    """A non-streamed 200 answer with what gateways add."""
    if not isinstance(body, dict):
        return body
    out: JsonObject = dict(body)
    if path == _CHAT:
        out.setdefault("system_fingerprint", FINGERPRINT)
        _choices(
            out, ("logprobs",), "message", ("tool_calls", "function_call", "refusal")
        )
        _usage(out)
    elif path == _TEXT:
        out.setdefault("system_fingerprint", FINGERPRINT)
        _choices(out, ("logprobs",), "", ())
        _usage(out)
    elif path == _IMAGES and isinstance(out.get("data"), list):
        data = out["data"]
        assert isinstance(data, list)
        out["data"] = [_with_nulls(item, ("revised_prompt",)) for item in data]
    return out


def embellish_chunk(path: str, body: JsonValue) -> JsonValue:
    """One streamed chunk with what gateways add."""
    if not isinstance(body, dict) or path not in (_CHAT, _TEXT):
        return body
    out: JsonObject = dict(body)
    out.setdefault("system_fingerprint", FINGERPRINT)
    if path == _CHAT:
        _choices(
            out, ("logprobs", "finish_reason"), "delta", ("tool_calls", "function_call")
        )
    else:
        _choices(out, ("logprobs", "finish_reason"), "", ())
    _usage(out)
    return out


def extra_headers(elapsed_ms: int) -> list[tuple[str, str]]:
    return [
        ("x-request-id", "req_" + secrets.token_hex(16)),
        ("openai-processing-ms", str(elapsed_ms)),
        ("openai-version", "2020-10-01"),
        ("via", "1.1 gateway"),
        ("x-content-type-options", "nosniff"),
    ]


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding value admits gzip (RFC 9110 §12.5.3): an explicit
    ``gzip`` entry decides, else ``*``; a q-value of 0 refuses."""
    weights: dict[str, float] = {}
    for item in accept_encoding.split(","):
        coding, _, params = item.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        weights[coding.strip().lower()] = q
    for coding in ("gzip", "x-gzip", "*"):
        if coding in weights:
            return weights[coding] > 0
    return False


def gzip_body(body: bytes) -> bytes:
    return gzip.compress(body, compresslevel=5, mtime=0)
