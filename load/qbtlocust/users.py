"""Locust users, one class per endpoint plus a weighted mix, on ``FastHttpUser``.

Every request is timed with ``time.perf_counter`` from just before it is sent; a
streamed answer is read line by line as it arrives and measured by
:class:`qbtsuite.loadtest.stream.StreamObserver` (TTFT, each inter-chunk gap, TPOT, e2e,
usage tokens against the client's chunk count). A 429 is reported to Locust as a
success under ``<endpoint> (rate-limited)`` (``catch_response``), never as a failure,
and recorded with outcome ``rate-limited``. Client retries are off (``max_retries =
0``); with ``retries`` in the plan a 429 is retried after its ``Retry-After`` (capped),
and every attempt is a sample of its own with its attempt number.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Iterator
from typing import Any, ClassVar, cast

import gevent
from locust import FastHttpUser, task
from locust.env import Environment

from qbtlocust.answers import (
    check_json,
    envelope_facts,
    error_code,
    header,
    limit_headers,
    retry_after_seconds,
)
from qbtlocust.collector import Collector
from qbtlocust.context import RunContext
from qbtsuite.errors import AnswerTooLarge
from qbtsuite.loadtest.bodies import PreparedRequest
from qbtsuite.loadtest.samples import SampleOutcome, outcome_for
from qbtsuite.loadtest.stream import StreamObserver
from qbtsuite.sse import MAX_LINE
from qbtsuite.target.inflate import BodyTooLarge, Inflater, UndecodableBody
from qbtsuite.target.limits import MAX_BODY

__all__ = [
    "ChatStreamUser",
    "ChatUser",
    "CompletionStreamUser",
    "CompletionUser",
    "EmbeddingsUser",
    "ImagesUser",
    "MixedUser",
    "QbtSender",
    "QbtUser",
    "TranscriptionUser",
    "bind",
    "record",
]

_IDLE_PAUSE = 0.1  # seconds a user waits when its process has stopped sending
_BLOCK = 64 * 1024  # bytes read at a time from a body


class _Run:
    """The process-wide context and collector the users report to (set per run)."""

    context: RunContext | None = None
    collector: Collector | None = None


def bind(context: RunContext | None, collector: Collector | None) -> None:
    """Point every user of this process at ``context`` and ``collector``."""
    _Run.context = context
    _Run.collector = collector


def record(sample: dict[str, Any]) -> None:
    """Hand one sample to this process's collector."""
    if _Run.collector is not None:
        _Run.collector.record(sample)


class _TLS:
    """One TLS context per process, shared by every user's connections.

    geventhttpclient calls the factory once per user with ``cafile=`` its bundled
    certifi store; building a context (let alone loading ~150 CAs) per user cost
    ~75 ms per new connection. We build ours once and trust only the run's CA (or
    the system store when none is given).
    """

    contexts: ClassVar[dict[str | None, ssl.SSLContext]] = {}

    @classmethod
    def factory(cls, ca: str | None) -> Callable[..., ssl.SSLContext]:
        def make(**_ignored: Any) -> ssl.SSLContext:
            if ca not in cls.contexts:
                import gevent.ssl

                context: ssl.SSLContext = gevent.ssl.create_default_context(cafile=ca)
                cls.contexts[ca] = context
            return cls.contexts[ca]

        return make


class QbtSender(FastHttpUser):
    """Sends and records requests; no task of its own (Locust adds every base class's
    tasks to a subclass, so scripted users derive from this, not from QbtUser)."""

    abstract = True
    max_retries = 0  # no hidden client retries
    insecure = False

    def __init__(self, environment: Environment) -> None:
        ctx = _Run.context
        if ctx is None:
            raise RuntimeError("user started before the run context was set")
        self.ctx = ctx
        self.host = ctx.plan.base_url
        self.network_timeout = ctx.plan.timeout
        self.connection_timeout = min(10.0, ctx.plan.timeout)
        self.ssl_context_factory = _TLS.factory(ctx.plan.ca)
        super().__init__(environment)
        self.role = ctx.next_role()
        # (endpoint, role) → request headers, built once: FastHttpSession copies them
        self._headers: dict[tuple[str, str | None], dict[str, str]] = {}

    def wait_time(self) -> float:
        return 0.0 if self.ctx.schedule is not None else self.ctx.think()

    def _headers_for(self, req: PreparedRequest, role: str | None) -> dict[str, str]:
        key = self.ctx.keys.get(self.role if role is None else role, "")
        return {
            "Authorization": f"Bearer {key}",
            "Content-Type": req.content_type,
            "Accept": "text/event-stream" if req.stream else "application/json",
            "Accept-Encoding": "identity",
        }

    def send_one(
        self,
        req: PreparedRequest,
        due: float | None,
        attempt: int,
        role: str | None = None,
    ) -> dict[str, Any]:
        """One request; ``role`` sends it with another key than this user's."""
        ctx = self.ctx
        headers = self._headers.get((req.name, role))
        if headers is None:
            headers = self._headers[req.name, role] = self._headers_for(req, role)
        ctx.in_flight += 1
        sent = time.perf_counter()
        sample: dict[str, Any] = {
            "kind": "sample",
            "name": req.name,
            "key": self.role if role is None else role,
            "proc": ctx.proc,
            "t": ctx.epoch(sent),
            "due": None if due is None else ctx.epoch(due),
            "attempt": attempt,
        }
        # The plan's timeout is per exchange, wall clock: a socket timeout is per
        # read, so a target trickling bytes (or streaming forever) never trips it.
        deadline = gevent.Timeout(ctx.plan.timeout)
        deadline.start()
        try:
            with self.client.request(
                "POST",
                req.path,
                data=cast(Any, req.body),  # bytes are sent as they are
                headers=headers,
                stream=True,  # every body is read here, bounded (_bounded_body)
                allow_redirects=False,  # a redirect is the target's answer, judged
                catch_response=True,
                name=req.name,
            ) as resp:
                self._read(resp, req, sent, sample)
                end = time.perf_counter()
                sample["end"] = ctx.epoch(end)
                sample["e2e"] = end - sent
                self._report(resp, req, sample)
        except gevent.Timeout as exc:
            if exc is not deadline:
                raise
            self._late(req, sent, sample)
        finally:
            deadline.cancel()
            ctx.in_flight -= 1
        return sample

    def _late(self, req: PreparedRequest, sent: float, sample: dict[str, Any]) -> None:
        """No complete answer within the plan's timeout: an error sample, reported to
        Locust's statistics as a failure too."""
        end = time.perf_counter()
        problem = f"no complete answer within {self.ctx.plan.timeout:g} s"
        sample.setdefault("status", 0)
        sample.update(
            end=self.ctx.epoch(end),
            e2e=end - sent,
            problem=problem,
            outcome=SampleOutcome.ERROR,
        )
        self.environment.events.request.fire(
            request_type="POST",
            name=req.name,
            response_time=(end - sent) * 1000,
            response_length=sample.get("bytes", 0),
            exception=TimeoutError(problem),
            context={},
        )

    def _read(
        self, resp: Any, req: PreparedRequest, sent: float, sample: dict[str, Any]
    ) -> None:
        status = int(resp.status_code or 0)
        sample["status"] = status
        problem: str | None = None
        if status == 0:
            problem = f"no answer: {type(resp.error).__name__}: {resp.error}"
        elif req.stream and status == 200:
            problem = self._read_stream(resp, req, sent, sample)
        else:
            try:
                body = _bounded_body(resp)
            except BodyTooLarge as exc:  # answered, with too much
                body, problem = b"", f"body larger than {exc.size - 1} bytes"
            except UndecodableBody as exc:  # answered, with a broken body
                body, problem = b"", f"body not in its Content-Encoding: {exc}"
            except Exception as exc:  # the body broke off: no complete answer
                sample["interrupted"] = True
                body, problem = b"", f"body interrupted: {type(exc).__name__}"
            sample["bytes"] = len(body)
            if 200 <= status < 300 and problem is None:
                problem = check_json(body, sample)
            elif status >= 300:
                problem = f"HTTP {status} {error_code(body) or ''}".rstrip()
            if status == 429 and not sample.get("interrupted"):
                sample["envelope"] = envelope_facts(body)  # facts, not the body
        if status == 429:
            sample["retry_after"] = header(resp, "retry-after")
        limits = limit_headers(resp)
        if limits is not None:
            sample["headers"] = limits
        sample["problem"] = problem
        outcome = outcome_for(sample["status"], problem)
        if sample.pop("interrupted", False):
            outcome = SampleOutcome.ERROR
        sample["outcome"] = outcome

    def _read_stream(
        self, resp: Any, req: PreparedRequest, sent: float, sample: dict[str, Any]
    ) -> str | None:
        observer = StreamObserver(req.kind, sent)
        media = (header(resp, "content-type") or "").split(";")[0].strip().lower()
        if media != "text/event-stream":
            observer.problem = f"stream answered as {media or 'no content type'}"
        raw = resp._response  # geventhttpclient's response: lines as bytes arrive
        size = 0
        try:
            for line in _lines(raw):
                size += len(line)
                observer.feed(line, time.perf_counter())
        except (BodyTooLarge, AnswerTooLarge):  # answered, with too much
            observer.problem = f"stream larger than {MAX_BODY} bytes or a line longer"
            raw.release()
        except Exception as exc:  # reset or timeout mid-stream: no complete answer
            sample["interrupted"] = True
            observer.problem = f"stream interrupted: {type(exc).__name__}"
        result = observer.finish(time.perf_counter())
        sample.update(
            bytes=size,
            ttft=result.ttft,
            itl=list(result.itl),
            tpot=result.tpot,
            chunks=result.chunks,
            usage_tokens=result.usage_tokens,
            tokens=result.tokens,
            mismatch=result.mismatch,
        )
        return result.problem

    def _report(self, resp: Any, req: PreparedRequest, sample: dict[str, Any]) -> None:
        """Tell Locust's own statistics: whole-request time; 429 apart, not failed."""
        resp.request_meta["response_time"] = sample["e2e"] * 1000
        resp.request_meta["response_length"] = sample.get("bytes", 0)
        if sample["outcome"] == SampleOutcome.OK:
            resp.success()
        elif sample["outcome"] == SampleOutcome.RATE_LIMITED:
            resp.request_meta["name"] = f"{req.name} (rate-limited)"
            resp.success()
        else:
            resp.failure(sample["problem"] or f"HTTP {sample['status']}")


def _lines(raw: Any) -> Iterator[bytes]:
    """The lines of a streamed body as they arrive, the last one without LF if the
    body ends so; what geventhttpclient's ``readline`` does, bounded: at most
    :data:`MAX_BODY` bytes in all and :data:`MAX_LINE` in a line, and a turn for the
    other greenlets (the exchange's deadline among them) after every read. Its own
    ``readline`` never returns on a line without end, and a socket that always has
    data never lets the hub run: the deadline could not fire.
    """
    buffer = raw._body_buffer  # what the parser has decoded so far (a bytearray)
    total = 0
    while True:
        end = buffer.find(b"\n")
        if end >= 0:
            line = bytes(buffer[: end + 1])
            del buffer[: end + 1]
            total += len(line)
            yield line
            continue
        if len(buffer) > MAX_LINE or total + len(buffer) > MAX_BODY:
            raise BodyTooLarge(total + len(buffer))
        if raw.message_complete or raw._sock is None:
            if buffer:
                yield bytes(buffer)
                del buffer[:]
            if not raw.message_complete:
                raise ConnectionError("the connection closed before the body ended")
            return
        data = raw._sock.recv(_BLOCK)
        raw.feed(data)
        if not data and not raw.message_complete:
            raise ConnectionError("the connection closed before the body ended")
        gevent.sleep(0)


def _bounded_body(resp: Any) -> bytes:
    """The body, at most :data:`MAX_BODY` bytes once its Content-Encoding is undone
    (the suite's own inflater: read in blocks, never inflated past the cap)."""
    read_already = getattr(resp, "_cached_content", None)
    if isinstance(read_already, bytes):  # the session read it (a refused status)
        if len(read_already) > MAX_BODY:
            raise BodyTooLarge(len(read_already))
        return read_already
    raw = resp._response  # geventhttpclient's response, as _read_stream uses it
    if raw is None:
        return b""
    declared = header(resp, "content-length")
    coding = header(resp, "content-encoding") or ""
    if coding.strip().lower() in ("", "identity") and (declared or "").isdigit():
        if int(declared or 0) > MAX_BODY:  # too large as announced: not read
            raw.release()
            raise BodyTooLarge(int(declared or 0))
    inflater = Inflater(coding, MAX_BODY)
    body = bytearray()
    try:
        while data := raw.read(_BLOCK):
            for piece in inflater.feed(data):
                body += piece
            gevent.sleep(0)  # a turn for the deadline: the socket may never wait
        body += inflater.flush()
    except (BodyTooLarge, UndecodableBody):
        raw.release()  # not read to the end: the connection is closed, not reused
        raise
    return bytes(body)


class QbtUser(QbtSender):
    """Sends the requests of one endpoint (``endpoint``), paced by the plan."""

    abstract = True
    endpoint: ClassVar[str] = ""

    def pick(self) -> str:
        return self.endpoint

    @task
    def send(self) -> None:
        ctx = self.ctx
        go, due = ctx.claim()
        if not go:
            gevent.sleep(_IDLE_PAUSE)
            return
        if due is not None:
            delay = due - time.perf_counter()
            if delay > 0:
                gevent.sleep(delay)
        request = ctx.requests[self.pick()]
        for attempt in range(ctx.plan.retries + 1):
            sample = self.send_one(request, due if attempt == 0 else None, attempt)
            record(sample)
            if (
                sample["outcome"] != SampleOutcome.RATE_LIMITED
                or attempt >= ctx.plan.retries
            ):
                break
            wait = retry_after_seconds(sample.get("retry_after"))
            gevent.sleep(min(wait, ctx.plan.retry_cap))


class ChatStreamUser(QbtUser):
    endpoint = "chat_stream"


class ChatUser(QbtUser):
    endpoint = "chat"


class CompletionStreamUser(QbtUser):
    endpoint = "completions_stream"


class CompletionUser(QbtUser):
    endpoint = "completions"


class EmbeddingsUser(QbtUser):
    endpoint = "embeddings"


class ImagesUser(QbtUser):
    endpoint = "images"


class TranscriptionUser(QbtUser):
    endpoint = "transcriptions"


class MixedUser(QbtUser):
    """Each request goes to an endpoint drawn by the plan's ``mix`` weights."""

    def pick(self) -> str:
        return self.ctx.pick_mixed()
