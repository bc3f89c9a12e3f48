"""Conformance: POST /v1/embeddings (spec/embeddings.txt).

One vector per input, in input order, each model's vectors of one width (bge-m3:
1024, a fact of Qubittron's catalogue; the configured model: the width configured as
``embeddings_dimensions``, when it is), the base64 wire form (little-endian float32)
equal to the float one, ``dimensions`` honoured or refused, and the 400s of the
endpoint's error table. Inputs are a few words: embeddings are billed per input token.

Every request uses the configured (or discovered) embeddings model, except the
checks of Qubittron's documented models, which need the capability ``catalogue``.

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
from qbtsuite.target.config import CATALOGUE, TargetConfig
from qbtsuite.target.exchange import Exchange

PATH = "embeddings"
UNKNOWN_MODEL = "qbtsuite-no-such-model"
BATCH = ("The quick brown fox.", "A slow green turtle.", "Seven blue whales.")
PAIR = BATCH[:2]
DIMENSIONS = 256  # asked of a model whose width is not configured


def _model(target_config: TargetConfig) -> str:
    model = target_config.model("embeddings")
    if not model:
        pytest.skip(
            "no embeddings model configured (QBTSUITE_MODELS_EMBEDDINGS or [models] embeddings)"
        )
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


def _documented(marks: Any) -> list[Any]:
    """The documented embedding models as parameters ``embedding-<n>``."""
    return [
        pytest.param(m.id, id=f"embedding-{n}", marks=marks)
        for n, m in enumerate(models_for(Category.EMBEDDING), start=1)
    ]


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


@pytest.mark.capability(CATALOGUE)
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
@pytest.mark.parametrize(
    "documented",
    [
        pytest.param(None, id="configured"),
        *_documented(pytest.mark.capability(CATALOGUE)),
    ],
)
def test_every_embedding_of_a_model_has_the_same_length_within_and_across_responses(
    api: SuiteClient,
    target_config: TargetConfig,
    record: RequirementRecorder,
    documented: str | None,
) -> None:
    model = documented or _model(target_config)
    first = _embed(api, model, list(PAIR))
    if documented:
        _offered_or_unsupported(first, model)
    second = _embed(api, model, "Another sentence entirely.")
    bodies = [_float_list(first), _float_list(second)]
    embeddings_share_dimension(bodies)
    if documented:
        return
    width = target_config.embeddings_dimensions
    if width is None:
        record.note(
            f"no width configured for {model} (QBTSUITE_EMBEDDING_DIMENSIONS): "
            "judged only that its vectors share one length > 0"
        )
        return
    for body in bodies:
        embedding_dimension_is(body, width)


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


def _unlike(width: int | None) -> int:
    """A ``dimensions`` value other than the model's own width, when it is known."""
    if width is None:
        return DIMENSIONS
    return width // 2 if width >= 2 else DIMENSIONS


def _width_of(body: Any) -> int:
    return len(body["data"][0]["embedding"])


@pytest.mark.requirement("EMB-012")
@pytest.mark.spend(requests=2, tokens=12)
def test_dimensions_is_honoured_or_rejected_with_400_never_ignored(
    api: SuiteClient, target_config: TargetConfig, record: RequirementRecorder
) -> None:
    model = _model(target_config)
    width = target_config.embeddings_dimensions
    asked = _unlike(width)
    response = _embed(api, model, list(PAIR), dimensions=asked)
    status_is(response, (200, 400))
    if response.status_code == 400:
        refused(record, response, 400, "invalid_request", "EMB-012")
        record.note(f"{model} refuses dimensions={asked} with 400 invalid_request")
        return
    body = _float_list(response)
    embedding_dimension_is(body, asked)
    if width is None:
        # The model's own width is unknown: it may be ``asked`` itself, where an
        # ignored parameter looks honoured. One plain request tells.
        native = _width_of(_float_list(_embed(api, model, list(PAIR))))
        if native == asked:
            asked //= 2
            record.note(f"{model} is {native} wide itself; asked dimensions={asked}")
            again = _embed(api, model, list(PAIR), dimensions=asked)
            status_is(again, (200, 400))
            if again.status_code == 400:
                refused(record, again, 400, "invalid_request", "EMB-012")
                return
            embedding_dimension_is(_float_list(again), asked)
    record.note(f"{model} honours dimensions={asked}")


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


@pytest.mark.requirement("EMB-010")
@pytest.mark.spend(requests=1)
@pytest.mark.parametrize("endpoint", ["chat", "images", "transcriptions"])
def test_the_configured_model_of_another_category_is_rejected_with_400_model_not_found(
    api: SuiteClient,
    record: RequirementRecorder,
    target_config: TargetConfig,
    endpoint: str,
) -> None:
    model = target_config.other_category_model(endpoint, "embeddings")
    if model is None:
        pytest.skip(
            f"no {endpoint} model other than the embeddings one configured "
            f"(QBTSUITE_MODELS_{endpoint.upper()})"
        )
    response = _embed(api, model, "hello world")
    refused(record, response, 400, "model_not_found", "EMB-010")


@pytest.mark.requirement("EMB-014")
@pytest.mark.spend(requests=1)
def test_an_unknown_encoding_format_is_rejected_with_400_invalid_request(
    api: SuiteClient, record: RequirementRecorder, target_config: TargetConfig
) -> None:
    response = _embed(api, _model(target_config), "hello world", encoding_format="hex")
    refused(record, response, 400, "invalid_request", "EMB-014")
