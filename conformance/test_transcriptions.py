"""Conformance: POST /v1/audio/transcriptions (spec/audio-transcriptions.txt).

The audio is the suite's own fixtures (``fixtures/audio``: a tone and a speech-like
signal, each as WAV, MP3, FLAC and OGG, 2–2.7 s) whose true durations are in the
manifest. The transcript's words are not judged (any model may hear a tone as
silence); its form is: JSON with a string ``text``, plain text for "text",
verbose_json with a duration within 0.5 s or 5 % of the truth and segments inside
the audio. Billed per second of audio, so each request sends one short file.
"""

from __future__ import annotations

import base64
import random
from typing import Any

import pytest

from qbtsuite.checks import (
    answer_is_about_the_request,
    content_type_is_json,
    duration_within,
    error_body_is_envelope,
    response_conforms_to_schema,
    segments_lie_within_audio,
    status_is,
    transcription_language_is_iso639_1,
    transcription_text_is_plain,
    verbose_transcription_shape,
)
from qbtsuite.harness.recording import RequirementRecorder
from qbtsuite.harness.verdicts import judge_error, refused
from qbtsuite.payloads.audio import AudioFixture, load_manifest
from qbtsuite.target.client import SuiteClient
from qbtsuite.target.config import TargetConfig
from qbtsuite.target.exchange import Exchange

# Every check here needs the endpoint itself: the capability "transcriptions".
pytestmark = pytest.mark.capability("transcriptions")

PATH = "audio/transcriptions"
UNKNOWN_MODEL = "qbtsuite-no-such-model"
FIXTURES = {f.file: f for f in load_manifest()}
WAV = FIXTURES["tone-440hz.wav"]
WAV_SECONDS = WAV.duration


def _model(target_config: TargetConfig) -> str:
    model = target_config.model("transcriptions")
    if not model:
        pytest.skip(
            "no transcription model configured (QBTSUITE_MODELS_TRANSCRIPTIONS or [models] transcriptions)"
        )
    return model


def _file_part(fixture: AudioFixture) -> tuple[str, bytes, str]:
    return (fixture.file, fixture.path.read_bytes(), fixture.content_type)


def _transcribe(
    api: SuiteClient, model: str, *, fixture: AudioFixture = WAV, **fields: str
) -> Exchange:
    """A multipart upload of ``fixture`` with ``model`` and the given text fields."""
    files = {"file": _file_part(fixture)}
    return api.request("POST", PATH, data={"model": model, **fields}, files=files)


# ─── successful requests ─────────────────────────────────────────────────────


@pytest.mark.requirement("AUD-001", "AUD-002")
@pytest.mark.spend(requests=1, audio_seconds=WAV_SECONDS)
@pytest.mark.parametrize(
    "response_format",
    [pytest.param(None, id="omitted", marks=pytest.mark.smoke), "json"],
)
def test_a_short_wav_is_transcribed_as_json_with_a_string_text_and_language(
    api: SuiteClient,
    target_config: TargetConfig,
    record: RequirementRecorder,
    response_format: str | None,
) -> None:
    model = _model(target_config)
    if response_format is None:
        response = _transcribe(api, model)
    else:
        response = _transcribe(api, model, response_format=response_format)
    status_is(response, 200)
    with record.check("AUD-001"):
        response_conforms_to_schema(response, "transcription_json")
    with record.check("AUD-002"):
        transcription_language_is_iso639_1(response.json())


@pytest.mark.requirement("AUD-003")
@pytest.mark.spend(requests=1, audio_seconds=WAV_SECONDS)
def test_response_format_text_answers_the_transcript_as_plain_text_not_json(
    api: SuiteClient, target_config: TargetConfig
) -> None:
    response = _transcribe(api, _model(target_config), response_format="text")
    status_is(response, 200)
    transcription_text_is_plain(response)


@pytest.mark.requirement("AUD-004", "AUD-005", "AUD-006")
@pytest.mark.spend(requests=1, audio_seconds=3)
@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_verbose_json_has_segments_and_the_true_duration_of_the_audio(
    api: SuiteClient,
    target_config: TargetConfig,
    record: RequirementRecorder,
    name: str,
) -> None:
    fixture = FIXTURES[name]
    response = _transcribe(
        api, _model(target_config), fixture=fixture, response_format="verbose_json"
    )
    status_is(response, 200)
    content_type_is_json(response)
    body = response.json()
    with record.check("AUD-004"):
        verbose_transcription_shape(body)
    with record.check("AUD-005"):
        duration_within(body, fixture.duration)
    with record.check("AUD-006"):
        segments_lie_within_audio(body)


@pytest.mark.requirement("AUD-007")
@pytest.mark.spend(requests=1, audio_seconds=WAV_SECONDS)
def test_language_temperature_and_prompt_are_accepted(
    api: SuiteClient, target_config: TargetConfig
) -> None:
    response = _transcribe(
        api,
        _model(target_config),
        language="en",
        temperature="0",
        prompt="A short test recording.",
    )
    status_is(response, 200)
    response_conforms_to_schema(response, "transcription_json")


# ─── rejected requests ───────────────────────────────────────────────────────


def _not_multipart(encoding: str, model: str) -> dict[str, Any]:
    """The same fields as JSON or urlencoded (the file as base64 text)."""
    fields = {"model": model, "file": base64.b64encode(WAV.path.read_bytes()).decode()}
    if encoding == "json":
        return {"json": fields}
    return {"data": fields}  # httpx sends application/x-www-form-urlencoded


@pytest.mark.requirement("AUD-008")
@pytest.mark.spend(requests=1)
@pytest.mark.parametrize("encoding", ["json", "urlencoded"])
def test_a_request_that_is_not_multipart_is_rejected_with_400_invalid_request(
    api: SuiteClient,
    record: RequirementRecorder,
    target_config: TargetConfig,
    encoding: str,
) -> None:
    body = _not_multipart(encoding, _model(target_config))
    response = api.request("POST", PATH, **body)
    refused(record, response, 400, "invalid_request", "AUD-008")


@pytest.mark.requirement("AUD-009")
@pytest.mark.spend(requests=1)
@pytest.mark.parametrize("missing", ["file", "model"])
def test_a_multipart_request_without_file_or_model_is_rejected_with_400_invalid_request(
    api: SuiteClient,
    record: RequirementRecorder,
    target_config: TargetConfig,
    missing: str,
) -> None:
    # (None, value) parts are plain form fields: the body stays multipart/form-data
    # even when no file is attached.
    parts: dict[str, Any] = {
        "model": (None, _model(target_config)),
        "file": _file_part(WAV),
    }
    del parts[missing]
    response = api.request("POST", PATH, files=parts)
    refused(record, response, 400, "invalid_request", "AUD-009")


@pytest.mark.requirement("AUD-010")
@pytest.mark.spend(requests=1)
def test_an_unknown_response_format_is_rejected_with_400_invalid_request(
    api: SuiteClient, record: RequirementRecorder, target_config: TargetConfig
) -> None:
    response = _transcribe(api, _model(target_config), response_format="xml")
    refused(record, response, 400, "invalid_request", "AUD-010")


@pytest.mark.requirement("AUD-011")
@pytest.mark.spend(requests=1)
def test_random_bytes_named_wav_are_refused_with_a_4xx_in_the_envelope_not_a_5xx(
    api: SuiteClient, target_config: TargetConfig, record: RequirementRecorder
) -> None:
    noise = random.Random(11).randbytes(8192)  # no RIFF header: not audio
    files = {"file": ("noise.wav", noise, "audio/wav")}
    data = {"model": _model(target_config)}
    response = api.request("POST", PATH, data=data, files=files)
    with record.check("AUD-011"):
        answer_is_about_the_request(
            response,
            title="A file that is not audio is not refused as a client error",
            expected="a 4xx about the file (not 401/403/404/405/429) in the error "
            "envelope",
            about="how a file that is not audio is refused",
        )
        error_body_is_envelope(response)
    judge_error(record, response)


@pytest.mark.requirement("AUD-012")
@pytest.mark.spend(requests=1)
def test_an_unknown_model_is_rejected_with_400_model_not_found(
    api: SuiteClient,
    record: RequirementRecorder,
) -> None:
    refused(record, _transcribe(api, UNKNOWN_MODEL), 400, "model_not_found", "AUD-012")


@pytest.mark.requirement("AUD-013")
@pytest.mark.spend(requests=1)
@pytest.mark.parametrize("endpoint", ["chat", "embeddings", "images"])
def test_the_configured_model_of_another_category_is_rejected_with_400_model_not_found(
    api: SuiteClient,
    record: RequirementRecorder,
    target_config: TargetConfig,
    endpoint: str,
) -> None:
    model = target_config.other_category_model(endpoint, "transcriptions")
    if model is None:
        pytest.skip(
            f"no {endpoint} model other than the transcription one configured "
            f"(QBTSUITE_MODELS_{endpoint.upper()})"
        )
    refused(record, _transcribe(api, model), 400, "model_not_found", "AUD-013")
