"""Conformance: what the target bills (the "Pricing" sections of spec/*.txt).

Completions and chat are "metered per token (input + output)": usage must add up,
count at least one prompt token, and never bill more completion tokens than
max_tokens allowed (× n), nor zero when text came back; the same holds for the
include_usage chunk of a stream. Embeddings bill input tokens only, and a batch
bills the sum of its inputs. Images are "metered per image generated
(data[].length)", so data holds exactly n images. Transcriptions are metered per
second: where usage.seconds is reported, it is the file's true duration (the
fixture's manifest) within 0.5 s.

Requests are small: max_tokens 4 on prompts that invite a long answer (so the cap is
reached), two short embedding inputs, two 256x256 images, a 2-second tone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from qbtsuite.checks import (
    batch_prompt_tokens_add_up,
    completion_tokens_cover_output,
    completion_tokens_within_max,
    content_type_is_json,
    declines_capability,
    embedding_usage_is_input_only,
    images_count_is,
    sse_completion_tokens_cover_output,
    sse_completion_tokens_within_max,
    sse_usage_adds_up,
    status_is,
    stream_usage,
    usage_adds_up,
    usage_seconds_within,
)
from qbtsuite.harness.recording import RequirementRecorder
from qbtsuite.harness.signals import unsupported
from qbtsuite.resources import data_dir
from qbtsuite.sse import parse_stream
from qbtsuite.target.client import SuiteClient
from qbtsuite.target.config import TargetConfig
from qbtsuite.target.exchange import Exchange

PATHS = {
    "completions": "completions",
    "chat": "chat/completions",
    "embeddings": "embeddings",
    "images": "images/generations",
    "transcriptions": "audio/transcriptions",
}
PROMPT = "Write a long, detailed story about a lighthouse keeper who finds a map."
MAX_TOKENS = 4  # far below the natural length of an answer to PROMPT
INPUTS = ("The quick brown fox jumps.", "Seven blue whales sing at dawn.")
AUDIO = "tone-440hz.wav"  # an exact 2.0 s signal: no encoder padding to argue about


def _model(target_config: TargetConfig, endpoint: str) -> str:
    model = target_config.model(endpoint)
    if not model:
        pytest.skip(
            f"no {endpoint} model configured "
            f"(QBTSUITE_MODELS_{endpoint.upper()} or [models] {endpoint})"
        )
    return model


def _text_body(endpoint: str, model: str, **extra: Any) -> dict[str, Any]:
    if endpoint == "chat":
        body = {"model": model, "messages": [{"role": "user", "content": PROMPT}]}
    else:
        body = {"model": model, "prompt": PROMPT}
    return {**body, "max_tokens": MAX_TOKENS, **extra}


def _ok(exchange: Exchange) -> Any:
    """200 with a JSON body, decoded."""
    status_is(exchange, 200)
    content_type_is_json(exchange)
    return exchange.json()


def _text(
    api: SuiteClient, target_config: TargetConfig, endpoint: str, **extra: Any
) -> Any:
    body = _text_body(endpoint, _model(target_config, endpoint), **extra)
    return _ok(api.request("POST", PATHS[endpoint], json=body))


def _judge_completion_tokens(body: Any, n: int) -> None:
    """completion_tokens ≤ max_tokens × n, and ≥ 1 when text came back."""
    if not isinstance(body.get("usage"), Mapping):
        pytest.skip(
            "the reply has no usage (METER-001/003 report it): nothing to count"
        )
    completion_tokens_within_max(body, MAX_TOKENS, n)
    completion_tokens_cover_output(body)


# ─── completions and chat ────────────────────────────────────────────────────


@pytest.mark.requirement("METER-001")
@pytest.mark.spend(requests=1, tokens=20)
def test_a_completion_carries_usage_that_adds_up(
    api: SuiteClient, target_config: TargetConfig
) -> None:
    usage_adds_up(_text(api, target_config, "completions"))


@pytest.mark.requirement("METER-002")
@pytest.mark.spend(requests=1, tokens=24)
@pytest.mark.parametrize("n", [1, 2], ids=["n1", "n2"])
def test_a_completion_bills_at_most_max_tokens_per_choice_and_counts_its_text(
    api: SuiteClient, target_config: TargetConfig, n: int
) -> None:
    _judge_completion_tokens(_text(api, target_config, "completions", n=n), n)


@pytest.mark.requirement("METER-003")
@pytest.mark.spend(requests=1, tokens=30)
def test_a_chat_completion_carries_usage_that_adds_up(
    api: SuiteClient, target_config: TargetConfig
) -> None:
    usage_adds_up(_text(api, target_config, "chat"))


@pytest.mark.requirement("METER-004")
@pytest.mark.spend(requests=1, tokens=34)
@pytest.mark.parametrize("n", [1, 2], ids=["n1", "n2"])
def test_a_chat_completion_bills_at_most_max_tokens_per_choice_and_counts_its_content(
    api: SuiteClient, target_config: TargetConfig, n: int
) -> None:
    _judge_completion_tokens(_text(api, target_config, "chat", n=n), n)


@pytest.mark.requirement("METER-005")
@pytest.mark.spend(requests=1, tokens=30)
@pytest.mark.parametrize("endpoint", ["completions", "chat"])
def test_the_include_usage_chunk_adds_up_and_bills_at_most_max_tokens(
    api: SuiteClient,
    target_config: TargetConfig,
    record: RequirementRecorder,
    endpoint: str,
) -> None:
    body = _text_body(
        endpoint,
        _model(target_config, endpoint),
        stream=True,
        stream_options={"include_usage": True},
    )
    exchange = api.request("POST", PATHS[endpoint], json=body, stream=True)
    status_is(exchange, 200)
    stream = parse_stream(exchange.chunks or [])
    usage = stream_usage(stream)
    if usage is None:
        pytest.skip("the stream has no usage chunk (SSE-011 reports it)")
    record.note(f"usage chunk: {json.dumps(usage)}")
    sse_usage_adds_up(stream)
    sse_completion_tokens_within_max(stream, MAX_TOKENS, 1)
    sse_completion_tokens_cover_output(stream)


# ─── embeddings ──────────────────────────────────────────────────────────────


def _embed(api: SuiteClient, model: str, text: Any) -> Any:
    return _ok(
        api.request("POST", PATHS["embeddings"], json={"model": model, "input": text})
    )


@pytest.mark.requirement("METER-006")
@pytest.mark.spend(requests=1, tokens=8)
def test_embeddings_bill_input_tokens_only(
    api: SuiteClient, target_config: TargetConfig
) -> None:
    body = _embed(api, _model(target_config, "embeddings"), INPUTS[0])
    embedding_usage_is_input_only(body)


@pytest.mark.requirement("METER-007")
@pytest.mark.spend(requests=3, tokens=32)
def test_a_batch_bills_the_sum_of_its_inputs_sent_one_by_one(
    api: SuiteClient, target_config: TargetConfig
) -> None:
    model = _model(target_config, "embeddings")
    batch = _embed(api, model, list(INPUTS))
    singles = [_embed(api, model, text) for text in INPUTS]
    batch_prompt_tokens_add_up(batch, singles)


# ─── images ──────────────────────────────────────────────────────────────────


@pytest.mark.capability("images")
@pytest.mark.requirement("METER-008")
@pytest.mark.spend(requests=1, images=2)
def test_an_image_response_holds_exactly_the_n_images_billed(
    api: SuiteClient, target_config: TargetConfig
) -> None:
    n = 2
    body = {
        "model": _model(target_config, "images"),
        "prompt": "a small red apple on a white background",
        "n": n,
        "size": "256x256",
    }
    images_count_is(_ok(api.request("POST", PATHS["images"], json=body)), n)


# ─── transcriptions ──────────────────────────────────────────────────────────


def _fixture(name: str) -> tuple[bytes, dict[str, Any]]:
    """The audio fixture ``name`` and its manifest entry (true duration)."""
    folder = data_dir("fixtures") / "audio"
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    entry = next(f for f in manifest["files"] if f["file"] == name)
    return (folder / name).read_bytes(), entry


@pytest.mark.capability("transcriptions", "transcription_usage")
@pytest.mark.requirement("METER-009")
@pytest.mark.spend(requests=2, audio_seconds=4)
def test_billed_transcription_seconds_equal_the_audio_duration(
    api: SuiteClient, target_config: TargetConfig, record: RequirementRecorder
) -> None:
    model = _model(target_config, "transcriptions")
    audio, entry = _fixture(AUDIO)
    judged = []
    for response_format in ("json", "verbose_json"):
        exchange = api.request(
            "POST",
            PATHS["transcriptions"],
            data={"model": model, "response_format": response_format},
            files={"file": (AUDIO, audio, entry["content_type"])},
        )
        if declines_capability(exchange):
            unsupported(f"the target does not offer transcriptions with {model}")
        body = _ok(exchange)
        usage = body.get("usage") if isinstance(body, Mapping) else None
        if not isinstance(usage, Mapping) or "seconds" not in usage:
            record.note(f"{response_format}: no usage.seconds reported")
            continue
        usage_seconds_within(body, float(entry["duration"]))
        judged.append(response_format)
    if not judged:
        unsupported("no transcription response reports usage.seconds")
