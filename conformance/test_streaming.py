"""Conformance: streamed completions and chat completions (``stream: true``, SSE).

Every stream is read chunk by chunk with arrival times and parsed by the suite's own
strict parser (:mod:`qbtsuite.sse`, WHATWG line rules), then judged by the stream,
chunk and timing checks: framing (content type, data-only one-line JSON, exactly one
final ``[DONE]``), chunk semantics (schema, one identity, finish_reason only at the
end, the assistant role first, ``n`` = 2), ``include_usage``, and incremental
delivery. A stream is also judged as the answer it stands for, by the same checks
as a whole answer: cut by max_tokens=1 it says "length", ended by a stop sequence it
says "stop" and its text avoids the sequence, ``n`` = 2 gives two choices that each
finish, and its usage adds up. Nothing unasked-for may appear: without
``include_usage`` there is no usage chunk. Each test runs on both endpoints where
the requirement applies; streams are short (8 tokens, 32 where timing or a stop
word is needed). Times to first byte and to the first content chunk are recorded
as notes, never asserted.

Usage arithmetic of the include_usage chunk (METER-005) is in test_metering.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from qbtsuite.checks import (
    MIN_CONTENT_CHUNKS,
    Chunk,
    chunk_content,
    json_chunks,
    sse_choices_count_is,
    sse_choices_each_finish,
    sse_chunks_validate,
    sse_completion_tokens_cover_output,
    sse_completion_tokens_within_max,
    sse_content_type_is_event_stream,
    sse_data_is_single_line_json,
    sse_done_exactly_once_and_last,
    sse_errors_use_envelope,
    sse_events_are_data_only,
    sse_finish_reason_only_at_end,
    sse_finish_reason_stop_at_sequence,
    sse_first_delta_has_assistant_role,
    sse_identity_consistent,
    sse_is_incremental,
    sse_is_valid_utf8,
    sse_no_unasked_usage_chunk,
    sse_nothing_after_done_but_comments,
    sse_text_avoids_stop,
    sse_truncated_after_one_token,
    sse_usage_adds_up,
    sse_usage_chunk_present_and_last,
    sse_usage_null_on_other_chunks,
    status_is,
    stopped_at_sequence,
    stream_answer,
    stream_text,
    stream_usage,
)
from qbtsuite.harness.recording import RequirementRecorder
from qbtsuite.harness.replies import stop_word
from qbtsuite.harness.signals import unsupported
from qbtsuite.sse import SSEStream, parse_stream
from qbtsuite.target.client import SuiteClient
from qbtsuite.target.config import TargetConfig
from qbtsuite.target.exchange import Exchange

ENDPOINTS = ("completions", "chat")
PATHS = {"completions": "completions", "chat": "chat/completions"}
CHUNK_SCHEMAS = {"completions": "completion_chunk", "chat": "chat_completion_chunk"}
PROMPT = "Write a long, detailed story about a lighthouse keeper who finds a map."
# Prompts that invite a long answer: a correct model does not end after one token.
LONG_PROMPTS = (
    PROMPT,
    "Explain in many paragraphs how a steam engine works, step by step.",
)
FINISH_REASONS = ("stop", "length", "content_filter", "tool_calls", "function_call")
SHORT = 8  # tokens: enough for several chunks
TIMED = 32  # tokens: enough content chunks to tell streaming from buffering
INCLUDE_USAGE: dict[str, Any] = {"stream_options": {"include_usage": True}}


def _model(target_config: TargetConfig, endpoint: str) -> str:
    model = target_config.model(endpoint)
    if not model:
        pytest.skip(f"no {endpoint} model configured (models.{endpoint})")
    return model


def _body(
    endpoint: str, model: str, *, prompt: str = PROMPT, **extra: Any
) -> dict[str, Any]:
    if endpoint == "chat":
        body = {"model": model, "messages": [{"role": "user", "content": prompt}]}
    else:
        body = {"model": model, "prompt": prompt}
    return {**body, "stream": True, **extra}


def _stream(
    api: SuiteClient,
    target_config: TargetConfig,
    endpoint: str,
    *,
    prompt: str = PROMPT,
    **extra: Any,
) -> tuple[Exchange, SSEStream]:
    """Send a streamed request; 200 or the test fails; the strictly parsed stream."""
    body = _body(endpoint, _model(target_config, endpoint), prompt=prompt, **extra)
    exchange = api.request("POST", PATHS[endpoint], json=body, stream=True)
    status_is(exchange, 200)
    return exchange, parse_stream(exchange.chunks or [])


def _content_chunks(stream: SSEStream) -> list[Chunk]:
    return [
        c
        for c in json_chunks(stream)
        if not c.is_error and any(chunk_content(choice) for choice in c.choices())
    ]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _timing(exchange: Exchange, stream: SSEStream) -> str:
    """Time to first byte and to the first content chunk, for the report."""
    parts = [f"time to first byte {_ms(exchange.first_byte - exchange.sent)}"]
    times = [c.event.received_at for c in _content_chunks(stream)]
    stamped = [t for t in times if t is not None]
    if stamped:
        parts.append(f"first content chunk {_ms(stamped[0] - exchange.sent)}")
        parts.append(f"last content chunk {_ms(stamped[-1] - exchange.sent)}")
    parts.append(
        f"{len(times)} content chunk(s) in {len(exchange.chunks or [])} read(s)"
    )
    parts.append(f"stream closed after {_ms(exchange.done - exchange.sent)}")
    if exchange.error:
        parts.append(f"read error: {exchange.error}")
    return "; ".join(parts)


def _endpoints(**marks: Any) -> list[Any]:
    """The two endpoints as parameters; ``marks`` maps an endpoint to its marks."""
    return [pytest.param(e, marks=marks.get(e, ()), id=e) for e in ENDPOINTS]


# ─── framing ─────────────────────────────────────────────────────────────────


@pytest.mark.requirement("SSE-001", "SSE-002", "SSE-003", "SSE-009", "SSE-010")
@pytest.mark.spend(requests=1, tokens=24)
@pytest.mark.parametrize("endpoint", _endpoints(chat=pytest.mark.smoke))
def test_a_stream_is_an_event_stream_of_data_only_json_ended_by_one_done(
    api: SuiteClient,
    target_config: TargetConfig,
    record: RequirementRecorder,
    endpoint: str,
) -> None:
    exchange, stream = _stream(api, target_config, endpoint, max_tokens=SHORT)
    record.note(_timing(exchange, stream))
    with record.check("SSE-001"):
        sse_content_type_is_event_stream(exchange)
    with record.check("SSE-002"):
        sse_events_are_data_only(stream)
    with record.check("SSE-003"):
        sse_is_valid_utf8(stream)
        sse_data_is_single_line_json(stream)
    with record.check("SSE-009"):
        sse_done_exactly_once_and_last(stream)
    with record.check("SSE-010"):
        sse_nothing_after_done_but_comments(stream)


# ─── chunk semantics ─────────────────────────────────────────────────────────


@pytest.mark.requirement("SSE-006")
@pytest.mark.spend(requests=1, tokens=24)
@pytest.mark.parametrize(
    "endpoint",
    _endpoints(
        completions=pytest.mark.requirement("SSE-005"),
        chat=pytest.mark.requirement("SSE-004"),
    ),
)
def test_every_chunk_has_the_chunk_shape_and_one_id_model_and_created(
    api: SuiteClient,
    target_config: TargetConfig,
    record: RequirementRecorder,
    endpoint: str,
) -> None:
    _, stream = _stream(api, target_config, endpoint, max_tokens=SHORT)
    with record.check("SSE-004" if endpoint == "chat" else "SSE-005"):
        sse_chunks_validate(stream, CHUNK_SCHEMAS[endpoint])
    with record.check("SSE-006"):
        sse_identity_consistent(stream)


@pytest.mark.requirement("SSE-007")
@pytest.mark.spend(requests=1, tokens=24)
@pytest.mark.parametrize("endpoint", _endpoints())
def test_finish_reason_is_null_until_the_last_chunk_of_the_choice(
    api: SuiteClient, target_config: TargetConfig, endpoint: str
) -> None:
    _, stream = _stream(api, target_config, endpoint, max_tokens=SHORT)
    sse_finish_reason_only_at_end(stream)


@pytest.mark.requirement("SSE-008")
@pytest.mark.spend(requests=1, tokens=24)
def test_the_first_chat_delta_carries_the_assistant_role(
    api: SuiteClient, target_config: TargetConfig
) -> None:
    _, stream = _stream(api, target_config, "chat", max_tokens=SHORT)
    sse_first_delta_has_assistant_role(stream)


# The requirement on the number of choices: SSE-013 for chat streams (which also asks
# each choice to finish), the whole-answer one (COMP-012) for completions streams.
N_CHOICES = {"chat": "SSE-013", "completions": "COMP-012"}


@pytest.mark.requirement("SSE-007", "METER-005")
@pytest.mark.spend(requests=1, tokens=40)
@pytest.mark.parametrize(
    "endpoint",
    _endpoints(**{e: pytest.mark.requirement(r) for e, r in N_CHOICES.items()}),
)
def test_n_2_streams_both_choices_each_ending_with_its_own_finish_reason(
    api: SuiteClient,
    target_config: TargetConfig,
    record: RequirementRecorder,
    endpoint: str,
) -> None:
    _, stream = _stream(
        api, target_config, endpoint, max_tokens=SHORT, n=2, **INCLUDE_USAGE
    )
    with record.check(N_CHOICES[endpoint]):
        sse_choices_count_is(stream, 2)
        if endpoint == "chat":
            sse_choices_each_finish(stream)
    with record.check("SSE-007"):
        sse_finish_reason_only_at_end(stream)
        sse_choices_each_finish(stream)
    # Usage of both choices, where the target sent it (SSE-011 judges that it must).
    if stream_usage(stream) is None:
        record.skipped("METER-005", "the stream has no usage chunk (SSE-011)")
        return
    with record.check("METER-005"):
        sse_usage_adds_up(stream)
        sse_completion_tokens_within_max(stream, SHORT, 2)
        sse_completion_tokens_cover_output(stream)


# ─── the stream judged as the answer it stands for ───────────────────────────

CUT = {"completions": "COMP-010", "chat": "CHAT-009"}


@pytest.mark.spend(requests=2, tokens=40)
@pytest.mark.parametrize(
    "endpoint", _endpoints(**{e: pytest.mark.requirement(r) for e, r in CUT.items()})
)
def test_max_tokens_1_on_a_long_answer_streams_finish_reason_length(
    api: SuiteClient,
    target_config: TargetConfig,
    record: RequirementRecorder,
    endpoint: str,
) -> None:
    # As for a whole answer: a model that emits its end token at once ends with no
    # content and "stop", which proves nothing, so a second prompt is tried. Any
    # other ending must be a one-token cut that says "length".
    for prompt in LONG_PROMPTS:
        _, stream = _stream(api, target_config, endpoint, prompt=prompt, max_tokens=1)
        choices = stream_answer(stream)["choices"]
        first = choices[0] if choices else {}
        reason, text = first.get("finish_reason"), first.get("text") or ""
        if reason != "length" and reason in FINISH_REASONS and not text:
            record.note(f"the model ended at once ({reason!r}, no text) on {prompt!r}")
            continue
        sse_truncated_after_one_token(stream)
        return
    pytest.skip("the model ended at once on every prompt: truncation not observable")


STOP = {
    "completions": ("COMP-011", "COMP-014"),
    "chat": ("CHAT-011", "CHAT-014"),
}


@pytest.mark.spend(requests=2, tokens=80)
@pytest.mark.parametrize(
    "endpoint",
    _endpoints(**{e: pytest.mark.requirement(*ids) for e, ids in STOP.items()}),
)
def test_a_stream_ended_by_a_stop_sequence_avoids_it_and_says_stop(
    api: SuiteClient,
    target_config: TargetConfig,
    record: RequirementRecorder,
    endpoint: str,
) -> None:
    # The stop word comes from the target's own streamed reply to the same prompt,
    # so the text would contain it if stop were ignored (temperature 0 keeps it close).
    avoids, says_stop = STOP[endpoint]
    options: dict[str, Any] = {"max_tokens": TIMED, "temperature": 0}
    _, first = _stream(api, target_config, endpoint, **options)
    unstopped = stream_text(first).get(0, "")
    word = stop_word(unstopped)
    if word is None:
        record.note(f"reply too short to pick a stop word from: {unstopped!r}")
        pytest.skip("the reply had no word to use as a stop sequence")
    record.note(f"stop sequence {word!r}, taken from the streamed reply {unstopped!r}")
    _, second = _stream(api, target_config, endpoint, stop=[word], **options)
    with record.check(avoids):
        sse_text_avoids_stop(second, word)
    stopped = stream_text(second).get(0, "")
    if not stopped_at_sequence(stopped, unstopped, word):
        record.skipped(
            says_stop,
            f"the reply with stop ({stopped!r}) is not the reply without it cut at "
            f"{word!r}: nothing shows the stop sequence ended it",
        )
        return
    with record.check(says_stop):
        sse_finish_reason_stop_at_sequence(second, unstopped, word)


# ─── include_usage ───────────────────────────────────────────────────────────


@pytest.mark.requirement("SSE-011")
@pytest.mark.spend(requests=1, tokens=24)
@pytest.mark.parametrize("endpoint", _endpoints())
def test_include_usage_adds_one_final_chunk_with_empty_choices_and_usage(
    api: SuiteClient, target_config: TargetConfig, endpoint: str
) -> None:
    _, stream = _stream(api, target_config, endpoint, max_tokens=SHORT, **INCLUDE_USAGE)
    sse_usage_chunk_present_and_last(stream)


@pytest.mark.requirement("SSE-016")
@pytest.mark.spend(requests=1, tokens=24)
@pytest.mark.parametrize("endpoint", _endpoints())
def test_without_include_usage_no_usage_chunk_is_sent(
    api: SuiteClient, target_config: TargetConfig, endpoint: str
) -> None:
    _, stream = _stream(api, target_config, endpoint, max_tokens=SHORT)
    sse_no_unasked_usage_chunk(stream)


@pytest.mark.requirement("SSE-012")
@pytest.mark.spend(requests=1, tokens=24)
@pytest.mark.parametrize("endpoint", _endpoints())
def test_include_usage_sets_usage_null_on_every_other_chunk(
    api: SuiteClient, target_config: TargetConfig, endpoint: str
) -> None:
    _, stream = _stream(api, target_config, endpoint, max_tokens=SHORT, **INCLUDE_USAGE)
    if stream_usage(stream) is None:
        pytest.skip("the stream has no usage chunk (SSE-011 reports it)")
    sse_usage_null_on_other_chunks(stream)


# ─── delivery ────────────────────────────────────────────────────────────────


@pytest.mark.requirement("SSE-014")
@pytest.mark.spend(requests=1, tokens=48)
@pytest.mark.parametrize("endpoint", _endpoints())
def test_chunks_are_sent_as_they_are_produced_not_buffered(
    api: SuiteClient,
    target_config: TargetConfig,
    record: RequirementRecorder,
    endpoint: str,
) -> None:
    # sse_is_incremental fails only a stream whose content arrives in one burst, which
    # a slow but streaming gateway never produces; too short a stream is not judged.
    exchange, stream = _stream(api, target_config, endpoint, max_tokens=TIMED)
    record.note(_timing(exchange, stream))
    count = len(_content_chunks(stream))
    if count < MIN_CONTENT_CHUNKS:
        pytest.skip(
            f"only {count} content chunk(s); {MIN_CONTENT_CHUNKS} are needed to tell "
            "streaming from buffering"
        )
    sse_is_incremental(stream)


@pytest.mark.capability("simulated_failures")
@pytest.mark.requirement("SSE-015")
@pytest.mark.spend(requests=1, tokens=8)
def test_an_error_after_the_stream_started_is_sent_in_the_error_envelope(
    api: SuiteClient, target_config: TargetConfig, record: RequirementRecorder
) -> None:
    # Neither the docs nor the OpenAI spec give a client a way to make a healthy
    # target fail half-way through a stream; the reference server has a test hook
    # (the capability "simulated_failures").
    body = _body("chat", _model(target_config, "chat"), max_tokens=SHORT)
    exchange = api.request(
        "POST", PATHS["chat"], json=body, stream=True,
        headers={"X-Qbtsuite-Simulate": "stream_error"},
    )  # fmt: skip
    status_is(exchange, 200)
    stream = parse_stream(exchange.chunks or [])
    errors = [c for c in json_chunks(stream) if c.is_error]
    if not errors:
        unsupported("the target did not break off the stream when asked to")
    sse_errors_use_envelope(stream)
