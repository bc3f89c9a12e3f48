"""Conformance: POST /v1/embeddings (spec/embeddings.txt).

One vector per input, in input order, of the model's width (bge-m3: 1024; the
"varies" models: one width per model), the base64 wire form (little-endian float32)
equal to the float one, ``dimensions`` honoured or refused, and the 400s of the
endpoint's error table. Inputs are a few words: embeddings are billed per input token.

The schema-generated invalid bodies live in test_request_validation.py; the cases
here are the ones the catalogue names explicitly.
"""

from __future__ import annotations

from typing import Any

import pytest

from qbtsuite.checks import (
    base64_embeddings_match_floats,
    batch_embeddings_match_singles,
    content_type_is_json,
    declines_in_an_envelope,
    embedding_dimension_is,
    embeddings_encoded_as,
    embeddings_one_per_input_in_order,
    embeddings_share_dimension,
    model_is,
    response_conforms_to_schema,
    status_is,
)
from qbtsuite.harness.recording import RequirementRecorder
from qbtsuite.harness.signals import unsupported
from qbtsuite.harness.verdicts import refused
from qbtsuite.modelcatalog import MODELS, Category, models_for
from qbtsuite.target.client import SuiteClient
from qbtsuite.target.config import TargetConfig
from qbtsuite.target.exchange import Exchange

PATH = "embeddings"
UNKNOWN_MODEL = "qbtsuite-no-such-model"
BATCH = ("The quick brown fox.", "A slow green turtle.", "Seven blue whales.")
PAIR = BATCH[:2]
DIMENSIONS = 256  # smaller than any documented model's width


def _model(target_config: TargetConfig) -> str:
    model = target_config.model("embeddings")
    if not model:
        pytest.skip("no embeddings model configured (models.embeddings)")
    return model


def _embed(api: SuiteClient, model: Any, text: Any, **extra: Any) -> Exchange:
    return api.request("POST", PATH, json={"model": model, "input": text, **extra})


def _float_list(exchange: Exchange) -> Any:
    """200 with a float embedding list valid against its schema; the decoded body."""
    status_is(exchange, 200)
    response_conforms_to_schema(exchange, "embedding_list_float")
    return exchange.json()


def _offered_or_unsupported(exchange: Exchange, model: str) -> None:
    """End the test as unsupported when the target declines ``model`` in the envelope."""
    if declines_in_an_envelope(exchange):
        unsupported(f"the target does not offer the embedding model {model}")


def _varies_model(target_config: TargetConfig) -> str:
    """A model whose width the docs leave open ("varies"): the configured one if so."""
    configured = target_config.model("embeddings")
    varies = [m.id for m in models_for(Category.EMBEDDING) if m.dimensions is None]
    return configured if configured in varies else varies[0]


# ─── successful requests ─────────────────────────────────────────────────────


@pytest.mark.smoke
@pytest.mark.requirement("EMB-001", "EMB-005")
@pytest.mark.spend(requests=1, tokens=4)
def test_a_string_input_yields_a_list_with_one_embedding_of_the_requested_model(
    api: SuiteClient, target_config: TargetConfig, record: RequirementRecorder
) -> None:
    model = _model(target_config)
    response = _embed(api, model, "hello world")
    status_is(response, 200)
    content_type_is_json(response)
    body = response.json()
    with record.check("EMB-001"):
        response_conforms_to_schema(response, "embedding_list_float")
        embeddings_one_per_input_in_order(body, 1)
    with record.check("EMB-005"):
        model_is(body, model)


@pytest.mark.requirement("EMB-002")
@pytest.mark.spend(requests=4, tokens=20)
def test_a_batch_of_k_inputs_yields_k_embeddings_in_input_order(
    api: SuiteClient, target_config: TargetConfig
) -> None:
    model = _model(target_config)
    batch = _float_list(_embed(api, model, list(BATCH)))
    embeddings_one_per_input_in_order(batch, len(BATCH))
    # Each input alone must give the vector at its position in the batch: a batch
    # returned in another order is caught even when its index fields look right.
    singles = [_float_list(_embed(api, model, text)) for text in BATCH]
    batch_embeddings_match_singles(batch, singles)


@pytest.mark.requirement("EMB-003")
@pytest.mark.spend(requests=1, tokens=10)
def test_bge_m3_embeddings_have_exactly_1024_numbers(api: SuiteClient) -> None:
    bge = next(m for m in MODELS if m.id == "bge-m3")
    assert bge.dimensions is not None
    response = _embed(api, bge.id, list(PAIR))
    _offered_or_unsupported(response, bge.id)
    body = _float_list(response)
    embedding_dimension_is(body, bge.dimensions)


@pytest.mark.requirement("EMB-004")
@pytest.mark.spend(requests=2, tokens=12)
@pytest.mark.parametrize("model", [m.id for m in models_for(Category.EMBEDDING)])
def test_every_embedding_of_a_model_has_the_same_length_within_and_across_responses(
    api: SuiteClient, model: str
) -> None:
    first = _embed(api, model, list(PAIR))
    _offered_or_unsupported(first, model)
    second = _embed(api, model, "Another sentence entirely.")
    embeddings_share_dimension([_float_list(first), _float_list(second)])


@pytest.mark.requirement("EMB-011")
@pytest.mark.spend(requests=2, tokens=12)
def test_base64_encoding_is_little_endian_float32_equal_to_the_float_vectors(
    api: SuiteClient, target_config: TargetConfig
) -> None:
    model = _model(target_config)
    floats = _float_list(_embed(api, model, list(PAIR), encoding_format="float"))
    encoded = _embed(api, model, list(PAIR), encoding_format="base64")
    status_is(encoded, 200)
    content_type_is_json(encoded)
    b64_body = encoded.json()
    embeddings_encoded_as(b64_body, "base64")
    response_conforms_to_schema(encoded, "embedding_list_base64")
    base64_embeddings_match_floats(floats, b64_body)


@pytest.mark.requirement("EMB-012")
@pytest.mark.spend(requests=1, tokens=6)
def test_dimensions_is_honoured_or_rejected_with_400_never_ignored(
    api: SuiteClient, target_config: TargetConfig, record: RequirementRecorder
) -> None:
    model = _varies_model(target_config)
    response = _embed(api, model, list(PAIR), dimensions=DIMENSIONS)
    _offered_or_unsupported(response, model)
    status_is(response, (200, 400))
    if response.status_code == 400:
        refused(record, response, 400, "invalid_request", "EMB-012")
        record.note(f"{model} refuses dimensions={DIMENSIONS} with 400 invalid_request")
        return
    body = _float_list(response)
    embedding_dimension_is(body, DIMENSIONS)
    record.note(f"{model} honours dimensions={DIMENSIONS}")


@pytest.mark.requirement("EMB-013")
@pytest.mark.spend(requests=1, tokens=4)
def test_user_and_encoding_format_float_are_accepted_with_number_arrays(
    api: SuiteClient, target_config: TargetConfig
) -> None:
    model = _model(target_config)
    response = _embed(
        api, model, "hello world", user="qbtsuite-conformance", encoding_format="float"
    )
    body = _float_list(response)
    embeddings_encoded_as(body, "float")


# ─── rejected requests ───────────────────────────────────────────────────────


@pytest.mark.requirement("EMB-006")
@pytest.mark.spend(requests=1)
@pytest.mark.parametrize("missing", ["model", "input"])
def test_a_request_without_model_or_input_is_rejected_with_400_invalid_request(
    api: SuiteClient,
    record: RequirementRecorder,
    target_config: TargetConfig,
    missing: str,
) -> None:
    body = {"model": _model(target_config), "input": "hello world"}
    del body[missing]
    refused(
        record, api.request("POST", PATH, json=body), 400, "invalid_request", "EMB-006"
    )


WRONG_TYPES: dict[str, tuple[str, Any]] = {
    "input-object": ("input", {"text": "hello"}),
    "input-boolean": ("input", True),
    "input-strings-mixed-with-objects": ("input", ["hello", {"text": "world"}]),
    "model-number": ("model", 1024),
}


@pytest.mark.requirement("EMB-007")
@pytest.mark.spend(requests=1)
@pytest.mark.parametrize("case", sorted(WRONG_TYPES))
def test_an_input_or_model_of_the_wrong_type_is_rejected_with_400_invalid_request(
    api: SuiteClient,
    record: RequirementRecorder,
    target_config: TargetConfig,
    case: str,
) -> None:
    field, value = WRONG_TYPES[case]
    body: dict[str, Any] = {"model": _model(target_config), "input": "hello world"}
    body[field] = value
    refused(
        record, api.request("POST", PATH, json=body), 400, "invalid_request", "EMB-007"
    )


@pytest.mark.requirement("EMB-008")
@pytest.mark.spend(requests=1)
@pytest.mark.parametrize("empty", ["", []], ids=["empty-string", "empty-array"])
def test_an_empty_input_is_rejected_with_400_invalid_request(
    api: SuiteClient,
    record: RequirementRecorder,
    target_config: TargetConfig,
    empty: Any,
) -> None:
    response = _embed(api, _model(target_config), empty)
    refused(record, response, 400, "invalid_request", "EMB-008")


@pytest.mark.requirement("EMB-009")
@pytest.mark.spend(requests=1)
def test_an_unknown_model_is_rejected_with_400_model_not_found(
    api: SuiteClient,
    record: RequirementRecorder,
) -> None:
    response = _embed(api, UNKNOWN_MODEL, "hello world")
    refused(record, response, 400, "model_not_found", "EMB-009")


OTHER_CATEGORIES = [
    models_for(c)[0].id for c in (Category.TEXT, Category.IMAGE, Category.TRANSCRIPTION)
]


@pytest.mark.requirement("EMB-010")
@pytest.mark.spend(requests=1)
@pytest.mark.parametrize("model", OTHER_CATEGORIES)
def test_a_documented_model_of_another_category_is_rejected_with_400_model_not_found(
    api: SuiteClient, record: RequirementRecorder, model: str
) -> None:
    response = _embed(api, model, "hello world")
    refused(record, response, 400, "model_not_found", "EMB-010")


@pytest.mark.requirement("EMB-014")
@pytest.mark.spend(requests=1)
def test_an_unknown_encoding_format_is_rejected_with_400_invalid_request(
    api: SuiteClient, record: RequirementRecorder, target_config: TargetConfig
) -> None:
    response = _embed(api, _model(target_config), "hello world", encoding_format="hex")
    refused(record, response, 400, "invalid_request", "EMB-014")
