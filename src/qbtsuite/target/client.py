"""The suite's HTTP client: timed, budgeted, retried by the spec's policy, transcribed.

:class:`SuiteClient` wraps one ``httpx.Client`` (verify = the CA bundle or off, timeouts
always set, redirects never followed: the suite checks them itself). Each call returns
an :class:`Exchange` with the response, its timings and a redacted transcript.

Retries are off by default. With ``retries > 0`` they follow getting-started.txt:
"Treat 5xx responses … and network errors as transient and retry with exponential
backoff (e.g. 1s, 2s, 4s …). Do not auto-retry on 4xx". Every retry is reported to
``on_retry`` so the results show it as a flake; nothing is hidden.

Throttling is not that policy: before each attempt and after each answer the client
asks its :class:`~qbtsuite.target.throttle.Throttle` (pace the main key; wait out a
429/402/5xx-with-Retry-After on a key the test does not mean to exhaust, then send
again), reports each wait to ``on_pace``/``on_throttle``, and raises
:class:`~qbtsuite.errors.Throttled` when a throttle cannot be waited out.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from qbtsuite.errors import MissingKey, TargetUnreachable, Throttled
from qbtsuite.target.budget import RequestBudget
from qbtsuite.target.config import KEY_ROLES, TargetConfig
from qbtsuite.target.exchange import (
    Exchange,
    RetryEvent,
    StreamExchange,
    describe_request_body,
)
from qbtsuite.target.throttle import (
    Throttle,
    ThrottleEvent,
    ThrottleGate,
    ThrottlePolicy,
    role_of,
    throttle_for,
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
    )


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
    role: str | None = None  # the key role whose key the request carries

    def send_kwargs(self) -> dict[str, Any]:
        """The arguments of one attempt: a body factory (``content=callable``) makes a
        fresh body each time."""
        content = self.kwargs.get("content")
        if callable(content):
            return {**self.kwargs, "content": content()}
        return self.kwargs

    @property
    def retryable(self) -> bool:
        content = self.kwargs.get("content")
        if callable(content):
            return True
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
        throttle: Throttle | None = None,
        on_throttle: Callable[[ThrottleEvent], None] | None = None,
        on_pace: Callable[[float], None] | None = None,
    ) -> None:
        self.config = config
        self.http = http if http is not None else build_http_client(config)
        self.budget = (
            budget if budget is not None else RequestBudget(config.request_budget)
        )
        self.throttle = (
            throttle if throttle is not None else throttle_for(config, sleep=sleep)
        )
        self.gate = ThrottleGate(self.throttle, on_throttle, on_pace)
        self._sleep = sleep
        self._clock = clock
        self._on_exchange = on_exchange
        self._on_retry = on_retry

    def bind(
        self,
        *,
        on_exchange: Callable[[Exchange], None] | None = None,
        on_retry: Callable[[RetryEvent], None] | None = None,
        on_throttle: Callable[[ThrottleEvent], None] | None = None,
        on_pace: Callable[[float], None] | None = None,
        policy: ThrottlePolicy | None = None,
    ) -> SuiteClient:
        """A client sharing this one's connection pool, budget and throttle allowance,
        reporting elsewhere, under the throttle ``policy`` of another test."""
        throttle = (
            self.throttle if policy is None else self.throttle.with_policy(policy)
        )
        return SuiteClient(
            self.config,
            http=self.http,
            budget=self.budget,
            sleep=self._sleep,
            clock=self._clock,
            on_exchange=on_exchange,
            on_retry=on_retry,
            throttle=throttle,
            on_throttle=on_throttle,
            on_pace=on_pace,
        )

    def with_policy(self, policy: ThrottlePolicy) -> SuiteClient:
        """This client (same pool, budget, allowance and reports) under ``policy``."""
        return self.bind(
            on_exchange=self._on_exchange,
            on_retry=self._on_retry,
            on_throttle=self.gate.on_throttle,
            on_pace=self.gate.on_pace,
            policy=policy,
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

    def role_of(self, authorization: str | None) -> str | None:
        """The key role whose key an ``Authorization`` value carries, or None."""
        return role_of(self.config.keys, authorization)

    def pace(self, role: str | None) -> None:
        """Wait for the main key's next free slot (its declared limit), if need be.

        For requests sent outside this client (raw sockets, the openai SDK).
        """
        self.gate.before(role)

    def after_answer(
        self,
        role: str | None,
        method: str,
        url: str,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
        *,
        resendable: bool = True,
    ) -> bool:
        """True once a throttle answer has been waited out: send the request again.

        False: the answer stands. Raises :class:`~qbtsuite.errors.Throttled` when the
        throttle cannot be waited out (reported to ``on_throttle`` first). For
        requests sent outside this client, after each answer; its own requests do
        this by themselves.
        """
        event = self.gate.judge(
            role, method, url, status, headers, body, resendable=resendable
        )
        if event is None:
            return False
        if not event.resolved:
            raise Throttled(event.message, role=event.role)
        return True

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
        role = self.role_of(merged.get("Authorization"))
        return _Call(method.upper(), self.url(path), merged, present, role)

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
        response, sent, first, retries, throttled = self._send(call)
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
        if throttled is not None:
            raise Throttled(throttled.message, role=throttled.role)
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
        response, sent, first, retries, throttled = self._send(call)
        stream = StreamExchange(response, sent, first, retries, self._clock)
        if throttled is not None:
            for _ in stream:  # the answer is read already; transcribe it, then stop
                pass
            response.close()
            self._finish(stream.finish(), call)
            raise Throttled(throttled.message, role=throttled.role)
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
    ) -> tuple[httpx.Response, float, float, list[RetryEvent], ThrottleEvent | None]:
        """Send ``call`` until an answer stands; the last element is an unresolved
        throttle (the answer is then read, and no evidence)."""
        retries: list[RetryEvent] = []
        allowed = self.config.retries if call.retryable else 0
        while True:
            self.budget.take()
            self.gate.before(call.role)
            request = self.http.build_request(
                call.method, call.url, headers=call.headers, **call.send_kwargs()
            )
            sent = self._clock()
            try:
                response = self.http.send(request, stream=True)
            except httpx.TransportError as exc:
                self.gate.answered()
                if len(retries) < allowed:
                    self._retry(call, retries, f"{type(exc).__name__}: {exc}")
                    continue
                if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
                    raise unreachable(call.url, exc) from exc
                raise
            first = self._clock()
            throttled = self.gate.judge_response(
                call.role, call.method, call.url, response, resendable=call.retryable
            )
            if throttled is not None and throttled.resolved:
                continue
            if throttled is not None:
                return response, sent, first, retries, throttled
            if response.status_code >= 500 and len(retries) < allowed:
                response.close()
                reason = f"{response.status_code} {response.reason_phrase}"
                self._retry(call, retries, reason)
                continue
            return response, sent, first, retries, None

    def _retry(self, call: _Call, retries: list[RetryEvent], reason: str) -> None:
        wait = BACKOFF[min(len(retries), len(BACKOFF) - 1)]
        event = RetryEvent(call.method, call.url, len(retries) + 1, reason, wait)
        retries.append(event)
        if self._on_retry is not None:
            self._on_retry(event)
        self._sleep(wait)

    def close(self) -> None:
        self.http.close()
