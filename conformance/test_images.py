"""Conformance: POST /v1/images/generations (spec/image-generations.txt).

Every image is judged by its bytes: decoded with Pillow at the requested size, its
format read from the file signature, and a ``url`` fetched as the user's application
would fetch it: a plain GET, never with the API key (qbtsuite.harness.imageurls). A
url on a reserved name, a name that does not resolve or an HTTP error answer fails
with that evidence; a network error on the way to a real host is an ``error``;
``--no-fetch-urls`` skips the fetch with the reason. Images are small (256x256) and
few (n ≤ 2): the endpoint is billed per image.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

import pytest

from qbtsuite.checks import (
    content_type_is_json,
    image_decodes_at,
    images_carry_data,
    images_count_is,
    images_decode_at,
    response_conforms_to_schema,
    status_is,
)
from qbtsuite.errors import CheckFailure
from qbtsuite.harness.imageurls import (
    FETCHES_OFF,
    fetch_image_url,
    url_judged_unfetched,
)
from qbtsuite.harness.recording import RequirementRecorder
from qbtsuite.harness.verdicts import refused
from qbtsuite.target.client import SuiteClient
from qbtsuite.target.config import TargetConfig
from qbtsuite.target.exchange import Exchange

# Every check here needs the endpoint itself: the capability "images".
pytestmark = pytest.mark.capability("images")

PATH = "images/generations"
PROMPT = "a small red apple on a white background"
SIZE = "256x256"
UNKNOWN_MODEL = "qbtsuite-no-such-model"


def _model(target_config: TargetConfig) -> str:
    model = target_config.model("images")
    if not model:
        pytest.skip(
            "no image model configured (QBTSUITE_MODELS_IMAGES or [models] images)"
        )
    return model


def _generate(api: SuiteClient, model: Any, **fields: Any) -> Exchange:
    body = {"model": model, "prompt": PROMPT, "size": SIZE, **fields}
    return api.request("POST", PATH, json=body)


def _images(exchange: Exchange) -> Any:
    """200 with an ImagesResponse valid against its schema; the decoded body."""
    status_is(exchange, 200)
    content_type_is_json(exchange)
    response_conforms_to_schema(exchange, "images_response")
    return exchange.json()


def _url_only(item: Any) -> bool:
    return not (isinstance(item, Mapping) and isinstance(item.get("b64_json"), str))


def _delivered_as_urls(body: Any) -> bool:
    """Every item well formed, and some of them only reachable by their url."""
    try:
        images_carry_data(body)
    except CheckFailure:
        return False
    return any(map(_url_only, body["data"]))


def _item_bytes(api: SuiteClient, item: Any, where: str) -> bytes:
    """The image an item carries: decoded ``b64_json``, else the fetched ``url``."""
    if not _url_only(item):
        try:
            return base64.b64decode(item["b64_json"], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise CheckFailure(
                title="Image does not decode",
                received=f"{where}.b64_json: not base64 ({exc})",
                expected="base64 of an image file",
            ) from None
    url = str(item.get("url")) if isinstance(item, Mapping) else ""
    return fetch_image_url(api, url, f"{where}.url").data


# ─── successful requests ─────────────────────────────────────────────────────


@pytest.mark.requirement("IMG-001", "IMG-002", "IMG-005")
@pytest.mark.spend(requests=2, images=1)
def test_a_generation_answers_created_and_one_usable_image_by_default(
    api: SuiteClient, target_config: TargetConfig, record: RequirementRecorder
) -> None:
    response = _generate(api, _model(target_config))
    status_is(response, 200)
    content_type_is_json(response)
    body = response.json()
    with record.check("IMG-001"):
        response_conforms_to_schema(response, "images_response")
        images_carry_data(body)
    with record.check("IMG-002"):
        images_count_is(body, 1)
    if not target_config.fetch_urls and _delivered_as_urls(body):
        try:  # a url's host can prove the failure without a fetch
            for i, item in enumerate(body["data"]):
                if _url_only(item):
                    where = f"$.data[{i}].url"
                    url_judged_unfetched(str(item["url"]), api.config.base_url, where)
        except CheckFailure as failure:
            with record.check("IMG-005"):
                raise failure
        else:
            record.skipped("IMG-005", FETCHES_OFF)
        return
    with record.check("IMG-005"):
        images_carry_data(body)
        for i, item in enumerate(body["data"]):
            where = f"$.data[{i}]"
            image_decodes_at(_item_bytes(api, item, where), where=where)


@pytest.mark.requirement("IMG-002", "IMG-003")
@pytest.mark.spend(requests=1, images=2)
def test_n_2_yields_two_images_as_b64_json_that_decode(
    api: SuiteClient, target_config: TargetConfig, record: RequirementRecorder
) -> None:
    response = _generate(api, _model(target_config), n=2, response_format="b64_json")
    body = _images(response)
    with record.check("IMG-002"):
        images_count_is(body, 2)
    with record.check("IMG-003"):
        images_decode_at(body)


@pytest.mark.requirement("IMG-004")
@pytest.mark.spend(requests=2, images=1)
def test_response_format_url_gives_absolute_urls_that_serve_the_image(
    api: SuiteClient, target_config: TargetConfig
) -> None:
    body = _images(_generate(api, _model(target_config), response_format="url"))
    images_carry_data(body, "url")
    if not target_config.fetch_urls:
        for i, item in enumerate(body["data"]):  # a host can prove it unfetched
            url_judged_unfetched(item["url"], api.config.base_url, f"$.data[{i}].url")
        pytest.skip(FETCHES_OFF)
    for i, item in enumerate(body["data"]):
        where = f"$.data[{i}].url"
        fetched = fetch_image_url(api, item["url"], where)
        image_decodes_at(fetched.data, where=f"GET {where}")


@pytest.mark.requirement("IMG-006")
@pytest.mark.spend(requests=1, images=1)
@pytest.mark.parametrize("size", ["256x256", "512x512"])
def test_size_yields_images_of_exactly_that_many_pixels(
    api: SuiteClient, target_config: TargetConfig, size: str
) -> None:
    response = _generate(
        api, _model(target_config), size=size, response_format="b64_json"
    )
    images_decode_at(_images(response), size=size)


@pytest.mark.requirement("IMG-007")
@pytest.mark.spend(requests=1, images=1)
@pytest.mark.parametrize("output_format", ["png", "jpeg"])
def test_output_format_yields_files_with_that_format_signature(
    api: SuiteClient, target_config: TargetConfig, output_format: str
) -> None:
    response = _generate(
        api,
        _model(target_config),
        output_format=output_format,
        response_format="b64_json",
    )
    images_decode_at(_images(response), output_format=output_format)


# ─── rejected requests ───────────────────────────────────────────────────────


@pytest.mark.requirement("IMG-008")
@pytest.mark.spend(requests=1)
@pytest.mark.parametrize("missing", ["model", "prompt"])
def test_a_request_without_model_or_prompt_is_rejected_with_400_invalid_request(
    api: SuiteClient,
    record: RequirementRecorder,
    target_config: TargetConfig,
    missing: str,
) -> None:
    body = {"model": _model(target_config), "prompt": PROMPT, "size": SIZE}
    del body[missing]
    refused(
        record, api.request("POST", PATH, json=body), 400, "invalid_request", "IMG-008"
    )


WRONG_TYPES: dict[str, tuple[str, Any]] = {
    "prompt-number": ("prompt", 42),
    "n-string": ("n", "two"),
    "size-number": ("size", 256),
}


@pytest.mark.requirement("IMG-009")
@pytest.mark.spend(requests=1)
@pytest.mark.parametrize("case", sorted(WRONG_TYPES))
def test_a_field_of_the_wrong_type_is_rejected_with_400_invalid_request(
    api: SuiteClient,
    record: RequirementRecorder,
    target_config: TargetConfig,
    case: str,
) -> None:
    field, value = WRONG_TYPES[case]
    response = _generate(api, _model(target_config), **{field: value})
    refused(record, response, 400, "invalid_request", "IMG-009")


INVALID_VALUES: dict[str, tuple[str, Any]] = {
    "n-0": ("n", 0),
    "size-big": ("size", "big"),
    "response_format-gif": ("response_format", "gif"),
    "output_format-bmp": ("output_format", "bmp"),
}


@pytest.mark.requirement("IMG-010")
@pytest.mark.spend(requests=1)
@pytest.mark.parametrize("case", sorted(INVALID_VALUES))
def test_an_invalid_value_is_rejected_with_400_invalid_request_not_a_5xx(
    api: SuiteClient,
    record: RequirementRecorder,
    target_config: TargetConfig,
    case: str,
) -> None:
    field, value = INVALID_VALUES[case]
    response = _generate(api, _model(target_config), **{field: value})
    refused(record, response, 400, "invalid_request", "IMG-010")


@pytest.mark.requirement("IMG-011")
@pytest.mark.spend(requests=1)
def test_an_unknown_model_is_rejected_with_400_model_not_found(
    api: SuiteClient,
    record: RequirementRecorder,
) -> None:
    refused(record, _generate(api, UNKNOWN_MODEL), 400, "model_not_found", "IMG-011")


@pytest.mark.requirement("IMG-012")
@pytest.mark.spend(requests=1)
@pytest.mark.parametrize("endpoint", ["chat", "embeddings", "transcriptions"])
def test_the_configured_model_of_another_category_is_rejected_with_400_model_not_found(
    api: SuiteClient,
    record: RequirementRecorder,
    target_config: TargetConfig,
    endpoint: str,
) -> None:
    model = target_config.other_category_model(endpoint, "images")
    if model is None:
        pytest.skip(
            f"no {endpoint} model other than the image one configured "
            f"(QBTSUITE_MODELS_{endpoint.upper()})"
        )
    refused(record, _generate(api, model), 400, "model_not_found", "IMG-012")
