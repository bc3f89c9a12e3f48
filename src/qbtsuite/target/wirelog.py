"""Every exchange of a run, kept so that it can be replayed: ``exchanges/<worker>.jsonl``.

One line per exchange: the test that sent it, the request as sent (keys redacted:
``Authorization`` keeps its scheme and the key's *role*), the response's status,
header fields and body as the chunks that arrived, each with its arrival offset in
seconds after the request was handed over. A body larger than :data:`INLINE_BODY`
is kept once, whole, by digest, in ``exchanges/bodies/`` (an answer's chunks are then
offsets and sizes into it), and one process keeps at most :data:`BODIES_UP_TO` of
them: past that an answer's body is dropped and the answer marked ``redacted``.

A response whose text held a key (a target echoing it) is kept scrubbed, and one
whose body passed :data:`KEPT_UP_TO` is kept without it; both are marked
``redacted``: what they hold is no longer what the target sent, so they are never
replayed.

:func:`match_key` is the identity an exchange is replayed by: method, path and query,
the credential's role, the header fields that shape an answer and the body, never
timing. Multipart boundaries (random per request) are normalised.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from qbtsuite import redact
from qbtsuite.target.headers import looks_secret

__all__ = [
    "BODIES_FOLDER",
    "BODIES_UP_TO",
    "EXCHANGES_FOLDER",
    "INLINE_BODY",
    "KEPT_UP_TO",
    "Credentials",
    "ExchangeLog",
    "Fill",
    "WireChunk",
    "WireExchange",
    "WireRequest",
    "WireResponse",
    "current_test",
    "match_key",
    "read_exchanges",
    "set_current_test",
]

EXCHANGES_FOLDER = "exchanges"
BODIES_FOLDER = "bodies"
INLINE_BODY = 64 * 1024  # bytes of a body kept inside its line
# Every body kept is scrubbed (~0.1 s per MB); one larger than this is not kept at all.
# bodies kept for replay; larger ones are dropped whole (a replay misses them), so a
# hostile body never costs the run more than a few copies of this much memory
KEPT_UP_TO = 8 * 1024 * 1024
# Bytes of distinct large bodies one process keeps in bodies/; past them an answer's
# body is dropped like one past KEPT_UP_TO (a target sending a different 8 MiB on every
# request would otherwise fill the disk and every reader's memory). A full run against
# the reference server keeps well under 1 MiB there.
BODIES_UP_TO = 64 * 1024 * 1024
# Header fields that never change an answer, or change with every run.
_IGNORED = frozenset(
    {"host", "content-length", "user-agent", "accept-encoding", "connection"}
)
_CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "x-api-key"})
_BOUNDARY = re.compile(rb"boundary=([0-9A-Za-z'()+_,\-./:=?]+)")

_running = [""]  # the node id of the test running in this process


def set_current_test(nodeid: str) -> None:
    """The test now running in this process: its exchanges are filed under it."""
    _running[0] = nodeid


def current_test() -> str:
    return _running[0]


@dataclass(frozen=True)
class Credentials:
    """The run's keys by value → role, to name a credential without showing it."""

    roles: Mapping[str, str]

    def _with_roles(self, text: str) -> str | None:
        """``text`` with each role's key as ``<role>``; None when it holds none."""
        found = text
        for key, role in self.roles.items():
            found = found.replace(key, f"<{role}>")
        return found if found != text and redact.scrub(found) == found else None

    def name(self, value: str) -> str:
        """``none``, ``Bearer <main>``, or the shape of a key that is no role's."""
        if not value:
            return "none"
        scheme, sep, rest = value.partition(" ")
        token = rest.strip() if sep else scheme
        role = self.roles.get(token)
        if role is not None:
            return f"{scheme if sep else ''} <{role}>".strip()
        if sep:  # a role's key inside a longer credential, as is or in base64
            held = self._with_roles(token)
            if held is not None:
                return f"{scheme} {held}"
            try:
                decoded = base64.b64decode(token, validate=True).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                decoded = ""
            held = self._with_roles(decoded) if decoded else None
            if held is not None:
                return f"{scheme} base64({held})"
        if not sep:
            return f"<{len(value)} characters, no scheme>"
        if not token:
            return f"{scheme} <empty>"
        return f"{scheme} <another key, {len(token)} characters>"


@dataclass(frozen=True)
class Fill:
    """``count`` bytes of ``byte`` that stood at offset ``at`` of a body, left out of
    the record (see :mod:`qbtsuite.target.filled`)."""

    at: int
    count: int
    byte: int


@dataclass(frozen=True)
class WireChunk:
    offset: float  # seconds after the request was handed to the transport
    data: bytes


@dataclass(frozen=True)
class WireRequest:
    method: str
    url: str  # redacted
    headers: tuple[tuple[str, str], ...]  # redacted; credentials by role
    credential: str  # Credentials.name of the Authorization value
    body: bytes  # redacted when textual and small enough to scrub
    body_size: int
    body_recorded: bool  # False: a streamed body, not read (never replayed)
    match: str  # match_key
    fill: Fill | None = None  # a filled body: ``body`` is its head and tail


@dataclass(frozen=True)
class WireResponse:
    status: int
    http_version: str
    reason: str
    headers: tuple[tuple[str, str], ...]
    chunks: tuple[WireChunk, ...]
    redacted: bool  # a key was scrubbed out: not what the target sent
    error: str = ""  # "ReadError: …" when the body broke off

    @property
    def body(self) -> bytes:
        return b"".join(c.data for c in self.chunks)


@dataclass(frozen=True)
class WireExchange:
    test: str  # node id of the test that sent it ("" outside a test)
    seq: int  # order within its worker's file
    worker: str
    started: float  # seconds since the worker's first exchange
    request: WireRequest
    response: WireResponse | None  # None: no answer
    error: str = ""  # why there was no answer ("ConnectError: …")
    wall: float = 0.0  # when it was sent: seconds since the epoch

    @property
    def streamed(self) -> bool:
        kind = dict((k.lower(), v) for k, v in self.request.headers).get("accept", "")
        ctype = "" if self.response is None else _header(self.response, "content-type")
        return "event-stream" in kind or "event-stream" in ctype


def _header(response: WireResponse, name: str) -> str:
    for key, value in response.headers:
        if key.lower() == name:
            return value
    return ""


def _normal_boundary(content_type: str, body: bytes) -> tuple[str, bytes]:
    found = _BOUNDARY.search(content_type.encode("latin-1", "replace"))
    if found is None:
        return content_type, body
    boundary = found.group(1).strip(b'"')
    return (
        content_type.replace(boundary.decode("latin-1"), "BOUNDARY"),
        body.replace(boundary, b"BOUNDARY"),
    )


def scrub_bytes(body: bytes) -> tuple[bytes, bool]:
    """``body`` with keys scrubbed (text read as Latin-1, so no byte is lost) and
    whether anything was; a body past 8 MiB is dropped whole (and counts as
    scrubbed: a replay never gives it back)."""
    if len(body) > KEPT_UP_TO:
        return b"", True
    text = body.decode("latin-1")
    clean = redact.scrub(text)
    if clean == text:
        return body, False
    return clean.encode("latin-1", "replace"), True


def match_key(
    method: str,
    url: str,
    headers: tuple[tuple[str, str], ...],
    credential: str,
    body: bytes,
) -> str:
    """The replay identity of a request: what decides the answer, not when."""
    parsed = httpx.URL(url)
    target = parsed.raw_path.decode("ascii", "replace")
    kept: list[tuple[str, str]] = []
    content_type = ""
    for name, value in headers:
        low = name.lower()
        if low in _IGNORED or low in _CREDENTIAL_HEADERS:
            continue
        if low == "content-type":
            content_type = value
            continue
        kept.append((low, redact.scrub(value)))
    content_type, body = _normal_boundary(content_type, body)
    body, _ = scrub_bytes(body)
    identity = {
        "method": method.upper(),
        "target": redact.scrub(target),
        "credential": credential,
        "content-type": content_type,
        "headers": sorted(kept),
        "body": hashlib.sha256(body).hexdigest(),
    }
    return hashlib.sha256(json.dumps(identity).encode()).hexdigest()[:32]


def redacted_headers(
    headers: httpx.Headers, credentials: Credentials
) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    for name, value in headers.multi_items():
        low = name.lower()
        if low in _CREDENTIAL_HEADERS:
            value = credentials.name(value)
        elif looks_secret(name):
            value = redact.REDACTED
        out.append((name, redact.scrub(value)))
    return tuple(out)


# ─── the file ────────────────────────────────────────────────────────────────


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class ExchangeLog:
    """Appends exchanges to ``<folder>/<worker>.jsonl`` (thread-safe)."""

    def __init__(self, folder: Path, worker: str) -> None:
        self.folder = folder
        self.worker = worker
        self._lock = threading.Lock()
        self._seq = 0
        self._kept = 0  # bytes written into bodies/ by this log
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{worker}.jsonl"

    def next_seq(self) -> int:
        with self._lock:
            self._seq += 1
            return self._seq

    def _body(self, data: bytes) -> dict[str, object]:
        stored = self._stored(data, budget=False)
        assert stored is not None
        return stored

    def _stored(self, data: bytes, *, budget: bool) -> dict[str, object] | None:
        """Where ``data`` is kept: inline, or once by digest in bodies/ (None: past
        :data:`BODIES_UP_TO`, when ``budget`` holds it to that)."""
        if len(data) <= INLINE_BODY:
            return {"base64": _b64(data)}
        digest = hashlib.sha256(data).hexdigest()
        path = self.folder / BODIES_FOLDER / digest
        with self._lock:
            if not path.exists():
                if budget and self._kept + len(data) > BODIES_UP_TO:
                    return None
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
                self._kept += len(data)
        return {"file": f"{BODIES_FOLDER}/{digest}"}

    def _answer_body(self, res: WireResponse) -> dict[str, object]:
        """The response's chunks: each inline while the body is small; a larger body
        once by digest (the same answer sent again is kept once), its chunks as
        offsets and sizes; past the budget, dropped and marked ``redacted``."""
        whole = b"".join(c.data for c in res.chunks)
        if len(whole) <= INLINE_BODY:
            return {
                "chunks": [
                    [round(c.offset, 6), self._body(c.data)] for c in res.chunks
                ],
                "redacted": res.redacted,
            }
        stored = self._stored(whole, budget=True)
        if stored is None:
            last = round(res.chunks[-1].offset, 6)
            return {"chunks": [[last, {"base64": ""}]], "redacted": True}
        return {
            "body": stored,
            "chunks": [[round(c.offset, 6), len(c.data)] for c in res.chunks],
            "redacted": res.redacted,
        }

    def write(self, exchange: WireExchange) -> None:
        req = exchange.request
        line: dict[str, object] = {
            "test": exchange.test,
            "seq": exchange.seq,
            "worker": exchange.worker,
            "started": round(exchange.started, 6),
            "wall": round(exchange.wall, 6),
            "request": {
                "method": req.method,
                "url": req.url,
                "headers": [list(h) for h in req.headers],
                "credential": req.credential,
                "body": self._body(req.body),
                "body_size": req.body_size,
                "body_recorded": req.body_recorded,
                "match": req.match,
                **(
                    {"fill": [req.fill.at, req.fill.count, req.fill.byte]}
                    if req.fill is not None
                    else {}
                ),
            },
            "response": None,
            "error": exchange.error,
        }
        if exchange.response is not None:
            res = exchange.response
            line["response"] = {
                "status": res.status,
                "http_version": res.http_version,
                "reason": res.reason,
                "headers": [list(h) for h in res.headers],
                **self._answer_body(res),
                "error": res.error,
            }
        text = json.dumps(line, ensure_ascii=False)
        with self._lock, self.path.open("a", encoding="utf-8") as handle:
            handle.write(text + "\n")


class _Bodies:
    """Reads the bodies of one recording, each file once: an answer kept once by
    digest and replayed 300 times is 300 references to one ``bytes``, not 300 copies."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._files: dict[str, bytes] = {}
        self._pieces: dict[tuple[str, tuple[int, ...]], tuple[bytes, ...]] = {}

    def read(self, data: object) -> bytes:
        if not isinstance(data, dict):
            raise ValueError("a body is not an object")
        if "base64" in data:
            return base64.b64decode(str(data["base64"]))
        name = str(data.get("file", ""))
        if "/" not in name or ".." in name:
            raise ValueError(f"a body file outside the folder: {name!r}")
        if name not in self._files:
            self._files[name] = (self.folder / name).read_bytes()
        return self._files[name]

    def chunks(self, chunks: list[object], whole: object) -> tuple[WireChunk, ...]:
        """A response's chunks: each with its data, or (a large body kept whole)
        each an offset and a size into that body."""
        pairs = [c for c in chunks if isinstance(c, list) and len(c) == 2]
        if len(pairs) != len(chunks):
            raise ValueError("a chunk is not [offset, data]")
        if whole is None:
            return tuple(WireChunk(float(c[0]), self.read(c[1])) for c in pairs)
        sizes = tuple(int(size) for _, size in pairs)
        name = whole.get("file") if isinstance(whole, dict) else None
        key = (str(name), sizes) if name else None  # an inline body is not shared
        pieces = self._pieces.get(key) if key else None
        if pieces is None:
            body = self.read(whole)
            ends = (0, *itertools.accumulate(sizes))  # linear: a stream has many
            if ends[-1] != len(body):
                raise ValueError("the chunks' sizes do not add up to the body")
            pieces = tuple(body[a:b] for a, b in itertools.pairwise(ends))
            if key:
                self._pieces[key] = pieces
        return tuple(
            WireChunk(float(c[0]), d) for c, d in zip(pairs, pieces, strict=True)
        )


def _fill(value: object) -> Fill | None:
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 3:
        raise ValueError("a fill is not [at, count, byte]")
    return Fill(int(value[0]), int(value[1]), int(value[2]))


def _pairs(value: object) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, list):
        raise ValueError("header fields are not a list")
    return tuple((str(p[0]), str(p[1])) for p in value)


def _exchange(bodies: _Bodies, line: Mapping[str, object]) -> WireExchange:
    req = line["request"]
    if not isinstance(req, dict):
        raise ValueError("request is not an object")
    request = WireRequest(
        method=str(req["method"]),
        url=str(req["url"]),
        headers=_pairs(req["headers"]),
        credential=str(req["credential"]),
        body=bodies.read(req["body"]),
        body_size=int(req["body_size"]),
        body_recorded=bool(req["body_recorded"]),
        match=str(req["match"]),
        fill=_fill(req.get("fill")),
    )
    response = None
    res = line.get("response")
    if isinstance(res, dict):
        chunks = res["chunks"]
        if not isinstance(chunks, list):
            raise ValueError("chunks are not a list")
        response = WireResponse(
            status=int(res["status"]),
            http_version=str(res["http_version"]),
            reason=str(res["reason"]),
            headers=_pairs(res["headers"]),
            chunks=bodies.chunks(chunks, res.get("body")),
            redacted=bool(res["redacted"]),
            error=str(res.get("error", "")),
        )
    return WireExchange(
        test=str(line["test"]),
        seq=int(str(line["seq"])),
        worker=str(line["worker"]),
        started=float(str(line["started"])),
        request=request,
        response=response,
        error=str(line.get("error", "")),
        wall=float(str(line.get("wall", 0.0))),
    )


def read_exchanges(run_dir: Path) -> list[WireExchange]:
    """Every recorded exchange of a run folder, by worker then order; none when the
    run recorded none (an older run). A malformed line raises ValueError naming it."""
    folder = run_dir / EXCHANGES_FOLDER
    bodies = _Bodies(folder)
    out: list[WireExchange] = []
    for path in sorted(folder.glob("*.jsonl")):
        lines = list(_lines(path))
        for number, text in enumerate(lines, 1):
            try:
                out.append(_exchange(bodies, json.loads(text)))
            except (KeyError, ValueError, TypeError, IndexError, OSError) as exc:
                if number == len(lines) and not text.endswith("\n"):
                    break  # the last line of a run stopped mid-write
                raise ValueError(
                    f"{path}:{number}: not a recorded exchange ({exc})"
                ) from None
    return out


def _lines(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8") as handle:
        for text in handle:
            if text.strip():
                yield text
