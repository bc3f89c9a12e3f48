"""Conformance: POST /v1/completions (spec/completions.txt).

The response shape (object "text_completion", choices of text/index/finish_reason),
prompt arrays, the passthrough fields, and what max_tokens, stop and n do to the
choices. Assertions are properties any model satisfies, never generated text: the
stop test takes its stop word from the target's own earlier reply, and the
max_tokens=1 test accepts only what the OpenAI semantics allow.

The schema-generated invalid bodies (COMP-005…008, COMP-013) live in
test_request_validation.py; usage arithmetic lives in test_metering.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from qbtsuite.checks import (
    choice_text,
    choices_count_is,
    finish_reason_stop_at_sequence,
    id_has_prefix,
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

PATH = "completions"
SHORT_PROMPT = "The capital of Canada is"
# Prompts that invite a long answer: a correct model does not end after one token.
LONG_PROMPTS = (
    "Write a long, detailed story about a lighthouse keeper who finds a map.",
    "Explain in many paragraphs how a steam engine works, step by step.",
)
FINISH_REASONS = ("stop", "length", "content_filter")


def _model(target_config: TargetConfig) -> str:
    model = target_config.model("completions")
    if not model:
        pytest.skip(
            "no completions model configured (QBTSUITE_MODELS_COMPLETIONS or [models] completions)"
        )
    return model


def _complete(api: SuiteClient, model: str, prompt: Any, **extra: Any) -> Exchange:
    return api.request("POST", PATH, json={"model": model, "prompt": prompt, **extra})


@pytest.mark.smoke
@pytest.mark.requirement("COMP-001", "COMP-002")
@pytest.mark.spend(requests=1, tokens=24)
def test_a_string_prompt_answers_200_with_a_textjson_reply(
    api: SuiteClient, target_config: TargetConfig, record: RequirementRecorder
) -> None:
    model = _model(target_config)
    response = _complete(api, model, SHORT_PROMPT, max_tokens=16)
    status_is(response, 200)
    with record.check("COMP-001"):
        response_conforms_to_schema(response, "completion")
    body = response.json()
    with record.check("COMP-002"):
        model_is(body, model)
        id_has_prefix(body, "cmpl-")


@pytest.mark.requirement("COMP-003", "COMP-004")
@pytest.mark.spend(requests=1, tokens=24)
def test_a_prompt_array_is_accepted_with_one_choice_per_prompt(
    api: SuiteClient, target_config: TargetConfig, record: RequirementRecorder
) -> None:
    prompts = ["The sky is", "Grass is"]
    response = _complete(api, _model(target_config), prompts, max_tokens=4)
    with record.check("COMP-003"):
        status_is(response, 200)
    with record.check("COMP-004"):
        choices_count_is(response.json(), len(prompts))


@pytest.mark.requirement("COMP-009")
@pytest.mark.spend(requests=1, tokens=16)
def test_the_passthrough_fields_are_accepted_with_valid_values(
    api: SuiteClient, target_config: TargetConfig
) -> None:
    response = _complete(
        api,
        _model(target_config),
        SHORT_PROMPT,
        max_tokens=8,
        temperature=0.5,
        top_p=0.9,
        stop=["\n\n"],
    )
    status_is(response, 200)


@pytest.mark.requirement("COMP-010")
@pytest.mark.spend(requests=2, tokens=40)
def test_max_tokens_1_on_a_long_answer_ends_with_finish_reason_length(
    api: SuiteClient, target_config: TargetConfig, record: RequirementRecorder
) -> None:
    # With max_tokens=1 a model either emits one token and is cut ("length"), or
    # emits its end-of-text token at once: then there is no text and the reason is
    # "stop" (or "content_filter"). That empty ending proves nothing, so a second
    # prompt is tried. Anything else must be a one-token cut: "length" after many
    # tokens is a default cap, not max_tokens.
    model = _model(target_config)
    for prompt in LONG_PROMPTS:
        reply = json_reply(_complete(api, model, prompt, max_tokens=1))
        choice = first_choice(reply)
        reason, text = choice.get("finish_reason"), choice_text(choice) or ""
        if reason != "length" and reason in FINISH_REASONS and not text:
            record.note(f"the model ended at once ({reason!r}, no text) on {prompt!r}")
            continue
        truncated_after_one_token(reply)
        return
    pytest.skip("the model ended at once on every prompt: truncation not observable")


@pytest.mark.requirement("COMP-011", "COMP-014")
@pytest.mark.spend(requests=2, tokens=80)
def test_the_text_stops_before_the_stop_sequence_and_says_stop(
    api: SuiteClient, target_config: TargetConfig, record: RequirementRecorder
) -> None:
    # The stop word comes from the target's own reply to the same prompt, so the
    # text would contain it if stop were ignored (temperature 0 keeps it close).
    model = _model(target_config)
    prompt = LONG_PROMPTS[0]
    first = json_reply(_complete(api, model, prompt, max_tokens=32, temperature=0))
    reply = choice_text(first_choice(first))
    word = stop_word(reply or "")
    if word is None:
        record.note(f"reply too short to pick a stop word from: {reply!r}")
        pytest.skip("the reply had no word to use as a stop sequence")
    record.note(f"stop sequence {word!r}, taken from the reply {reply!r}")
    second = json_reply(
        _complete(api, model, prompt, max_tokens=32, temperature=0, stop=[word])
    )
    with record.check("COMP-011"):
        text_avoids_stop(second, word)
    # COMP-014: a reply that is the first one cut where the word begins was ended by
    # the stop sequence, and must say so; one that went another way proves nothing.
    stopped = choice_text(first_choice(second)) or ""
    if not stopped_at_sequence(stopped, reply or "", word):
        record.skipped(
            "COMP-014",
            f"the reply with stop ({stopped!r}) is not the reply without it cut at "
            f"{word!r}: nothing shows the stop sequence ended it",
        )
        return
    with record.check("COMP-014"):
        finish_reason_stop_at_sequence(second, reply or "", word)


@pytest.mark.requirement("COMP-012")
@pytest.mark.spend(requests=1, tokens=16)
def test_n_2_yields_exactly_two_choices_with_indices_0_and_1(
    api: SuiteClient, target_config: TargetConfig
) -> None:
    body = json_reply(
        _complete(api, _model(target_config), SHORT_PROMPT, max_tokens=4, n=2)
    )
    choices_count_is(body, 2)
