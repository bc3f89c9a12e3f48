"""The suite's HTTP client: bounded, budgeted, retried by the spec's policy, transcribed.

:class:`SuiteClient` wraps one ``httpx.Client`` (verify = the CA bundle or off, timeouts
always set, redirects never followed: the suite checks them itself). Each call returns
an :class:`Exchange` with the response, its timings and a redacted transcript.

Every exchange is bounded (:mod:`qbtsuite.target.limits`): a wall-clock deadline from
sending to the end of the body (:mod:`qbtsuite.target.watch` enforces it on each
socket operation), the size of the header block and of the body, which is read raw
and inflated here under the cap (:mod:`qbtsuite.target.inflate`; httpx would inflate
a gzip bomb whole). Past a bound the target is at fault: the exchange's transcript is
attached with what arrived, then :class:`~qbtsuite.errors.NoCompleteAnswer` or
:class:`~qbtsuite.errors.AnswerTooLarge` fails the check. An answer that breaks off
mid-body is returned with ``Exchange.error`` saying how ("reset by the target after N
bytes"), a finding for the checks, not a crash. Exchanges with the target that get
no answer in time feed the circuit breaker (:mod:`qbtsuite.target.breaker`).

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
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import httpcore
import httpx

from qbtsuite.errors import (
    AnswerTooLarge,
    BrokenAnswer,
    CheckFailure,
    MissingKey,
    NoCompleteAnswer,
    TargetUnreachable,
    Throttled,
)
from qbtsuite.target.breaker import Breaker
from qbtsuite.target.budget import RequestBudget
from qbtsuite.target.config import KEY_ROLES, TargetConfig
from qbtsuite.target.exchange import (
    Exchange,
    RetryEvent,
    StreamExchange,
    describe_request_body,
    raw_body,
)
from qbtsuite.target.filled import FILLED_BODY, FilledBody
from qbtsuite.target.inflate import BodyTooLarge, Inflater, UndecodableBody
from qbtsuite.target.taping import RawReply, RecordingTransport
from qbtsuite.target.throttle import (
    Throttle,
    ThrottleEvent,
    ThrottleGate,
    ThrottlePolicy,
    may_be_throttled,
    role_of,
    throttle_for,
)
from qbtsuite.target.transcript import format_exchange
from qbtsuite.target.watch import Watch, bound_transport

__all__ = [
    "BACKOFF",
    "Exchange",
    "RetryEvent",
    "StreamExchange",
    "SuiteClient",
    "build_http_client",
    "cut_short",
    "declared_too_large",
    "header_block_size",
    "no_status_line",
    "unreachable",
]

BACKOFF = (1.0, 2.0, 4.0)  # seconds before retry 1, 2, 3 (getting-started.txt)
UPLOAD_SIZE = 1024 * 1024  # a raw body this large is an upload: the stream deadline
_KEPT_WHEN_TOO_LARGE = 8 * 1024  # body bytes kept for the transcript past the cap
# What the suite can undo itself (inflate.py); asking for no more keeps bodies readable.
_ACCEPT_ENCODING = "gzip, deflate"


def tls_verify(config: TargetConfig) -> ssl.SSLContext | bool:
    """The ``verify`` argument for a client of ``config``'s target."""
    if isinstance(config.verify, str):
        return ssl.create_default_context(cafile=config.verify)
    return config.verify is not False


def build_http_client(
    config: TargetConfig,
    transport: httpx.BaseTransport | None = None,
    wrap: Callable[[httpx.BaseTransport], httpx.BaseTransport] | None = None,
) -> httpx.Client:
    """An ``httpx.Client`` for ``config``: its trust settings and timeouts, no
    redirects, every socket operation bounded by the active exchange's deadline;
    ``wrap`` puts a transport around that one (the run's recording)."""
    timeout = httpx.Timeout(config.read_timeout, connect=config.connect_timeout)
    if transport is None:
        transport = bound_transport(
            httpx.HTTPTransport(verify=tls_verify(config)), httpcore
        )
    if wrap is not None:
        transport = wrap(transport)
    return httpx.Client(
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


def unreachable(
    url: str, exc: httpx.TransportError, watch: Watch | None = None
) -> TargetUnreachable:
    """A one-line :class:`TargetUnreachable` for a connection-level failure; with the
    exchange's ``watch`` it says whether the connection was made and what timed out."""
    request = f"{exc.request.method} {httpx.URL(url).path}" if _has_request(exc) else ""
    host = httpx.URL(url).host
    text = str(exc) or type(exc).__name__
    connected = watch is not None and not isinstance(exc, httpx.ConnectTimeout)
    timed_out = isinstance(exc, httpx.ConnectError) and "timed out" in text.lower()
    if isinstance(exc, httpx.ConnectTimeout) or timed_out:
        stage = "the TLS handshake" if "handshake" in text.lower() else "connecting"
        why = f"connection timed out ({stage} took too long)"
    elif "CERTIFICATE" in text.upper() or "SSL" in text.upper():
        why = f"TLS handshake failed ({text}); use --ca-bundle or --insecure"
    elif isinstance(exc, httpx.TimeoutException) and connected and watch is not None:
        limit = f"within {watch.seconds:g} s" if watch.spent else "in time"
        why = f"connected, but no answer to {request or url} {limit}" + (
            f" ({watch.received} bytes received)" if watch.received else ""
        )
    elif "name or service" in text.lower() or "nodename" in text.lower():
        why = f"host name not found ({text})"
    else:
        why = text
    return TargetUnreachable(f"cannot reach {host}: {why}")


def _has_request(exc: httpx.TransportError) -> bool:
    try:
        exc.request  # noqa: B018 - raises when the error carries no request
    except RuntimeError:
        return False
    return True


def header_block_size(response: httpx.Response) -> int:
    """Bytes of the status line and header fields as they came (RFC 9112 §2.1)."""
    fields = sum(len(k) + len(v) + 4 for k, v in response.headers.raw)
    return len(response.reason_phrase) + 15 + fields


def cut_short(exc: Exception, size: int) -> str:
    """How a body broke off after ``size`` bytes, blaming the target precisely."""
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if "reset" in str(exc).lower():
        return f"reset by the target after {size} bytes of the body ({text})"
    return f"the answer broke off after {size} bytes of the body ({text})"


def no_status_line(
    exc: Exception, watch: Watch, read_timeout: float
) -> tuple[CheckFailure, bool]:
    """The failure of an exchange that raised ``exc`` (an httpx or httpx2 transport
    error) before its status line and headers were in, and whether the target gave
    no answer at all (what the breaker counts)."""
    kind = type(exc).__name__
    got = f"{watch.received} bytes received"
    if kind.endswith("Timeout"):
        if watch.spent:
            late = f"no status line and headers within {watch.seconds:g} s ({got})"
        else:
            late = (
                f"nothing for {read_timeout:g} s (the read timeout) before the status "
                f"line ({got}, {watch.elapsed():.1f} s in all)"
            )
        expected = f"a complete answer within {watch.seconds:g} s"
        return NoCompleteAnswer(received=late, expected=expected, no_answer=True), True
    if watch.received == 0:
        ended = f"the connection ended without an answer ({kind}: {exc})"
        return NoCompleteAnswer(
            title="No answer: the connection ended first",
            received=ended,
            expected="an HTTP answer",
            no_answer=True,
        ), True
    if kind == "RemoteProtocolError":  # it answered, with something that is not HTTP
        return BrokenAnswer(
            title="The answer is not valid HTTP/1.1",
            received=f"{kind}: {exc} after {got}; first bytes "
            f"{bytes(watch.head[:120])!r}",
            expected="a status line and header fields (RFC 9112 §2, §4, §5)",
        ), False
    how = "reset by the target" if "reset" in str(exc).lower() else "cut"
    return BrokenAnswer(
        title="The answer broke off before its header fields ended",
        received=f"{how} after {got} ({kind}: {exc})",
        expected="a complete status line and header fields",
    ), False


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

    @property
    def uploads(self) -> bool:
        """A multipart upload, a streamed body or a large raw one."""
        content = self.kwargs.get("content")
        large = isinstance(content, bytes | str) and len(content) > UPLOAD_SIZE
        streamed = content is not None and not isinstance(content, bytes | str)
        return bool(self.kwargs.get("files")) or large or streamed


def _payload(value: Any) -> Any:
    return value[1] if isinstance(value, tuple) and len(value) > 1 else value


@dataclass
class _Body:
    """A body as read: its bytes (or chunks), how it broke off, what bound it passed."""

    data: bytes
    chunks: list[tuple[bytes, float]] | None
    error: str = ""
    problem: CheckFailure | None = None
    timed_out: bool = False


class SuiteClient:
    """HTTP to one target, with bounds, budget, breaker, retries, timings, transcripts."""

    def __init__(
        self,
        config: TargetConfig,
        *,
        http: httpx.Client | None = None,
        budget: RequestBudget | None = None,
        breaker: Breaker | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        on_exchange: Callable[[Exchange], None] | None = None,
        on_retry: Callable[[RetryEvent], None] | None = None,
        throttle: Throttle | None = None,
        on_throttle: Callable[[ThrottleEvent], None] | None = None,
        on_pace: Callable[[float], None] | None = None,
        recording: RecordingTransport | None = None,
    ) -> None:
        self.config = config
        self.recording = recording  # where exchanges made past httpx are recorded
        self.http = http if http is not None else build_http_client(config)
        self.budget = (
            budget if budget is not None else RequestBudget(config.request_budget)
        )
        self.breaker = breaker if breaker is not None else Breaker(0)
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
        """A client sharing this one's connection pool, budget, breaker and throttle
        allowance, reporting elsewhere, under the throttle ``policy`` of another test."""
        throttle = (
            self.throttle if policy is None else self.throttle.with_policy(policy)
        )
        return SuiteClient(
            self.config,
            http=self.http,
            budget=self.budget,
            breaker=self.breaker,
            sleep=self._sleep,
            clock=self._clock,
            on_exchange=on_exchange,
            on_retry=on_retry,
            throttle=throttle,
            on_throttle=on_throttle,
            on_pace=on_pace,
            recording=self.recording,
        )

    def tape(
        self,
        request: httpx.Request,
        reply: RawReply | None,
        sent: float,
        error: str = "",
    ) -> None:
        """Record an exchange a test made on a raw socket, as the client records its
        own (so its failure gets a curl line); nothing when the run records none."""
        if self.recording is not None:
            self.recording.tape(request, reply, sent, error)

    def with_policy(self, policy: ThrottlePolicy) -> SuiteClient:
        """This client (same pool, budget, allowance and reports) under ``policy``."""
        return self.bind(
            on_exchange=self._on_exchange,
            on_retry=self._on_retry,
            on_throttle=self.gate.on_throttle,
            on_pace=self.gate.on_pace,
            policy=policy,
        )

    def admit(self) -> None:
        """Before any request to the target, by this client or another one: the
        breaker must not have tripped, and the budget must allow one more."""
        self.breaker.admit()
        self.budget.take()

    def url(self, path: str) -> str:
        """``path`` joined to the base URL (``models`` → ``…/v1/models``); absolute URLs pass."""
        if path.startswith(("https://", "http://")):
            return path
        return self.config.base_url.rstrip("/") + "/" + path.lstrip("/")

    def is_target(self, url: str) -> bool:
        """Whether ``url`` is on the target's origin (its answers feed the breaker;
        the plain-HTTP listener or an image host are not the API)."""
        base, other = httpx.URL(self.config.base_url), httpx.URL(url)
        return (base.scheme, base.host, base.port) == (
            other.scheme,
            other.host,
            other.port,
        )

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
        merged = {"Accept-Encoding": _ACCEPT_ENCODING, **self.authorization(key)}
        merged.update(headers or {})
        present = {k: v for k, v in kwargs.items() if v is not None}
        role = self.role_of(merged.get("Authorization"))
        return _Call(method.upper(), self.url(path), merged, present, role)

    def deadline(self, *, stream: bool = False, upload: bool = False) -> float:
        """Seconds a whole exchange may take: streams and uploads get longer."""
        long = stream or upload
        return self.config.stream_deadline if long else self.config.deadline

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
        """Send one request and read the whole response, within its bounds.

        ``key`` is a role (``"main"``, ``"second"``, ``"zero_balance"``,
        ``"low_limit"``), a literal key, or None for no ``Authorization`` header.
        With ``stream=True`` the body is read chunk by chunk and each chunk's arrival
        time is kept in ``Exchange.chunks``. A body that breaks off is kept with
        ``Exchange.error`` (a cut stream is a finding, not a crash); no complete
        answer within the deadline, or one past a size cap, fails the check.
        """
        call = self._call(
            method, path, key, headers,
            json=json, content=content, data=data, files=files, params=params,
            timeout=timeout,
        )  # fmt: skip
        response, sent, first, retries, watch, early, throttled = self._send(
            call, stream
        )
        body = early if early is not None else self._read(response, watch, stream)
        exchange = Exchange(
            request=response.request,
            response=response,
            body=body.data,
            sent=sent,
            first_byte=first,
            done=self._clock(),
            chunks=body.chunks,
            retries=retries,
            error=body.error,
            transcript="",
        )
        self._finish(exchange, call, note=body.error or _note(body.problem))
        self.tally(call.url, answered=not body.timed_out, reason=_note(body.problem))
        if throttled is not None:
            raise Throttled(throttled.message, role=throttled.role)
        if body.problem is not None:
            raise body.problem
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

        The stream is bounded like :meth:`request` (the stream deadline, the body
        cap): past a bound, iterating raises the failure. The response is closed
        when the ``with`` block ends, read or not.
        """
        call = self._call(
            method, path, key, headers, json=json, content=content, timeout=timeout
        )
        response, sent, first, retries, watch, early, throttled = self._send(call, True)
        stream = StreamExchange(
            response,
            sent,
            first,
            retries,
            self._clock,
            watch,
            self.config.max_body,
            preread=None if early is None else (early.chunks or [], early.error),
        )
        if early is not None and (throttled is not None or early.problem is not None):
            with suppress(httpx.TransportError):
                for _ in stream:  # the answer is read already; transcribe it, stop
                    pass
            self._finish(stream.finish(), call, note=_note(early.problem))
            self.tally(call.url, answered=not early.timed_out)
            if early.problem is not None:
                raise early.problem
            assert throttled is not None
            raise Throttled(throttled.message, role=throttled.role)
        try:
            yield stream
        finally:
            response.close()
            exchange = stream.finish()
            self._finish(exchange, call, note=exchange.error or _note(stream.problem))
            timed_out = isinstance(stream.problem, NoCompleteAnswer)
            self.tally(call.url, answered=not timed_out, reason=_note(stream.problem))

    def _finish(
        self, exchange: Exchange, call: _Call, note: str = "", first: bytes = b""
    ) -> None:
        body = describe_request_body(call.kwargs)
        exchange.transcript = format_exchange(
            exchange.request,
            body,
            exchange.response,
            exchange.body,
            note=note,
            first_bytes=first,
        )
        if self._on_exchange is not None:
            self._on_exchange(exchange)

    def tally(self, url: str, *, answered: bool, reason: str = "") -> None:
        """Tell the breaker how an exchange with ``url`` ended (only the target's
        own origin counts); for exchanges sent by other clients too (the SDK)."""
        if not self.is_target(url):
            return
        if answered:
            self.breaker.answered()
        else:
            self.breaker.unanswered(reason.splitlines()[0] if reason else "")

    def _send(
        self, call: _Call, stream: bool
    ) -> tuple[
        httpx.Response, float, float, list[RetryEvent], Watch, _Body | None,
        ThrottleEvent | None,
    ]:  # fmt: skip
        """Send ``call`` until an answer stands. An answer that may be a throttle is
        read here (within the bounds) and comes back as the sixth element; the last
        is an unresolved throttle (the answer is then no evidence)."""
        retries: list[RetryEvent] = []
        allowed = self.config.retries if call.retryable else 0
        seconds = self.deadline(stream=stream, upload=call.uploads)
        while True:
            self.admit()
            self.gate.before(call.role)
            kwargs = call.send_kwargs()
            filled = kwargs.get("content")
            request = self.http.build_request(
                call.method, call.url, headers=call.headers, **kwargs,
                extensions=(
                    {FILLED_BODY: filled} if isinstance(filled, FilledBody) else None
                ),
            )  # fmt: skip
            watch = Watch(seconds, self._clock)
            sent = self._clock()
            try:
                with watch.active():
                    response = self.http.send(request, stream=True)
            except httpx.TransportError as exc:
                self.gate.answered()
                if len(retries) < allowed:
                    self._retry(call, retries, f"{type(exc).__name__}: {exc}")
                    continue
                self._unanswered(call, request, sent, watch, exc)
            first = self._clock()
            self.gate.answered()
            self._check_header_block(call, response, sent, first, retries)
            early: _Body | None = None
            throttled: ThrottleEvent | None = None
            if may_be_throttled(response.status_code, response.headers):
                # read under the run's bounds: a hostile 429 is still capped
                early = self._read(response, watch, stream)
                if early.problem is None:
                    throttled = self.gate.judge(
                        call.role,
                        call.method,
                        call.url,
                        response.status_code,
                        response.headers,
                        early.data,
                        resendable=call.retryable,
                    )
                if throttled is not None and throttled.resolved:
                    continue  # waited out: send again
            if throttled is None and response.status_code >= 500:
                if len(retries) < allowed:
                    response.close()
                    reason = f"{response.status_code} {response.reason_phrase}"
                    self._retry(call, retries, reason)
                    continue
            return response, sent, first, retries, watch, early, throttled

    def _unanswered(
        self,
        call: _Call,
        request: httpx.Request,
        sent: float,
        watch: Watch,
        exc: httpx.TransportError,
    ) -> None:
        """No status line came back: say why, attach the transcript, raise."""
        failure: Exception
        if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
            failure, counts = unreachable(call.url, exc), True
            note = str(failure)
        else:
            failure, counts = no_status_line(exc, watch, self.config.read_timeout)
            note = f"{failure.title}: {failure.received}"
        empty = Exchange(
            request=request,
            response=None,
            body=b"",
            sent=sent,
            first_byte=self._clock(),
            done=self._clock(),
            transcript="",
        )
        self._finish(empty, call, note=note, first=bytes(watch.head))
        self.tally(call.url, answered=not counts, reason=note)
        raise failure from None

    def _check_header_block(
        self,
        call: _Call,
        response: httpx.Response,
        sent: float,
        first: float,
        retries: list[RetryEvent],
    ) -> None:
        size = header_block_size(response)
        if size <= self.config.max_headers:
            return
        response.close()
        fields = len(response.headers.raw)
        failure = AnswerTooLarge(
            what="header fields",
            received=f"{response.status_code} with {fields} header fields, "
            f"{size} bytes in all",
            expected=f"at most {self.config.max_headers} bytes of header fields "
            "(the run's cap, --max-headers)",
        )
        exchange = Exchange(
            request=response.request,
            response=response,
            body=b"",
            sent=sent,
            first_byte=first,
            done=self._clock(),
            transcript="",
            retries=retries,
        )
        self._finish(exchange, call, note=_note(failure))
        self.tally(call.url, answered=True)
        raise failure

    def _read(self, response: httpx.Response, watch: Watch, stream: bool) -> _Body:
        """The whole body: raw bytes inflated under the cap, within the deadline."""
        cap = self.config.max_body
        inflater = Inflater(response.headers.get("content-encoding", ""), cap)
        chunks: list[tuple[bytes, float]] = []
        whole = bytearray()
        body = _Body(b"", chunks if stream else None)
        declared = declared_too_large(response.headers, cap)
        if declared is not None:  # no need to read a GiB to know it is too much
            try:
                first = next(watch.guard(raw_body(response)), b"")
            except httpx.TransportError:
                first = b""
            finally:
                response.close()
            body.data = first[:_KEPT_WHEN_TOO_LARGE]
            body.problem = declared
            return body
        try:
            for raw in watch.guard(raw_body(response)):
                for data in inflater.feed(raw):
                    if stream:
                        chunks.append((data, self._clock()))
                    else:
                        whole += data
                if watch.left() <= 0:
                    raise httpx.ReadTimeout("the exchange's deadline passed")
            tail = inflater.flush()
            if tail:
                if stream:
                    chunks.append((tail, self._clock()))
                else:
                    whole += tail
        except httpx.TimeoutException:
            body.timed_out = True
            body.problem = _late(watch, inflater.decoded, self.config.read_timeout)
        except BodyTooLarge as exc:
            whole = whole[:_KEPT_WHEN_TOO_LARGE]
            del chunks[1:]
            body.problem = _too_large(exc.size, inflater, cap)
        except UndecodableBody as exc:
            body.problem = BrokenAnswer(
                title="The body is not in its Content-Encoding",
                received=f"Content-Encoding {inflater.coding}: {exc} "
                f"(after {inflater.raw} bytes)",
                expected="a body that decodes as its Content-Encoding says "
                "(RFC 9110 §8.4)",
            )
        except httpx.TransportError as exc:
            body.error = cut_short(exc, inflater.decoded)
        finally:
            response.close()
        body.data = b"".join(c for c, _ in chunks) if stream else bytes(whole)
        return body

    def _retry(self, call: _Call, retries: list[RetryEvent], reason: str) -> None:
        wait = BACKOFF[min(len(retries), len(BACKOFF) - 1)]
        event = RetryEvent(call.method, call.url, len(retries) + 1, reason, wait)
        retries.append(event)
        if self._on_retry is not None:
            self._on_retry(event)
        self._sleep(wait)

    def close(self) -> None:
        self.http.close()


def declared_too_large(headers: Mapping[str, str], cap: int) -> AnswerTooLarge | None:
    """The failure of a body whose Content-Length alone says it is past ``cap``
    (RFC 9110 §8.6; a body without Content-Encoding is that long as sent)."""
    if headers.get("content-encoding", "identity").strip().lower() != "identity":
        return None
    try:
        declared = int(headers.get("content-length", ""))
    except ValueError:
        return None
    if declared <= cap:
        return None
    return AnswerTooLarge(
        what="body",
        received=f"Content-Length {declared} bytes, more than {cap} (not read)",
        expected=f"a body of at most {cap} bytes (the run's cap, --max-body)",
    )


def _note(problem: CheckFailure | None) -> str:
    """A failure's received text, for the transcript's closing note."""
    return "" if problem is None else f"{problem.title}: {problem.received}"


def _late(watch: Watch, size: int, read_timeout: float) -> NoCompleteAnswer:
    if watch.spent:
        received = f"{size} bytes of the body within {watch.seconds:g} s, not the end"
    else:
        received = (
            f"nothing for {read_timeout:g} s (the read timeout) after {size} bytes "
            "of the body"
        )
    return NoCompleteAnswer(
        received=received,
        expected=f"a complete answer within {watch.seconds:g} s",
        no_answer=False,
    )


def _too_large(size: int, inflater: Inflater, cap: int) -> AnswerTooLarge:
    inflated = (
        f" (inflated from {inflater.raw} bytes of {inflater.coding})"
        if inflater.coding
        else ""
    )
    return AnswerTooLarge(
        what="body",
        received=f"more than {cap} bytes{inflated}, reading stopped at {size}",
        expected=f"a body of at most {cap} bytes (the run's cap, --max-body)",
    )
