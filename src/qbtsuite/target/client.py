"""The suite's HTTP client: timed, budgeted, retried by the spec's policy, transcribed.

:class:`SuiteClient` wraps one ``httpx.Client`` (verify = the CA bundle or off, timeouts
always set, redirects never followed: the suite checks them itself). Each call returns
an :class:`Exchange` with the response, its timings and a redacted transcript.

Retries are off by default. With ``retries > 0`` they follow getting-started.txt:
"Treat 5xx responses … and network errors as transient and retry with exponential
backoff (e.g. 1s, 2s, 4s …). Do not auto-retry on 4xx". Every retry is reported to
``on_retry`` so the results show it as a flake; nothing is hidden.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from qbtsuite.errors import MissingKey, TargetUnreachable
from qbtsuite.target.budget import RequestBudget
from qbtsuite.target.config import KEY_ROLES, TargetConfig
from qbtsuite.target.exchange import (
    Exchange,
    RetryEvent,
    StreamExchange,
    describe_request_body,
)
from qbtsuite.target.transcript import format_exchange

__all__ = [
    "BACKOFF",
    "Exchange",
    "RetryEvent",
    "StreamExchange",
    "SuiteClient",
    "build_http_client",
    "unreachable",
]

BACKOFF = (1.0, 2.0, 4.0)  # seconds before retry 1, 2, 3 (getting-started.txt)


def build_http_client(
    config: TargetConfig, transport: httpx.BaseTransport | None = None
) -> httpx.Client:
    """An ``httpx.Client`` for ``config``: its trust settings and timeouts, no redirects."""
    timeout = httpx.Timeout(config.read_timeout, connect=config.connect_timeout)
    verify: ssl.SSLContext | bool = config.verify is not False
    if isinstance(config.verify, str):
        verify = ssl.create_default_context(cafile=config.verify)
    return httpx.Client(
        verify=verify,
        timeout=timeout,
        follow_redirects=False,
        transport=transport,
        event_hooks={"request": [_target_headers(config)]} if config.headers else None,
    )


def _target_headers(config: TargetConfig) -> Callable[[httpx.Request], None]:
    """The configured extra headers (``-H``), added to every request to the target's
    hosts; never to another host (an image URL the target returns): a proxy's
    credential is for the proxy."""
    hosts = {httpx.URL(config.base_url).host, httpx.URL(config.http_url).host}

    def add(request: httpx.Request) -> None:
        if request.url.host in hosts:
            for name, value in config.headers.items():
                request.headers.setdefault(name, value)

    return add


def unreachable(url: str, exc: httpx.TransportError) -> TargetUnreachable:
    """A one-line :class:`TargetUnreachable` for a connection-level failure."""
    host = httpx.URL(url).host
    text = str(exc) or type(exc).__name__
    if "CERTIFICATE" in text.upper() or "SSL" in text.upper():
        why = f"TLS handshake failed ({text}); use --ca-bundle or --insecure"
    elif isinstance(exc, httpx.ConnectTimeout | httpx.TimeoutException):
        why = "connection timed out"
    elif "name or service" in text.lower() or "nodename" in text.lower():
        why = f"host name not found ({text})"
    else:
        why = text
    return TargetUnreachable(f"cannot reach {host}: {why}")


@dataclass
class _Call:
    """One logical request, rebuildable for each attempt."""

    method: str
    url: str
    headers: dict[str, str]
    kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def retryable(self) -> bool:
        content = self.kwargs.get("content")
        if content is not None and not isinstance(content, bytes | str):
            return False  # a generator cannot be sent twice
        files = self.kwargs.get("files") or {}
        values = files.values() if isinstance(files, Mapping) else [f[1] for f in files]
        return not any(
            hasattr(v, "read") or hasattr(_payload(v), "read") for v in values
        )


def _payload(value: Any) -> Any:
    return value[1] if isinstance(value, tuple) and len(value) > 1 else value


class SuiteClient:
    """HTTP to one target, with budget, retries, timings and transcripts."""

    def __init__(
        self,
        config: TargetConfig,
        *,
        http: httpx.Client | None = None,
        budget: RequestBudget | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        on_exchange: Callable[[Exchange], None] | None = None,
        on_retry: Callable[[RetryEvent], None] | None = None,
    ) -> None:
        self.config = config
        self.http = http if http is not None else build_http_client(config)
        self.budget = (
            budget if budget is not None else RequestBudget(config.request_budget)
        )
        self._sleep = sleep
        self._clock = clock
        self._on_exchange = on_exchange
        self._on_retry = on_retry

    def bind(
        self,
        *,
        on_exchange: Callable[[Exchange], None] | None = None,
        on_retry: Callable[[RetryEvent], None] | None = None,
    ) -> SuiteClient:
        """A client sharing this one's connection pool and budget, reporting elsewhere."""
        return SuiteClient(
            self.config,
            http=self.http,
            budget=self.budget,
            sleep=self._sleep,
            clock=self._clock,
            on_exchange=on_exchange,
            on_retry=on_retry,
        )

    def url(self, path: str) -> str:
        """``path`` joined to the base URL (``models`` → ``…/v1/models``); absolute URLs pass."""
        if path.startswith(("https://", "http://")):
            return path
        return self.config.base_url.rstrip("/") + "/" + path.lstrip("/")

    def authorization(self, key: str | None) -> dict[str, str]:
        """The ``Authorization`` header for a key role or a literal key; none for None."""
        if key is None:
            return {}
        if key in KEY_ROLES:
            secret = self.config.key(key)
            if secret is None:
                raise MissingKey(key)
            key = secret.reveal()
        return {"Authorization": f"Bearer {key}"}

    def _call(
        self,
        method: str,
        path: str,
        key: str | None,
        headers: Mapping[str, str] | None,
        **kwargs: Any,
    ) -> _Call:
        merged = self.authorization(key)
        merged.update(headers or {})
        present = {k: v for k, v in kwargs.items() if v is not None}
        return _Call(method.upper(), self.url(path), merged, present)

    def request(
        self,
        method: str,
        path: str,
        *,
        key: str | None = "main",
        json: Any = None,
        content: Any = None,
        data: Mapping[str, Any] | None = None,
        files: Any = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        stream: bool = False,
        timeout: float | None = None,
    ) -> Exchange:
        """Send one request and read the whole response.

        ``key`` is a role (``"main"``, ``"second"``, ``"zero_balance"``,
        ``"low_limit"``), a literal key, or None for no ``Authorization`` header.
        With ``stream=True`` the body is read chunk by chunk and each chunk's arrival
        time is kept in ``Exchange.chunks``. An error while reading the body is kept
        in ``Exchange.error`` (a cut stream is a finding, not a crash).
        """
        call = self._call(
            method, path, key, headers,
            json=json, content=content, data=data, files=files, params=params,
            timeout=timeout,
        )  # fmt: skip
        response, sent, first, retries = self._send(call)
        chunks: list[tuple[bytes, float]] = []
        error = ""
        try:
            for chunk in response.iter_bytes():
                chunks.append((chunk, self._clock()))
        except httpx.TransportError as exc:
            error = f"{type(exc).__name__}: {exc}"
        finally:
            response.close()
        exchange = Exchange(
            request=response.request,
            response=response,
            body=b"".join(c for c, _ in chunks),
            sent=sent,
            first_byte=first,
            done=self._clock(),
            chunks=chunks if stream else None,
            retries=retries,
            error=error,
            transcript="",
        )
        self._finish(exchange, call)
        return exchange

    @contextmanager
    def stream_request(
        self,
        method: str,
        path: str,
        *,
        key: str | None = "main",
        json: Any = None,
        content: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Iterator[StreamExchange]:
        """Send a request; iterate the yielded stream for ``(chunk, arrival_time)``.

        The response is closed when the ``with`` block ends, read or not.
        """
        call = self._call(
            method, path, key, headers, json=json, content=content, timeout=timeout
        )
        response, sent, first, retries = self._send(call)
        stream = StreamExchange(response, sent, first, retries, self._clock)
        try:
            yield stream
        finally:
            response.close()
            exchange = stream.finish()
            self._finish(exchange, call)

    def _finish(self, exchange: Exchange, call: _Call) -> None:
        body = describe_request_body(call.kwargs)
        note = exchange.error
        exchange.transcript = format_exchange(
            exchange.request, body, exchange.response, exchange.body, note=note
        )
        if self._on_exchange is not None:
            self._on_exchange(exchange)

    def _send(
        self, call: _Call
    ) -> tuple[httpx.Response, float, float, list[RetryEvent]]:
        retries: list[RetryEvent] = []
        allowed = self.config.retries if call.retryable else 0
        while True:
            self.budget.take()
            request = self.http.build_request(
                call.method, call.url, headers=call.headers, **call.kwargs
            )
            sent = self._clock()
            try:
                response = self.http.send(request, stream=True)
            except httpx.TransportError as exc:
                if len(retries) < allowed:
                    self._retry(call, retries, f"{type(exc).__name__}: {exc}")
                    continue
                if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
                    raise unreachable(call.url, exc) from exc
                raise
            first = self._clock()
            if response.status_code >= 500 and len(retries) < allowed:
                response.close()
                reason = f"{response.status_code} {response.reason_phrase}"
                self._retry(call, retries, reason)
                continue
            return response, sent, first, retries

    def _retry(self, call: _Call, retries: list[RetryEvent], reason: str) -> None:
        wait = BACKOFF[min(len(retries), len(BACKOFF) - 1)]
        event = RetryEvent(call.method, call.url, len(retries) + 1, reason, wait)
        retries.append(event)
        if self._on_retry is not None:
            self._on_retry(event)
        self._sleep(wait)

    def close(self) -> None:
        self.http.close()
