"""Conformance: POST /v1/chat/completions (spec/getting-started.txt; OpenAI's chat format).

The response shape (object "chat.completion", an assistant message, a documented
finish_reason), conversations and content-part arrays, and what max_tokens,
max_completion_tokens, stop and n do. Assertions are properties any model satisfies:
the stop test takes its stop word from the target's own earlier reply, and the
max_tokens=1 test accepts only what the OpenAI semantics allow. A reasoning model may
spend a small budget before any content: a reply without content is then reported
as too short to test, never as a failure.

The schema-generated invalid bodies (CHAT-005…008, CHAT-013) live in
test_request_validation.py; usage arithmetic lives in test_metering.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from qbtsuite.checks import (
    choice_text,
    choices_count_is,
    completion_tokens_within_max,
    finish_reason_stop_at_sequence,
    model_is,
    response_conforms_to_schema,
    status_is,
    stopped_at_sequence,
    text_avoids_stop,
    truncated_after_one_token,
)
from qbtsuite.harness.recording import RequirementRecorder
from qbtsuite.harness.replies import first_choice, json_reply, stop_word
from qbtsuite.target.client import SuiteClient
from qbtsuite.target.config import TargetConfig
from qbtsuite.target.exchange import Exchange

PATH = "chat/completions"
SHORT_QUESTION = "What is the capital of Canada? Answer in one word."
# Questions that invite a long answer: a correct model does not end after one token.
LONG_QUESTIONS = (
    "Write a long, detailed story about a lighthouse keeper who finds a map.",
    "Explain in many paragraphs how a steam engine works, step by step.",
)
FINISH_REASONS = ("stop", "length", "content_filter", "tool_calls", "function_call")


def _model(target_config: TargetConfig) -> str:
    model = target_config.model("chat")
    if not model:
        pytest.skip("no chat model configured (QBTSUITE_MODELS_CHAT or [models] chat)")
    return model


def user(text: Any) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def _chat(
    api: SuiteClient, model: str, messages: list[dict[str, Any]], **extra: Any
) -> Exchange:
    body = {"model": model, "messages": messages, **extra}
    return api.request("POST", PATH, json=body)


@pytest.mark.smoke
@pytest.mark.requirement("CHAT-001", "CHAT-002", "CHAT-003")
@pytest.mark.spend(requests=1, tokens=40)
def test_a_single_user_message_answers_200_with_a_chat_completion(
    api: SuiteClient, target_config: TargetConfig, record: RequirementRecorder
) -> None:
    model = _model(target_config)
    response = _chat(api, model, user(SHORT_QUESTION), max_tokens=16)
    status_is(response, 200)  # CHAT-001; without it nothing else can be judged
    with record.check("CHAT-002"):
        response_conforms_to_schema(response, "chat_completion")
    with record.check("CHAT-003"):
        model_is(json_reply(response), model)


@pytest.mark.requirement("CHAT-004")
@pytest.mark.spend(requests=2, tokens=80)
def test_a_conversation_and_content_parts_are_accepted_with_200(
    api: SuiteClient, target_config: TargetConfig
) -> None:
    model = _model(target_config)
    conversation = [
        {"role": "system", "content": "You answer briefly."},
        {"role": "user", "content": "Name a colour."},
        {"role": "assistant", "content": "Blue."},
        {"role": "user", "content": "Name another one."},
    ]
    status_is(_chat(api, model, conversation, max_tokens=8), 200)
    parts = [{"type": "text", "text": "Name a fruit."}]
    status_is(_chat(api, model, user(parts), max_tokens=8), 200)


@pytest.mark.requirement("CHAT-009")
@pytest.mark.spend(requests=2, tokens=60)
def test_max_tokens_1_on_a_long_answer_ends_with_finish_reason_length(
    api: SuiteClient, target_config: TargetConfig, record: RequirementRecorder
) -> None:
    # With max_tokens=1 a model either emits one token and is cut ("length"), or
    # emits its end token at once: then there is no content and the reason is
    # "stop" (or another documented one). That empty ending proves nothing, so a
    # second prompt is tried. Anything else must be a one-token cut: "length" after
    # many tokens is a default cap, not max_tokens.
    model = _model(target_config)
    for question in LONG_QUESTIONS:
        reply = json_reply(_chat(api, model, user(question), max_tokens=1))
        choice = first_choice(reply)
        reason, text = choice.get("finish_reason"), choice_text(choice) or ""
        if reason != "length" and reason in FINISH_REASONS and not text:
            record.note(
                f"the model ended at once ({reason!r}, no content) on {question!r}"
            )
            continue
        truncated_after_one_token(reply)
        return
    pytest.skip("the model ended at once on every prompt: truncation not observable")


@pytest.mark.requirement("CHAT-010")
@pytest.mark.spend(requests=1, tokens=30)
def test_max_completion_tokens_caps_the_completion_tokens(
    api: SuiteClient, target_config: TargetConfig
) -> None:
    limit = 3
    body = json_reply(
        _chat(
            api,
            _model(target_config),
            user(LONG_QUESTIONS[0]),
            max_completion_tokens=limit,
        )
    )
    if not isinstance(body.get("usage"), Mapping):
        pytest.skip("the reply has no usage (METER-003 reports it): nothing to count")
    completion_tokens_within_max(body, limit)


@pytest.mark.requirement("CHAT-011", "CHAT-014")
@pytest.mark.spend(requests=2, tokens=100)
def test_the_message_stops_before_the_stop_sequence_and_says_stop(
    api: SuiteClient, target_config: TargetConfig, record: RequirementRecorder
) -> None:
    # The stop word comes from the target's own reply to the same question, so the
    # content would contain it if stop were ignored (temperature 0 keeps it close).
    model = _model(target_config)
    messages = user(LONG_QUESTIONS[0])
    first = json_reply(_chat(api, model, messages, max_tokens=32, temperature=0))
    content = choice_text(first_choice(first))
    word = stop_word(content or "")
    if word is None:
        record.note(f"reply too short to pick a stop word from: {content!r}")
        pytest.skip("the reply had no word to use as a stop sequence")
    record.note(f"stop sequence {word!r}, taken from the reply {content!r}")
    second = json_reply(
        _chat(api, model, messages, max_tokens=32, temperature=0, stop=[word])
    )
    with record.check("CHAT-011"):
        text_avoids_stop(second, word)
    # CHAT-014: a reply that is the first one cut where the word begins was ended by
    # the stop sequence, and must say so; one that went another way proves nothing.
    stopped = choice_text(first_choice(second)) or ""
    if not stopped_at_sequence(stopped, content or "", word):
        record.skipped(
            "CHAT-014",
            f"the reply with stop ({stopped!r}) is not the reply without it cut at "
            f"{word!r}: nothing shows the stop sequence ended it",
        )
        return
    with record.check("CHAT-014"):
        finish_reason_stop_at_sequence(second, content or "", word)


@pytest.mark.requirement("CHAT-012")
@pytest.mark.spend(requests=1, tokens=30)
def test_n_2_yields_exactly_two_choices_with_indices_0_and_1(
    api: SuiteClient, target_config: TargetConfig
) -> None:
    body = json_reply(
        _chat(api, _model(target_config), user(SHORT_QUESTION), max_tokens=4, n=2)
    )
    choices_count_is(body, 2)
