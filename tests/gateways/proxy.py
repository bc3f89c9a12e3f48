"""The gateway itself: an ASGI app that forwards every request to the upstream and
applies the switched-on behaviours on the way in and out."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass
from email.utils import formatdate
from urllib.parse import quote, unquote

import httpx
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from tests.gateways.embellish import (
    accepts_gzip,
    embellish_answer,
    embellish_chunk,
    extra_headers,
    gzip_body,
)
from tests.gateways.envelope import ErrorStyle, gateway_error, reshape_error
from tests.gateways.forwarding import (
    Answer,
    BodyTooLarge,
    capped,
    read_bounded,
    request_headers,
    response_headers,
)
from tests.gateways.imageurls import rewrite_image_urls
from tests.gateways.jsonvalue import JsonValue
from tests.gateways.options import GatewayOptions
from tests.gateways.renames import (
    UnknownModel,
    rename_error_message,
    rename_in_answer,
    rename_models_list,
    rewrite_json_request,
    rewrite_multipart_request,
)
from tests.gateways.sse import EventSplitter, dump_json, reframe_event
from tests.gateways.throttle import SlidingWindowLimiter, key_id
from tests.gateways.upstream import UpstreamInfo

__all__ = ["Gateway"]

_MODEL_PREFIX = "/v1/models/"
_HSTS = ("strict-transport-security", "max-age=31536000")


@dataclass(frozen=True)
class _Call:
    method: str
    target: str  # path and query, as sent upstream
    headers: list[tuple[str, str]]
    content: bytes | AsyncIterable[bytes] | None


class Gateway:
    """Forward to ``upstream`` through ``client``, behaving as ``options`` say."""

    def __init__(
        self,
        options: GatewayOptions,
        upstream: UpstreamInfo,
        client: httpx.AsyncClient,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.options = options
        self.upstream = upstream
        self.client = client
        self.clock = clock
        rpm = options.throttle_rpm
        self.limiter = (
            SlidingWindowLimiter(rpm, options.throttle_window) if rpm else None
        )
        self.style = ErrorStyle(options.drop_param, options.fastapi_errors)
        # RFC 6797 §7.2: HSTS is not sent over plain HTTP.
        self.dropped = frozenset(
            {"strict-transport-security"} if options.plain_http else ()
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        started = self.clock()
        answer = await self._answer(request)
        await self._response(request, answer, started)(scope, receive, send)

    # -- the way in ---------------------------------------------------------------

    async def _answer(self, request: Request) -> Answer:
        auth = request.headers.get("authorization")
        identity = key_id(auth) if auth is not None else None
        if self.limiter is not None and identity is not None:
            decision = self.limiter.admit(identity, self.clock())
            if not decision.admitted:
                return self._throttled(decision.retry_after)
        call = await self._call_for(request)
        if isinstance(call, Answer):
            return call
        answer = await self._send(call, request)
        if self.limiter is not None and identity is not None and answer.status == 401:
            self.limiter.forget_last(identity)  # a gateway counts admitted keys only
        return answer

    async def _call_for(self, request: Request) -> _Call | Answer:
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        query = request.url.query
        target = raw_path.decode("latin-1") + (f"?{query}" if query else "")
        models = self.options.renames
        path = request.url.path
        headers = request_headers(request)
        content: bytes | AsyncIterable[bytes] | None = None
        ctype = request.headers.get("content-type", "").lower()
        if models.active and path.startswith(_MODEL_PREFIX) and request.method == "GET":
            name = unquote(path.removeprefix(_MODEL_PREFIX))
            upstream_name = models.upstream_name(name)
            if upstream_name is None:
                return await self._unknown_model(request, name, 404)
            target = (
                _MODEL_PREFIX
                + quote(upstream_name, safe="")
                + (f"?{query}" if query else "")
            )
        elif (
            models.active
            and request.method == "POST"
            and ("json" in ctype or ctype.startswith("multipart/form-data"))
        ):
            try:
                body = await read_bounded(request, self.upstream.upload_cap)
            except BodyTooLarge:
                return self._too_large()
            if "json" in ctype:
                rewritten = rewrite_json_request(body, models)
            else:
                rewritten = rewrite_multipart_request(body, ctype, models)
            if isinstance(rewritten, UnknownModel):
                status = self.options.unknown_model_status
                return await self._unknown_model(request, rewritten.name, status)
            content = rewritten.body
            headers = request_headers(request, frozenset({"content-length"}))
            headers.append(("content-length", str(len(content))))
        elif (
            "content-length" in request.headers
            or "transfer-encoding" in request.headers
        ):
            if _declared_length(request) > self.upstream.upload_cap:
                return self._too_large()  # from Content-Length, before any body byte
            content = capped(request.stream(), self.upstream.upload_cap)
        return _Call(request.method, target, headers, content)

    async def _unknown_model(self, request: Request, name: str, status: int) -> Answer:
        # A gateway authenticates before it routes: a refused key is told so first.
        probe = _Call(
            "GET",
            "/v1/models",
            request_headers(request, frozenset({"content-length", "content-type"})),
            None,
        )
        refusal = await self._send(probe, request)
        if refusal.status != 200:
            return refusal
        return self._own_error(
            status,
            f"The model '{name}' does not exist",
            "invalid_request_error",
            "model_not_found",
            param="model",
        )

    # -- the upstream -------------------------------------------------------------

    async def _send(self, call: _Call, request: Request) -> Answer:
        upstream_request = self.client.build_request(
            call.method,
            self.upstream.origin + call.target,
            headers=call.headers,
            content=call.content,
        )
        try:
            upstream = await self.client.send(upstream_request, stream=True)
        except BodyTooLarge:
            return self._too_large()
        except httpx.TimeoutException:
            return self._own_error(
                502, "Upstream timed out", "api_error", "upstream_error"
            )
        except httpx.HTTPError:
            return self._own_error(
                502, "Upstream unreachable", "api_error", "upstream_error"
            )
        headers = response_headers(upstream.headers.raw, self.dropped)
        ctype = upstream.headers.get("content-type", "").lower()
        if ctype.startswith("text/event-stream") and call.method != "HEAD":
            return Answer(
                upstream.status_code,
                _without(headers, "content-length"),
                stream=self._events(upstream, request.url.path),
                close=upstream.aclose,
            )
        if "json" in ctype and call.method != "HEAD":
            try:
                raw = await upstream.aread()
            except httpx.HTTPError:
                return self._own_error(
                    502, "Upstream answer cut short", "api_error", "upstream_error"
                )
            finally:
                await upstream.aclose()
            body = self._rewrite_json(request, upstream.status_code, raw)
            headers = _without(headers, "content-length", "content-encoding")
            return Answer(upstream.status_code, headers, body=body, rewritable=True)
        return Answer(
            upstream.status_code,
            headers,
            stream=self._raw(upstream),
            close=upstream.aclose,
        )

    async def _raw(self, upstream: httpx.Response) -> AsyncIterator[bytes]:
        try:
            async for chunk in upstream.aiter_raw():
                yield chunk
        except httpx.HTTPError:
            return  # the upstream broke off: so does the gateway
        finally:
            await upstream.aclose()

    async def _events(
        self, upstream: httpx.Response, path: str
    ) -> AsyncIterator[bytes]:
        models, embellish = self.options.renames, self.options.embellish
        if not models.active and not embellish:
            async for chunk in self._raw(upstream):
                yield chunk
            return

        def transform(chunk: JsonValue) -> JsonValue:
            if models.active:
                chunk = rename_in_answer(chunk, models)
            return embellish_chunk(path, chunk) if embellish else chunk

        eol = b"\r\n" if embellish else b"\n"
        splitter = EventSplitter()
        try:
            async for chunk in upstream.aiter_bytes():
                for event in splitter.feed(chunk):
                    yield reframe_event(event, transform, eol)
            if rest := splitter.rest():
                yield rest  # an unterminated last event goes on as it came
        except httpx.HTTPError:
            return
        finally:
            await upstream.aclose()

    # -- the way out --------------------------------------------------------------

    def _rewrite_json(self, request: Request, status: int, raw: bytes) -> bytes:
        try:
            parsed: JsonValue = json.loads(raw)
        except ValueError:
            return raw
        if status >= 400:
            out = self._upstream_error_body(parsed)
        elif status == 200:
            out = self._success_body(request, parsed)
        else:
            out = parsed
        return raw if out == parsed else dump_json(out)

    def _upstream_error_body(self, body: JsonValue) -> JsonValue:
        """An upstream error as the gateway words and shapes it."""
        if self.options.renames.active:
            body = rename_error_message(body, self.options.renames)
        return reshape_error(body, self.style)

    def _success_body(self, request: Request, body: JsonValue) -> JsonValue:
        path, models = request.url.path, self.options.renames
        if models.active:
            if path == "/v1/models":
                body = rename_models_list(body, models)
            else:
                body = rename_in_answer(body, models)
        if path == "/v1/images/generations":
            public = f"{request.url.scheme}://{request.url.netloc}"
            body = rewrite_image_urls(
                body, self.upstream.origin, public, self.options.image_url_host
            )
        return embellish_answer(path, body) if self.options.embellish else body

    def _own_error(
        self,
        status: int,
        message: str,
        error_type: str,
        code: str,
        param: str | None = None,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> Answer:
        # The gateway's own words already use its own model names.
        body = reshape_error(
            gateway_error(message, error_type, code, param), self.style
        )
        own = [("content-type", "application/json"), ("date", formatdate(usegmt=True))]
        if not self.options.plain_http:
            own.append(_HSTS)  # an HTTPS edge sends it on every answer, its own too
        return Answer(status, [*own, *headers], body=dump_json(body), rewritable=True)

    def _throttled(self, retry_after: int) -> Answer:
        rpm, window = self.options.throttle_rpm, self.options.throttle_window
        return self._own_error(
            429,
            f"Rate limit reached: {rpm} requests per {window:g} s for this key",
            "rate_limit_error",
            "rate_limit_exceeded",
            headers=(("retry-after", str(retry_after)),),
        )

    def _too_large(self) -> Answer:
        return self._own_error(
            413,
            f"Request body larger than {self.upstream.upload_cap} bytes",
            "invalid_request_error",
            "request_entity_too_large",
        )

    def _response(self, request: Request, answer: Answer, started: float) -> Response:
        headers = list(answer.headers)
        if self.options.embellish:
            elapsed = round((self.clock() - started) * 1000)
            headers = [
                *_without(headers, "server"),
                ("server", "nginx"),
                *extra_headers(elapsed),
            ]
        response: Response
        if answer.stream is not None:
            background = BackgroundTask(answer.close) if answer.close else None
            response = StreamingResponse(
                answer.stream, answer.status, background=background
            )
        else:
            body = answer.body
            accepted = accepts_gzip(request.headers.get("accept-encoding", ""))
            if self.options.embellish and answer.rewritable and body and accepted:
                body = gzip_body(body)
                headers += [("content-encoding", "gzip"), ("vary", "Accept-Encoding")]
            headers = [
                *_without(headers, "content-length"),
                ("content-length", str(len(body))),
            ]
            response = Response(body, answer.status)
        response.raw_headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in headers
        ]
        return response


def _declared_length(request: Request) -> int:
    declared = request.headers.get("content-length", "")
    return int(declared) if declared.isdigit() else 0


def _without(headers: list[tuple[str, str]], *names: str) -> list[tuple[str, str]]:
    return [(n, v) for n, v in headers if n.lower() not in names]
