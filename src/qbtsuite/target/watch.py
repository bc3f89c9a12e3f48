"""A wall-clock deadline under httpx: each socket operation gets what is left of it.

httpx's timeouts are per operation: a read timeout fires only when no byte arrives
for that long, so a target sending one byte a second (or an endless stream, or
interim ``100 Continue`` answers forever) is never stopped by it. A :class:`Watch`
is the deadline of one exchange; while it is active (:meth:`Watch.active`, a
context variable, so it follows the thread that sends and reads), every connect,
TLS handshake, read and write on a bounded transport (:func:`bound_transport`)
waits at most the time left, and none starts once it is spent. The watch also
counts the bytes that arrived, and keeps the first of them, as evidence.

Raw sockets (the few checks that need bytes httpx will not send) get the same
deadline from :class:`SocketDeadline`.

The bounding wraps the network backend of httpcore's connection pool (httpx's
transport keeps it as ``_pool._network_backend``; :func:`bound_transport` fails
loudly if a version of httpx stops doing so). It works for httpx/httpcore and for
httpx2/httpcore2, the HTTP stack of the openai SDK: pass the matching module.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from types import ModuleType, TracebackType
from typing import Any

__all__ = [
    "HEAD_BYTES",
    "SocketDeadline",
    "Watch",
    "active_watch",
    "bound_transport",
]

HEAD_BYTES = 512  # first bytes of an exchange's answer kept as evidence
_SPENT = 0.05  # seconds: a timeout this close to the deadline was the deadline's

_ACTIVE: ContextVar[Watch | None] = ContextVar("qbtsuite_watch", default=None)


class Watch:
    """The deadline of one exchange, and what arrived before it."""

    def __init__(
        self, seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.seconds = seconds
        self._clock = clock
        self.started = clock()
        self.received = 0  # bytes read off the connection (after TLS)
        self.head = bytearray()  # the first HEAD_BYTES of them
        self._refused = False

    def left(self) -> float:
        """Seconds until the deadline (negative once past)."""
        return self.seconds - (self._clock() - self.started)

    @property
    def spent(self) -> bool:
        """The deadline passed (or an operation was refused for lack of time)."""
        return self._refused or self.left() <= _SPENT

    def elapsed(self) -> float:
        return self._clock() - self.started

    def bound(self, timeout: float | None, error: type[Exception]) -> float:
        """``timeout`` cut to the time left; ``error`` when none is left."""
        left = self.left()
        if left <= 0:
            self._refused = True
            raise error(f"no complete answer within {self.seconds:g} s")
        return left if timeout is None else min(timeout, left)

    def arrived(self, data: bytes) -> None:
        self.received += len(data)
        room = HEAD_BYTES - len(self.head)
        if room > 0:
            self.head += data[:room]

    @contextmanager
    def active(self) -> Iterator[Watch]:
        """Bound every socket operation of this thread by this watch, inside."""
        token = _ACTIVE.set(self)
        try:
            yield self
        finally:
            _ACTIVE.reset(token)

    def guard(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """``chunks`` pulled one by one with this watch active."""
        iterator = iter(chunks)
        while True:
            with self.active():
                try:
                    chunk = next(iterator)
                except StopIteration:
                    return
            yield chunk


def active_watch() -> Watch | None:
    """The watch of the exchange this thread is in, if any."""
    return _ACTIVE.get()


def _bound(timeout: float | None, error: type[Exception]) -> float | None:
    watch = _ACTIVE.get()
    return timeout if watch is None else watch.bound(timeout, error)


class _Stream:
    """A network stream whose operations the active watch bounds."""

    def __init__(self, inner: Any, errors: ModuleType) -> None:
        self._inner = inner
        self._errors = errors

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data: bytes = self._inner.read(
            max_bytes, _bound(timeout, self._errors.ReadTimeout)
        )
        watch = _ACTIVE.get()
        if watch is not None:
            watch.arrived(data)
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bound(timeout, self._errors.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> _Stream:
        bounded = _bound(timeout, self._errors.ConnectTimeout)
        return _Stream(
            self._inner.start_tls(ssl_context, server_hostname, bounded), self._errors
        )

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend:
    """A network backend whose connections the active watch bounds."""

    def __init__(self, inner: Any, errors: ModuleType) -> None:
        self._inner = inner
        self._errors = errors

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> _Stream:
        bounded = _bound(timeout, self._errors.ConnectTimeout)
        stream = self._inner.connect_tcp(
            host, port, bounded, local_address, socket_options
        )
        return _Stream(stream, self._errors)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> _Stream:
        bounded = _bound(timeout, self._errors.ConnectTimeout)
        stream = self._inner.connect_unix_socket(path, bounded, socket_options)
        return _Stream(stream, self._errors)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def bound_transport(transport: Any, core: ModuleType) -> Any:
    """``transport`` (an ``HTTPTransport`` of httpx or httpx2, unused so far) with its
    connections bounded by the active watch; ``core`` is its httpcore module, whose
    timeout exceptions the bounded operations raise."""
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if backend is None:
        raise RuntimeError(
            f"{type(transport).__module__}.{type(transport).__name__} keeps no "
            "network backend where qbtsuite bounds it: deadlines would not hold"
        )
    if not isinstance(backend, _Backend):
        pool._network_backend = _Backend(backend, core)  # type: ignore[union-attr]
    return transport


class SocketDeadline:
    """The deadline of an exchange on a raw socket (``http.client``, h11 by hand):
    when it passes, the socket is shut down, so whatever reads or writes it stops
    at once (its own timeouts are per operation, like httpx's). ``fired`` tells a
    deadline from any other end of the connection.
    """

    def __init__(self, sock: socket.socket, seconds: float) -> None:
        self.seconds = seconds
        self.fired = False
        self._sock = sock
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def _fire(self) -> None:
        self.fired = True
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:  # already closed: nothing left to stop
            pass

    def __enter__(self) -> SocketDeadline:
        self._timer.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._timer.cancel()
