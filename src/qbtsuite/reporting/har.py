"""``transcripts.har``: the run's recorded exchanges as HAR 1.2, for browsers' and API
tools' HAR viewers.

HAR 1.2 (W3C Web Performance WG draft, "HTTP Archive (HAR) format"): ``log`` with
``version``, ``creator`` and ``entries``; each entry ``startedDateTime``, ``time``,
``request``, ``response``, ``cache`` and ``timings``. Custom fields start with an
underscore: ``_test`` (the test that sent it) and, for streams, ``_chunks`` (each
chunk's arrival offset and size). Keys are already redacted in the recording.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Sequence
from typing import TypedDict

import httpx

from qbtsuite import __version__, redact
from qbtsuite.target.wirelog import WireExchange

__all__ = ["HAR_FILE", "render_har"]

HAR_FILE = "transcripts.har"


class _Pair(TypedDict):
    name: str
    value: str


class _Content(TypedDict, total=False):
    size: int
    mimeType: str
    text: str
    encoding: str
    comment: str


def _pairs(headers: Sequence[tuple[str, str]]) -> list[_Pair]:
    return [{"name": k, "value": v} for k, v in headers]


def _header(headers: Sequence[tuple[str, str]], name: str) -> str:
    return next((v for k, v in headers if k.lower() == name), "")


# Bytes of a body a HAR entry shows: the HAR is for reading an exchange; the whole
# body stays in exchanges/ (a hostile target's 2 MB answers, 300 of them, would make a
# 600 MB file no viewer opens).
HAR_BODY_UP_TO = 64 * 1024


def _content(body: bytes, mime: str) -> _Content:
    content: _Content = {"size": len(body), "mimeType": mime}
    if not body:
        return content
    shown = body[:HAR_BODY_UP_TO]
    if len(body) > HAR_BODY_UP_TO:
        content["comment"] = (
            f"shortened: the first {HAR_BODY_UP_TO} of {len(body)} bytes "
            "(exchanges/ keeps the body whole)"
        )
    try:
        content["text"] = redact.scrub(_utf8(shown, cut=len(body) > len(shown)))
    except UnicodeDecodeError:
        content["text"] = base64.b64encode(shown).decode("ascii")
        content["encoding"] = "base64"
    return content


def _utf8(data: bytes, *, cut: bool) -> str:
    """``data`` as UTF-8; a cut body may end inside a character (up to 3 bytes)."""
    for end in range(len(data), len(data) - (4 if cut else 1), -1):
        try:
            return data[:end].decode("utf-8")
        except UnicodeDecodeError:
            continue
    raise UnicodeDecodeError("utf-8", data, 0, len(data), "not UTF-8")


def _iso(epoch: float) -> str:
    millis = round((epoch % 1) * 1000) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{millis:03d}Z"


def _entry(ex: WireExchange) -> dict[str, object]:
    req = ex.request
    url = httpx.URL(req.url)
    request: dict[str, object] = {
        "method": req.method,
        "url": req.url,
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": _pairs(req.headers),
        "queryString": [{"name": k, "value": v} for k, v in url.params.multi_items()],
        "headersSize": -1,
        "bodySize": req.body_size,
    }
    if req.body_size:
        mime = _header(req.headers, "content-type") or "application/octet-stream"
        try:
            text = redact.scrub(req.body.decode("utf-8"))
        except UnicodeDecodeError:
            text = f"<{req.body_size} bytes of {mime}>"
        if req.fill is not None:  # not the body: what it was made of
            text = (
                f"<{req.body_size} bytes of {mime}: {req.fill.at} bytes, then "
                f"{req.fill.count} bytes 0x{req.fill.byte:02x}, then "
                f"{len(req.body) - req.fill.at} bytes>"
            )
        request["postData"] = {"mimeType": mime, "text": text}
    res = ex.response
    wait = receive = 0.0
    if res is None:
        response: dict[str, object] = {
            "status": 0,
            "statusText": "",
            "httpVersion": "",
            "cookies": [],
            "headers": [],
            "content": {"size": 0, "mimeType": "x-unknown"},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": -1,
            "_error": ex.error,
        }
    else:
        body = res.body
        mime = _header(res.headers, "content-type") or "x-unknown"
        response = {
            "status": res.status,
            "statusText": res.reason,
            "httpVersion": res.http_version,
            "cookies": [],
            "headers": _pairs(res.headers),
            "content": _content(body, mime),
            "redirectURL": _header(res.headers, "location"),
            "headersSize": -1,
            "bodySize": len(body),
        }
        if res.error:
            response["_error"] = res.error
        if res.chunks:
            wait = res.chunks[0].offset * 1000
            receive = max(0.0, (res.chunks[-1].offset - res.chunks[0].offset) * 1000)
        if ex.streamed:
            response["_chunks"] = [
                {"offset_ms": round(c.offset * 1000, 3), "size": len(c.data)}
                for c in res.chunks
            ]
    return {
        "startedDateTime": _iso(ex.wall),
        "time": round(wait + receive, 3),
        "request": request,
        "response": response,
        "cache": {},
        "timings": {"send": 0, "wait": round(wait, 3), "receive": round(receive, 3)},
        "_test": ex.test,
    }


def render_har(exchanges: Sequence[WireExchange]) -> str:
    """The HAR 1.2 document of ``exchanges``, in the order they were sent."""
    ordered = sorted(exchanges, key=lambda e: (e.wall, e.worker, e.seq))
    document = {
        "log": {
            "version": "1.2",
            "creator": {"name": "qbtsuite", "version": __version__},
            "entries": [_entry(ex) for ex in ordered],
        }
    }
    return json.dumps(document, ensure_ascii=False)
