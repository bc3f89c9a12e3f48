"""Readable, size-limited, redacted request/response transcripts for reports.

A transcript is what a gateway engineer needs to reproduce a failure: the request
line, headers and a body excerpt, then the status, headers and a body excerpt. Keys
never appear: ``Authorization`` keeps only its scheme, and the whole text goes through
:func:`qbtsuite.redact.scrub`.

A transcript stays small whatever the target sent: each body keeps its first
:data:`BODY_EXCERPT` characters, each header value its first :data:`HEADER_VALUE`,
the header block its first :data:`HEADER_BLOCK` characters, each with the original
size noted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import httpx

from qbtsuite import redact
from qbtsuite.target.headers import looks_secret

__all__ = [
    "BODY_EXCERPT",
    "HEADER_BLOCK",
    "HEADER_VALUE",
    "body_excerpt",
    "format_exchange",
    "header_lines",
]

BODY_EXCERPT = 2000  # characters of each body kept in a transcript
HEADER_VALUE = 500  # characters of one header value
HEADER_BLOCK = 4000  # characters of one header block
_TEXTUAL = ("json", "text", "xml", "event-stream", "x-www-form-urlencoded")


def _authorization(value: str) -> str:
    scheme, _, rest = value.partition(" ")
    if not rest.strip():
        # an empty or single-word credential: show its shape, not its value
        return f"{scheme[:10]}" if scheme.isalpha() else redact.REDACTED
    return f"{scheme} {redact.REDACTED}"


def header_lines(headers: Iterable[tuple[str, str]]) -> list[str]:
    """``Name: value`` lines with credentials redacted, long values and long blocks
    shortened (the original size noted)."""
    lines: list[str] = []
    shown = 0
    left_out = left_bytes = 0
    for name, value in headers:
        if name.lower() in {"authorization", "proxy-authorization", "x-api-key"}:
            value = _authorization(value)
        if len(value) > HEADER_VALUE:
            value = f"{value[:HEADER_VALUE]}… <{len(value)} characters in all>"
        line = f"{name}: {value}"
        if shown + len(line) > HEADER_BLOCK:
            left_out += 1
            left_bytes += len(name) + len(value) + 4
            continue
        shown += len(line)
        lines.append(line)
    if left_out:
        lines.append(f"… {left_out} more header fields ({left_bytes} bytes) left out")
    return lines


def body_excerpt(body: bytes, content_type: str, limit: int = BODY_EXCERPT) -> str:
    """The start of a body as text, or a one-line description of a binary body."""
    if not body:
        return ""
    kind = content_type.split(";")[0].strip().lower()
    if kind and not any(t in kind for t in _TEXTUAL):
        return f"<{len(body)} bytes of {kind}>"
    text = body[: limit * 4].decode("utf-8", errors="replace")
    if "json" in kind and len(body) <= limit:
        try:
            text = json.dumps(json.loads(body), ensure_ascii=False)
        except (ValueError, RecursionError):
            pass
    if len(text) > limit:
        text = text[:limit] + f"… <{len(body)} bytes in all>"
    return text


def format_exchange(
    request: httpx.Request,
    request_body: str,
    response: httpx.Response | None,
    response_body: bytes | None,
    *,
    note: str = "",
    first_bytes: bytes = b"",
) -> str:
    """The transcript of one exchange; ``response`` is None when none arrived
    (then ``first_bytes`` are the first bytes that did, if any)."""
    lines = [f"> {request.method} {request.url}"]
    sent = [
        (
            name,
            redact.REDACTED
            if looks_secret(name) and name.lower() != "authorization"
            else value,
        )
        for name, value in request.headers.multi_items()
    ]  # an extra header's credential (-H) shows its name only
    lines += [f"> {h}" for h in header_lines(sent)]
    if request_body:
        lines += [">", *(f"> {ln}" for ln in request_body.splitlines() or [""])]
    lines.append("")
    if response is None:
        lines.append(f"< (no response) {note}".rstrip())
        if first_bytes:
            lines.append(f"  first bytes received: {first_bytes[:200]!r}")
    else:
        lines.append(
            f"< {response.http_version} {response.status_code} {response.reason_phrase}"
        )
        lines += [f"< {h}" for h in header_lines(response.headers.multi_items())]
        ctype = response.headers.get("content-type", "")
        excerpt = body_excerpt(response_body or b"", ctype)
        if excerpt:
            lines += ["<", *(f"< {ln}" for ln in excerpt.splitlines())]
        if note:
            lines.append(f"  ({note})")
    return redact.scrub("\n".join(lines))
