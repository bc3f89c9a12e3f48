"""Conformance with a real client: the official ``openai`` Python package.

The SDK is pointed at the target (``base_url``, the main key, the run's CA bundle or
``insecure``, no retries) and used as its users use it: list models, complete, chat,
stream with ``include_usage``, embed (the SDK asks for base64 and decodes it itself),
generate an image, transcribe, and raise typed errors. Its HTTP client goes through a
transport that keeps a copy of every response on the wire, so each test also compares
what the SDK returned with what was sent: where the SDK is happy but the wire broke
the schema (or the other way round), the report gets a note. The transport bounds
each exchange as the suite's own client does (the deadline on every socket
operation, the header and body caps, Content-Encoding undone under the cap before
the SDK sees the body, the breaker told), and a broken bound fails the test with
the wire's evidence rather than the SDK's "Connection error.". Keys never reach a
message: errors are described by their type, status and code only, and transcripts
are redacted.
"""

from __future__ import annotations

import base64
import binascii
import importlib
import secrets
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, TypeVar

import httpx
import pytest

from qbtsuite import redact, schemas
from qbtsuite.checks import (
    image_decodes_at,
    sse_chunks_validate,
    sse_content_type_is_event_stream,
    sse_data_is_single_line_json,
    sse_done_exactly_once_and_last,
    sse_events_are_data_only,
    sse_usage_chunk_present_and_last,
    stream_text,
    vector_of,
)
from qbtsuite.errors import (
    AnswerTooLarge,
    BrokenAnswer,
    CheckFailure,
    MissingKey,
    NoCompleteAnswer,
    Throttled,
)
from qbtsuite.harness.imageurls import (
    FETCHES_OFF,
    fetch_image_url,
    url_judged_unfetched,
)
from qbtsuite.harness.recording import RequirementRecorder
from qbtsuite.modelcatalog import MODELS
from qbtsuite.payloads.audio import load_manifest
from qbtsuite.sse import parse_stream
from qbtsuite.target.client import (
    SuiteClient,
    cut_short,
    declared_too_large,
    no_status_line,
)
from qbtsuite.target.config import CATALOGUE, TargetConfig
from qbtsuite.target.exchange import decode_json
from qbtsuite.target.inflate import BodyTooLarge, Inflater, UndecodableBody
from qbtsuite.target.throttle import may_be_throttled
from qbtsuite.target.transcript import format_exchange
from qbtsuite.target.watch import Watch, bound_transport

openai = pytest.importorskip("openai", reason="the openai package is not installed")

T = TypeVar("T")
PROMPT = "Say hello in three words."
UNKNOWN_MODEL = "qbtsuite-no-such-model"
WAV = next(f for f in load_manifest() if f.file == "tone-440hz.wav")
WIRE_COPY = 8 * 1024 * 1024  # bytes of each body kept to compare with the SDK's view


# ─── the SDK, and a copy of the wire ─────────────────────────────────────────


def _http_module() -> ModuleType:
    """The HTTP library this SDK version is built on (httpx2 for 3.x, else httpx)."""
    for base in openai.DefaultHttpxClient.__mro__:
        root = base.__module__.split(".")[0]
        if root in ("httpx", "httpx2"):
            return importlib.import_module(root)
    raise RuntimeError("cannot tell which HTTP library the openai package uses")


@dataclass
class WireExchange:
    """One request the SDK sent and the response bytes as they came off the wire
    (Content-Encoding undone, under the run's cap); ``problem`` is the bound the
    answer broke (deadline, size) or how it broke, when it did."""

    request: Any
    response: Any = None  # None: no answer arrived
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)
    size: int = 0  # bytes of the body, kept or not
    problem: CheckFailure | None = None

    def keep(self, chunk: bytes) -> None:
        """Copy ``chunk``, up to :data:`WIRE_COPY` bytes of the body (the SDK holds
        the whole of it anyway: one more full copy would double the memory)."""
        self.size += len(chunk)
        room = WIRE_COPY - len(self.body)
        if room > 0:
            self.body.extend(chunk[:room])

    @property
    def whole(self) -> bool:
        return self.size <= WIRE_COPY

    def as_response(self) -> httpx.Response:
        """The wire answer as a read ``httpx.Response``."""
        status = self.response.status_code if self.response is not None else 0
        return httpx.Response(status, headers=self.headers, content=bytes(self.body))

    def json(self) -> Any:
        if not self.whole:
            raise ValueError(f"only {WIRE_COPY} of its {self.size} bytes were kept")
        return decode_json(bytes(self.body))

    def summary(self) -> str:
        if self.response is None:
            return "no answer"
        response = self.as_response()
        kind = response.headers.get("content-type", "no Content-Type")
        return f"{response.status_code} {kind}, {self.size} bytes"

    def transcript(self) -> str:
        try:
            sent = bytes(self.request.content)
            shown = sent[:2000].decode("utf-8", errors="replace")
        except Exception:  # a streamed multipart body is not kept
            shown = "<multipart/form-data body>"
        note = "as seen by the openai SDK's HTTP client"
        if self.problem is not None:
            note += f"; {self.problem.title}: {self.problem.received}"
        if self.response is None:
            return format_exchange(self.request, shown, None, None, note=note)
        response = self.as_response()
        return format_exchange(
            self.request, shown, response, response.content, note=note
        )


def _core_module(http: ModuleType) -> ModuleType:
    """The httpcore the HTTP library ``http`` is built on (httpcore2 for httpx2)."""
    return importlib.import_module(http.__name__.replace("httpx", "httpcore", 1))


def _streams(request: Any) -> tuple[bool, bool]:
    """Whether the SDK's request asks for a stream, and whether it uploads a file."""
    kind = request.headers.get("content-type", "")
    try:
        body = bytes(request.content)
    except Exception:  # a streamed body: an upload
        return False, True
    stream = b'"stream":true' in body.replace(b" ", b"")
    return stream, kind.startswith("multipart/")


def _tee_transport(
    http: ModuleType,
    verify: Any,
    log: list[WireExchange],
    api: SuiteClient,
    role: str | None,
) -> Any:
    """A transport of ``http`` that bounds every exchange as the suite's own client
    does (deadline, header and body caps, Content-Encoding undone under the cap; the
    breaker told) and keeps a copy of every response body it hands on.

    It paces the main key and waits out throttle answers as the suite's own client
    does (:meth:`SuiteClient.after_answer`): the SDK, told to make no retries, sees
    the answer that stands. A throttle not waited out reaches the SDK as it came;
    the test's record already says it is no evidence.
    """
    config = api.config

    class TeeStream(http.SyncByteStream):  # type: ignore[misc,name-defined]
        def __init__(self, inner: Any, exchange: WireExchange, watch: Watch) -> None:
            self.inner, self.exchange, self.watch = inner, exchange, watch
            encoding = exchange.response.headers.get("content-encoding", "")
            self.inflater = Inflater(encoding, config.max_body)

        def __iter__(self) -> Iterator[bytes]:
            exchange, watch = self.exchange, self.watch
            url = str(exchange.request.url)
            try:
                for raw in watch.guard(self.inner):
                    for chunk in self.inflater.feed(raw):
                        exchange.keep(chunk)
                        yield chunk
                    if watch.left() <= 0:
                        raise http.ReadTimeout("the exchange's deadline passed")
                tail = self.inflater.flush()
                exchange.keep(tail)
                yield tail
            except http.TimeoutException:
                exchange.problem = NoCompleteAnswer(
                    received=f"{self.inflater.decoded} bytes of the body within "
                    f"{watch.seconds:g} s, not the end",
                    expected=f"a complete answer within {watch.seconds:g} s",
                    no_answer=False,
                )
                api.tally(url, answered=False, reason=exchange.problem.received)
                raise
            except BodyTooLarge as exc:
                del exchange.body[8192:]
                exchange.problem = AnswerTooLarge(
                    what="body",
                    received=f"more than {config.max_body} bytes, reading stopped "
                    f"at {exc.size}",
                    expected=f"a body of at most {config.max_body} bytes (--max-body)",
                )
                api.tally(url, answered=True)
                raise http.ReadError("the body passed the run's cap") from None
            except UndecodableBody as exc:
                exchange.problem = BrokenAnswer(
                    title="The body is not in its Content-Encoding",
                    received=str(exc),
                    expected="a body that decodes as its Content-Encoding says",
                )
                api.tally(url, answered=True)
                raise http.DecodingError(str(exc)) from None
            except http.TransportError as exc:
                exchange.problem = BrokenAnswer(
                    title="The answer was cut short",
                    received=cut_short(exc, self.inflater.decoded),
                    expected="a complete answer",
                )
                api.tally(url, answered=True)
                raise
            api.tally(url, answered=True)

        def close(self) -> None:
            self.inner.close()

    class TeeTransport(http.BaseTransport):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            self.inner = bound_transport(
                http.HTTPTransport(verify=verify), _core_module(http)
            )

        def handle_request(self, request: Any) -> Any:
            again = False
            while True:
                if again:  # the SDK call took the first request of the budget
                    api.admit()
                api.pace(role)
                response = self._once(request)
                if not may_be_throttled(response.status_code, response.headers):
                    return response
                raw = b"".join(response.stream)  # bounded by TeeStream
                response.close()
                try:
                    again = api.after_answer(
                        role,
                        request.method,
                        str(request.url),
                        response.status_code,
                        response.headers,
                        raw,
                    )
                except Throttled:
                    again = False
                if not again:
                    return http.Response(
                        response.status_code,
                        headers=response.headers,
                        content=raw,
                        request=request,
                        extensions=response.extensions,
                    )

        def _once(self, request: Any) -> Any:
            stream, upload = _streams(request)
            watch = Watch(api.deadline(stream=stream, upload=upload))
            exchange = WireExchange(request)
            log.append(exchange)
            url = str(request.url)
            try:
                with watch.active():
                    response = self.inner.handle_request(request)
            except http.TransportError as exc:
                problem, unanswered = no_status_line(exc, watch, config.read_timeout)
                exchange.problem = problem
                api.tally(url, answered=not unanswered, reason=problem.received)
                raise
            exchange.response = response
            size = sum(len(k) + len(v) + 4 for k, v in response.headers.raw)
            if size > config.max_headers:
                response.close()
                exchange.problem = AnswerTooLarge(
                    what="header fields",
                    received=f"{response.status_code} with {size} bytes of header "
                    "fields",
                    expected=f"at most {config.max_headers} bytes (--max-headers)",
                )
                api.tally(url, answered=True)
                raise http.RemoteProtocolError("header fields past the run's cap")
            declared = declared_too_large(response.headers, config.max_body)
            if declared is not None:
                response.close()
                exchange.problem = declared
                api.tally(url, answered=True)
                raise http.ReadError("the body's Content-Length passes the run's cap")
            # The body reaches the SDK inflated already (under the cap).
            undone = ("content-encoding", "content-length")
            exchange.headers = [
                (k, v)
                for k, v in response.headers.multi_items()
                if k.lower() not in undone
                or not response.headers.get("content-encoding")
            ]
            return http.Response(
                response.status_code,
                headers=exchange.headers,
                stream=TeeStream(response.stream, exchange, watch),
                extensions=response.extensions,
                request=request,
            )

        def close(self) -> None:
            self.inner.close()

    return TeeTransport()


def _verify(config: TargetConfig) -> ssl.SSLContext | bool:
    if config.insecure:
        return False
    if config.ca_bundle:
        return ssl.create_default_context(cafile=config.ca_bundle)
    return True


class Sdk:
    """An ``openai.OpenAI`` client for the target, its wire log, and the run's budget."""

    def __init__(
        self,
        api: SuiteClient,
        record: RequirementRecorder,
        *,
        api_key: str,
    ) -> None:
        config = api.config
        http = _http_module()
        self.wire: list[WireExchange] = []
        self.api, self.record = api, record
        role = api.role_of(f"Bearer {api_key}")
        self.http_client = openai.DefaultHttpxClient(
            transport=_tee_transport(http, _verify(config), self.wire, api, role),
            timeout=http.Timeout(config.read_timeout, connect=config.connect_timeout),
        )
        self.client = openai.OpenAI(
            base_url=config.base_url,
            api_key=api_key,
            http_client=self.http_client,
            max_retries=0,
            timeout=config.read_timeout,
        )

    def call(self, what: str, fn: Callable[[], T]) -> T:
        """Run one SDK call (one request of the budget); any exception is a failure,
        the wire's own when the answer broke a bound or broke off."""
        self.api.admit()
        try:
            return fn()
        except Exception as exc:
            self.raise_wire_problem()
            wire = f" (on the wire: {self.wire[-1].summary()})" if self.wire else ""
            raise CheckFailure(
                title=f"The openai SDK failed: {what}",
                received=describe_error(exc) + wire,
                expected="the call returns its typed result",
            ) from None

    def raise_wire_problem(self) -> None:
        """Raise what went wrong on the wire in the last exchange, if anything did:
        the SDK's own error ("Connection error.") would hide it."""
        if self.wire and self.wire[-1].problem is not None:
            raise self.wire[-1].problem from None

    def last(self) -> WireExchange:
        if not self.wire:
            raise RuntimeError("the SDK sent no request")
        return self.wire[-1]

    def wire_note(self, what: str, problems: list[str]) -> None:
        """Note where the wire broke the contract although the SDK coped."""
        if problems:
            self.record.note(
                f"{what}: the SDK accepted the answer, but on the wire: "
                + "; ".join(redact.scrub(p)[:240] for p in problems[:3])
            )

    def close(self) -> None:
        for exchange in self.wire:
            self.record.attach(exchange.transcript())
        self.client.close()


def describe_error(exc: BaseException) -> str:
    """Type, status and code of an SDK error; its text only redacted and cut."""
    status = getattr(exc, "status_code", None)
    code = getattr(exc, "code", None)
    parts = [type(exc).__name__]
    if status is not None:
        parts.append(f"status {status}")
    if code is not None:
        parts.append(f"code {code!r}")
    message = redact.scrub(str(getattr(exc, "message", exc)))[:200]
    return f"{', '.join(parts)}: {message}"


@pytest.fixture
def sdk(api: SuiteClient, record: RequirementRecorder) -> Iterator[Sdk]:
    key = api.config.key("main")
    if key is None:
        raise MissingKey("main")
    client = Sdk(api, record, api_key=key.reveal())
    yield client
    client.close()


def _model(config: TargetConfig, endpoint: str) -> str:
    model = config.model(endpoint)
    if not model:
        pytest.skip(f"no {endpoint} model configured (models.{endpoint})")
    return model


def _schema_problems(name: str, body: Any) -> list[str]:
    return [f"schema {name}: {v}" for v in schemas.validate(name, body)]


def _wire_json(exchange: WireExchange) -> tuple[Any, list[str]]:
    try:
        return exchange.json(), []
    except ValueError as exc:
        return None, [f"the body is not JSON ({exc})"]


def _require(condition: bool, title: str, received: str, expected: str) -> None:
    if not condition:
        raise CheckFailure(
            title=title,
            received=redact.scrub(received),
            expected=redact.scrub(expected),
        )


# ─── tests ───────────────────────────────────────────────────────────────────


@pytest.mark.smoke
@pytest.mark.requirement("CLIENT-001")
@pytest.mark.spend(requests=1)
def test_the_sdk_lists_the_models_with_their_ids(sdk: Sdk) -> None:
    page = sdk.call("models.list()", sdk.client.models.list)
    ids = [getattr(m, "id", None) for m in page.data]
    _require(
        bool(ids) and all(isinstance(i, str) and i for i in ids),
        "The SDK lists no model ids",
        f"ids {ids[:5]!r} ({len(ids)} models)",
        "a non-empty list of Model objects with string ids",
    )
    body, problems = _wire_json(sdk.last())
    if body is not None:
        problems += _schema_problems("model_list", body)
        wire_ids = [m.get("id") for m in body.get("data", []) if isinstance(m, dict)]
        _require(
            ids == wire_ids,
            "The SDK's model ids differ from the wire",
            f"SDK {ids[:5]!r}, wire {wire_ids[:5]!r}",
            "the ids of $.data in order",
        )
    sdk.wire_note("models.list()", problems)


@pytest.mark.requirement("CLIENT-002")
@pytest.mark.spend(requests=1, tokens=24)
def test_the_sdk_creates_a_completion_with_string_text(
    sdk: Sdk, target_config: TargetConfig
) -> None:
    model = _model(target_config, "completions")
    result = sdk.call(
        "completions.create()",
        lambda: sdk.client.completions.create(model=model, prompt=PROMPT, max_tokens=8),
    )
    text = result.choices[0].text if result.choices else None
    _require(
        isinstance(text, str),
        "The SDK's completion has no text",
        f"choices {result.choices!r}"[:200],
        "choices[0].text a string",
    )
    body, problems = _wire_json(sdk.last())
    if body is not None:
        problems += _schema_problems("completion", body)
    sdk.wire_note("completions.create()", problems)


@pytest.mark.requirement("CLIENT-003")
@pytest.mark.spend(requests=1, tokens=24)
def test_the_sdk_creates_a_chat_completion_with_string_content(
    sdk: Sdk, target_config: TargetConfig
) -> None:
    model = _model(target_config, "chat")
    result = sdk.call(
        "chat.completions.create()",
        lambda: sdk.client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": PROMPT}], max_tokens=8
        ),
    )
    content = result.choices[0].message.content if result.choices else None
    _require(
        isinstance(content, str),
        "The SDK's chat completion has no content",
        f"choices {result.choices!r}"[:200],
        "choices[0].message.content a string",
    )
    body, problems = _wire_json(sdk.last())
    if body is not None:
        problems += _schema_problems("chat_completion", body)
    sdk.wire_note("chat.completions.create()", problems)


def _stream_problems(wire: WireExchange) -> tuple[str | None, list[str]]:
    """The text the wire streamed, and what the strict SSE checks found wrong."""
    if not wire.whole:
        return None, [f"the stream ({wire.size} bytes) is too large to compare"]
    problems = []
    try:
        sse_content_type_is_event_stream(wire.as_response())
    except CheckFailure as exc:
        problems.append(f"{exc.title} ({exc.received})")
    stream = parse_stream([(wire.as_response().content, None)])
    for check, args in (
        (sse_events_are_data_only, ()),
        (sse_data_is_single_line_json, ()),
        (sse_done_exactly_once_and_last, ()),
        (sse_chunks_validate, ("chat_completion_chunk",)),
        (sse_usage_chunk_present_and_last, ()),
    ):
        try:
            check(stream, *args)
        except CheckFailure as exc:
            problems.append(f"{exc.title} ({exc.received})")
    try:
        text = stream_text(stream).get(0, "")
    except (CheckFailure, ValueError, KeyError, TypeError):
        text = ""
    return text, problems


@pytest.mark.requirement("CLIENT-004")
@pytest.mark.spend(requests=1, tokens=24)
def test_the_sdk_streams_a_chat_completion_to_the_end_with_a_final_usage(
    sdk: Sdk, target_config: TargetConfig
) -> None:
    model = _model(target_config, "chat")

    def stream() -> list[Any]:
        chunks = sdk.client.chat.completions.create(
            model=model,
            messages=[{"role": "user", "content": PROMPT}],
            max_tokens=8,
            stream=True,
            stream_options={"include_usage": True},
        )
        return list(chunks)

    chunks = sdk.call("chat.completions.create(stream=True)", stream)
    pieces = [
        c.choices[0].delta.content
        for c in chunks
        if c.choices and isinstance(c.choices[0].delta.content, str)
    ]
    last = chunks[-1] if chunks else None
    usage = getattr(last, "usage", None)
    _require(
        bool(pieces),
        "The SDK's stream yielded no content",
        f"{len(chunks)} chunks without delta.content",
        "chunks whose choices[0].delta.content are strings",
    )
    _require(
        usage is not None and last is not None and not last.choices,
        "The SDK's stream has no final usage chunk",
        f"last chunk choices {getattr(last, 'choices', None)!r}, usage {usage!r}"[:240],
        "a last chunk with empty choices and a usage object (include_usage)",
    )
    text, problems = _stream_problems(sdk.last())
    if text is not None and text != "".join(pieces):
        problems.append("the SDK's text differs from the text of the wire's chunks")
    sdk.wire_note("chat.completions.create(stream=True)", problems)


def _expected_width(config: TargetConfig, model: str) -> int | None:
    """The configured width; else the documented one where the catalogue applies."""
    if config.embeddings_dimensions is not None:
        return config.embeddings_dimensions
    if not config.declares(CATALOGUE):
        return None
    return next((m.dimensions for m in MODELS if m.id == model), None)


@pytest.mark.requirement("CLIENT-005")
@pytest.mark.spend(requests=1, tokens=12)
def test_the_sdk_embeds_a_batch_as_float_vectors_of_the_model_width(
    sdk: Sdk, target_config: TargetConfig
) -> None:
    model = _model(target_config, "embeddings")
    inputs = ["The quick brown fox.", "A slow green turtle."]
    result = sdk.call(
        "embeddings.create()",
        lambda: sdk.client.embeddings.create(model=model, input=inputs),
    )
    vectors = [item.embedding for item in result.data]
    indexes = [item.index for item in result.data]
    _require(
        len(vectors) == len(inputs) and indexes == list(range(len(inputs))),
        "The SDK's embeddings do not match the inputs",
        f"{len(vectors)} embeddings with index {indexes}",
        f"{len(inputs)} embeddings with index 0..{len(inputs) - 1}",
    )
    floats = all(
        isinstance(v, list) and v and all(isinstance(x, float) for x in v)
        for v in vectors
    )
    widths = sorted({len(v) for v in vectors if isinstance(v, list)})
    _require(
        floats,
        "The SDK's embeddings are not float vectors",
        f"embedding types {[type(v).__name__ for v in vectors]}",
        "lists of floats (the SDK decodes the base64 it asked for)",
    )
    width = _expected_width(target_config, model)
    _require(
        len(widths) == 1 and (width is None or widths == [width]),
        "The SDK's embeddings have the wrong width",
        f"vector lengths {widths}",
        f"every vector of length {width}" if width else "one length for the model",
    )
    body, problems = _wire_json(sdk.last())
    if body is not None:
        problems += _embedding_wire_problems(body, vectors)
    sdk.wire_note("embeddings.create()", problems)


def _embedding_wire_problems(body: Any, vectors: list[Any]) -> list[str]:
    """The SDK asked for base64: say if the wire sent floats or other numbers."""
    items = body.get("data") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        return ["no data items"]
    if not all(
        isinstance(i, dict) and isinstance(i.get("embedding"), str) for i in items
    ):
        return ["the SDK asked for base64 but the embeddings are not base64 strings"]
    try:
        wire = [vector_of(i) for i in items]
    except ValueError as exc:
        return [f"base64 does not decode to float32 ({exc})"]
    return [] if wire == vectors else ["the SDK's vectors differ from the wire's"]


# response_format → what data[0] must hold. The docs promise "url" as a
# response_format (image-generations.txt), so a url answer is always exercised.
IMAGE_FORMATS: dict[str, tuple[str, ...]] = {
    "default": ("b64_json", "url"),
    "url": ("url",),
}


@pytest.mark.capability("images")
@pytest.mark.requirement("CLIENT-006")
@pytest.mark.spend(requests=2, images=1)
@pytest.mark.parametrize("response_format", list(IMAGE_FORMATS))
def test_the_sdk_generates_an_image_that_decodes(
    sdk: Sdk, api: SuiteClient, target_config: TargetConfig, response_format: str
) -> None:
    model = _model(target_config, "images")
    asked = {} if response_format == "default" else {"response_format": "url"}
    what = f"images.generate({', '.join(f'{k}={v!r}' for k, v in asked.items())})"
    result = sdk.call(
        what,
        lambda: sdk.client.images.generate(
            model=model, prompt="a small red apple", size="256x256", **asked
        ),
    )
    first = result.data[0] if result.data else None
    b64 = getattr(first, "b64_json", None)
    url = getattr(first, "url", None)
    body, problems = _wire_json(sdk.last())
    if body is not None:
        problems += _schema_problems("images_response", body)
    sdk.wire_note(what, problems)
    accepted = IMAGE_FORMATS[response_format]
    if "b64_json" in accepted and isinstance(b64, str) and b64:
        try:
            data = base64.b64decode(b64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise CheckFailure(
                title="The SDK's image does not decode",
                received=f"data[0].b64_json: not base64 ({exc})",
                expected="base64 of an image file",
            ) from None
        image_decodes_at(data, where="data[0].b64_json")
        return
    _require(
        isinstance(url, str) and bool(url),
        f"The SDK's image carries no {' or '.join(accepted)}",
        f"data[0] {first!r}"[:200],
        " or ".join(f"data[0].{field}" for field in accepted),
    )
    if not target_config.fetch_urls:
        url_judged_unfetched(str(url), api.config.base_url, "data[0].url")
        pytest.skip(FETCHES_OFF)
    fetched = fetch_image_url(api, str(url), "data[0].url")
    image_decodes_at(fetched.data, where="GET data[0].url")


@pytest.mark.capability("transcriptions")
@pytest.mark.requirement("CLIENT-007")
@pytest.mark.spend(requests=1, audio_seconds=WAV.duration)
def test_the_sdk_transcribes_a_wav_to_string_text(
    sdk: Sdk, target_config: TargetConfig
) -> None:
    model = _model(target_config, "transcriptions")
    upload = (WAV.file, WAV.path.read_bytes(), WAV.content_type)
    result = sdk.call(
        "audio.transcriptions.create()",
        lambda: sdk.client.audio.transcriptions.create(model=model, file=upload),
    )
    text = getattr(result, "text", None)
    _require(
        isinstance(text, str),
        "The SDK's transcription has no text",
        f"{type(result).__name__} {result!r}"[:200],
        "a Transcription whose text is a string",
    )
    body, problems = _wire_json(sdk.last())
    if body is not None:
        problems += _schema_problems("transcription_json", body)
    sdk.wire_note("audio.transcriptions.create()", problems)


def _raises(sdk: Sdk, what: str, fn: Callable[[], Any], kind: Any, code: str) -> None:
    """``fn`` raises the SDK's ``kind`` error carrying ``code``, the envelope's code.

    Which class the SDK raises follows the status; its ``code`` is ``error.code`` of
    the envelope. The statement names that code, so an answer without one (no
    envelope, or an envelope without ``code``) fails like a different code.
    """
    sdk.api.admit()
    expected = f"{kind.__name__} with code {code!r} (the envelope's error.code)"
    try:
        fn()
    except openai.APIError as exc:
        sdk.raise_wire_problem()
        if isinstance(exc, kind) and exc.code == code:
            return
        received = describe_error(exc)
        if exc.code is None:
            received += " (the answer carries no error.code)"
    except Exception as exc:
        sdk.raise_wire_problem()
        received = describe_error(exc)
    else:
        received = "no error: the call returned a result"
    raise CheckFailure(
        title=f"The openai SDK raised the wrong error: {what}",
        received=received,
        expected=expected,
    )


@pytest.mark.requirement("CLIENT-008")
@pytest.mark.spend(requests=2)
def test_the_sdk_raises_its_typed_errors_with_the_envelope_code(
    sdk: Sdk, api: SuiteClient, record: RequirementRecorder
) -> None:
    bogus = Sdk(api, record, api_key=f"qbt_invalid_{secrets.token_hex(12)}")
    try:
        _raises(
            bogus,
            "models.list() with an unknown key",
            bogus.client.models.list,
            openai.AuthenticationError,
            "invalid_api_key",
        )
    finally:
        bogus.close()
    _raises(
        sdk,
        "chat.completions.create() with an unknown model",
        lambda: sdk.client.chat.completions.create(
            model=UNKNOWN_MODEL, messages=[{"role": "user", "content": PROMPT}]
        ),
        openai.BadRequestError,
        "model_not_found",
    )
