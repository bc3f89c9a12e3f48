"""Where the session's exchanges go: recorded in the run folder, and, for
``qbtsuite rejudge``, answered from an earlier run's recording.

:class:`ReplayHandoff` is the plugin ``rejudge`` passes to the pytest session it starts:
it puts the :class:`~qbtsuite.target.replay.ReplayTransport` in ``config.stash`` and
guards the socket module so that a test reaching past the suite's client (a raw TLS
socket, the openai SDK's own HTTP stack) gets no connection and counts as a miss: its
recorded outcome stands (``not re-judged``).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from qbtsuite.target.config import TargetConfig
from qbtsuite.target.replay import ReplayTransport
from qbtsuite.target.taping import RecordingTransport
from qbtsuite.target.wirelog import (
    EXCHANGES_FOLDER,
    Credentials,
    ExchangeLog,
    current_test,
)

__all__ = [
    "REPLAY",
    "ReplayHandoff",
    "credentials_of",
    "replaying",
    "session_transport",
]

REPLAY = pytest.StashKey[ReplayTransport]()


def replaying(config: pytest.Config) -> bool:
    """Whether this session answers from a recording (``qbtsuite rejudge``)."""
    return REPLAY in config.stash


def credentials_of(config: TargetConfig) -> Credentials:
    return Credentials({s.reveal(): role for role, s in config.keys.items()})


def session_transport(
    config: TargetConfig,
    inner: httpx.BaseTransport,
    results_dir: Path | None,
    worker: str,
    replay: ReplayTransport | None,
) -> httpx.BaseTransport:
    """``inner`` (or the replay), recorded into the run folder when there is one."""
    base: httpx.BaseTransport = replay if replay is not None else inner
    if results_dir is None:
        return base
    log = ExchangeLog(results_dir / EXCHANGES_FOLDER, worker)
    return RecordingTransport(base, log, credentials_of(config))


@dataclass(eq=False)  # hashed by identity: pluggy keeps plugins in sets
class ReplayHandoff:
    """The replay for the session ``qbtsuite rejudge`` starts (in one process)."""

    transport: ReplayTransport
    _saved: list[Any] = field(default_factory=list)

    @pytest.hookimpl(tryfirst=True)
    def pytest_configure(self, config: pytest.Config) -> None:
        config.stash[REPLAY] = self.transport

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Iterator[None]:
        with _no_network(self.transport):
            return (yield)


@contextmanager
def _no_network(replay: ReplayTransport) -> Iterator[None]:
    """Every socket connection in this process is refused and counted a miss."""
    original_connect = socket.socket.connect
    original_create = socket.create_connection

    def refuse(where: object) -> None:
        replay.miss(current_test(), f"a direct connection to {where}")
        raise ConnectionRefusedError(f"replay: no network ({where})")

    def connect(self: socket.socket, address: Any) -> None:
        if self.family == socket.AF_UNIX:
            return original_connect(self, address)
        refuse(address)

    def create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        refuse(address)
        raise AssertionError("unreachable")

    socket.socket.connect = connect  # type: ignore[method-assign,assignment]
    socket.create_connection = create_connection
    try:
        yield
    finally:
        socket.socket.connect = original_connect  # type: ignore[method-assign]
        socket.create_connection = original_create
