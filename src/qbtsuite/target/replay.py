"""The replay transport: answers each request from a run's recorded exchanges.

A request is matched by :func:`~qbtsuite.target.wirelog.match_key` (method, path and
query, the credential's role, the header fields that shape an answer, the body), first
among the exchanges of the test now running, in the order they were sent, then among
every exchange of the run with the same key (a session fixture's request). Chunks are
given back with their recorded arrival offsets, so a stream arrives in its pieces.

What cannot be answered faithfully is a *miss*, kept per test in :attr:`misses`: a
request not in the recording, a streamed body that was not read, an answer scrubbed
of a key. A miss raises ``httpx.ConnectError``: nothing reaches the network.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator

import httpx

from qbtsuite.target.taping import wire_request
from qbtsuite.target.wirelog import (
    KEPT_UP_TO,
    Credentials,
    WireExchange,
    WireResponse,
    current_test,
)

__all__ = ["ReplayTransport"]

_ERRORS: dict[str, type[httpx.TransportError]] = {
    "ReadTimeout": httpx.ReadTimeout,
    "WriteTimeout": httpx.WriteTimeout,
    "ConnectTimeout": httpx.ConnectTimeout,
    "PoolTimeout": httpx.PoolTimeout,
    "ConnectError": httpx.ConnectError,
    "ReadError": httpx.ReadError,
    "WriteError": httpx.WriteError,
    "RemoteProtocolError": httpx.RemoteProtocolError,
    "LocalProtocolError": httpx.LocalProtocolError,
}
# Why a recorded answer marked ``redacted`` is not given back.
_NOT_KEPT_AS_SENT = (
    "its answer was not kept as sent (a key scrubbed out of it,"
    f" or a body past {KEPT_UP_TO // 2**20} MiB)"
)
_MAX_PAUSE = 2.0  # seconds: a recorded pause longer than this is replayed shorter


def _error(text: str, request: httpx.Request) -> httpx.TransportError:
    kind, _, message = text.partition(": ")
    return _ERRORS.get(kind, httpx.ReadError)(message or kind, request=request)


class _ReplayedStream(httpx.SyncByteStream):
    def __init__(self, response: WireResponse, request: httpx.Request) -> None:
        self._response = response
        self._request = request

    def __iter__(self) -> Iterator[bytes]:
        start = time.monotonic()
        for chunk in self._response.chunks:
            wait = min(chunk.offset, _MAX_PAUSE) - (time.monotonic() - start)
            if wait > 0:
                time.sleep(wait)
            yield chunk.data
        if self._response.error:
            raise _error(self._response.error, self._request)


class ReplayTransport(httpx.BaseTransport):
    """Answers from ``exchanges``; never opens a connection."""

    def __init__(
        self, exchanges: Iterable[WireExchange], credentials: Credentials
    ) -> None:
        self._credentials = credentials
        self._by_test: dict[tuple[str, str], deque[WireExchange]] = defaultdict(deque)
        self._any: dict[str, WireExchange] = {}
        for ex in exchanges:
            if not ex.request.body_recorded:
                continue
            self._by_test[(ex.test, ex.request.match)].append(ex)
            self._any.setdefault(ex.request.match, ex)
        self.misses: dict[str, list[str]] = defaultdict(list)
        self.answered: dict[str, int] = defaultdict(int)

    def miss(self, test: str, why: str) -> None:
        self.misses[test].append(why)

    def _find(self, test: str, key: str) -> WireExchange | None:
        queue = self._by_test.get((test, key))
        if queue:
            return queue.popleft() if len(queue) > 1 else queue[0]
        return self._any.get(key)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        test = current_test()
        wire = wire_request(request, self._credentials)
        where = f"{request.method} {request.url.raw_path.decode('ascii', 'replace')}"
        found = self._find(test, wire.match) if wire.body_recorded else None
        if found is None:
            why = "a streamed body" if not wire.body_recorded else "not recorded"
            self.miss(test, f"{where}: {why}")
            raise httpx.ConnectError(f"replay: {where} is {why}", request=request)
        if found.response is None:
            self.answered[test] += 1
            raise _error(found.error or "ConnectError: no answer", request)
        if found.response.redacted:
            self.miss(test, f"{where}: {_NOT_KEPT_AS_SENT}")
            raise httpx.ConnectError(
                f"replay: {where} answer redacted", request=request
            )
        self.answered[test] += 1
        res = found.response
        return httpx.Response(
            status_code=res.status,
            headers=list(res.headers),
            stream=_ReplayedStream(res, request),
            extensions={
                "http_version": res.http_version.encode("latin-1"),
                "reason_phrase": res.reason.encode("latin-1"),
            },
            request=request,
        )
