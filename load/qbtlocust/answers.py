"""Reading answers: headers, error codes, JSON bodies, Retry-After (no Locust here)."""

from __future__ import annotations

from typing import Any

import orjson

__all__ = [
    "LIMIT_HEADERS",
    "check_json",
    "envelope_facts",
    "error_code",
    "header",
    "limit_headers",
    "retry_after_seconds",
]

# Rate-limit headers kept with every sample that has them (OpenAI's names).
LIMIT_HEADERS = (
    "retry-after-ms",
    "x-ratelimit-limit-requests",
    "x-ratelimit-remaining-requests",
    "x-ratelimit-reset-requests",
    "x-ratelimit-limit-tokens",
    "x-ratelimit-remaining-tokens",
    "x-ratelimit-reset-tokens",
)
_LIMIT_NAMES = frozenset(LIMIT_HEADERS)


def header(resp: Any, name: str) -> str | None:
    """Header ``name`` of a geventhttpclient answer (repeats joined by commas)."""
    headers = getattr(resp, "headers", None)
    value = headers.get(name) if headers is not None else None
    if isinstance(value, list):
        return ",".join(value)
    return value


def limit_headers(resp: Any) -> dict[str, str] | None:
    """The answer's rate-limit headers (``LIMIT_HEADERS`` order), or None when it has
    none with a value.

    One pass over the header names first: most answers carry none of them, and a
    lookup per name (lower-casing it each time) cost more than the rest of a sample.
    """
    headers = getattr(resp, "headers", None)
    # ``is None``, not truthiness: geventhttpclient's Headers counts every value for len()
    if headers is None or _LIMIT_NAMES.isdisjoint(map(str.lower, headers)):
        return None
    found = {k: v for k in LIMIT_HEADERS if (v := header(resp, k)) is not None}
    return found if any(found.values()) else None


def error_code(body: bytes | None) -> str | None:
    """``error.code`` of an error envelope, if the body is one."""
    try:
        error = orjson.loads(body or b"").get("error")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    code = error.get("code") if isinstance(error, dict) else None
    return str(code) if code is not None else None


def envelope_facts(body: bytes | None) -> dict[str, str | bool | None]:
    """What an error body holds of the envelope ``{"error": {message, type, code}}``.

    Facts only (the ratelimit checks judge them); the body itself is not kept.
    """
    try:
        data = orjson.loads(body or b"")
    except orjson.JSONDecodeError:
        return {"json": False}
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        return {"json": True, "error_object": False}
    kind, code = error.get("type"), error.get("code")
    return {
        "json": True,
        "error_object": True,
        "message": isinstance(error.get("message"), str),
        "type": kind if isinstance(kind, str) else None,
        "code": code if isinstance(code, str) else None,
    }


def check_json(body: bytes, sample: dict[str, Any]) -> str | None:
    """A 2xx JSON answer must parse; text answers give their output tokens."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return "2xx answer is not JSON"
    if not isinstance(data, dict):
        return "2xx answer is not a JSON object"
    usage = data.get("usage")
    tokens = usage.get("completion_tokens") if isinstance(usage, dict) else None
    if isinstance(tokens, int):
        sample["tokens"] = tokens
    return None


def retry_after_seconds(value: str | None) -> float:
    """Seconds from a Retry-After header (delta-seconds); 1 s when absent or odd."""
    try:
        return max(0.0, float(value)) if value is not None else 1.0
    except ValueError:
        return 1.0
