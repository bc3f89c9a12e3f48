"""The negative-case generator: deterministic, bounded, and every case really invalid."""

from __future__ import annotations

import json
from typing import Any

import pytest

from qbtsuite import schemas
from qbtsuite.payloads.negative import ENDPOINTS, NegativeCase, negative_cases

BASES: list[tuple[str, dict[str, Any]]] = [
    ("completions", {"model": "gpt-oss-20b", "prompt": "Hi", "max_tokens": 4}),
    ("completions", {"model": "gpt-oss-20b", "prompt": ["a", "b"], "stop": "\n"}),
    (
        "chat",
        {
            "model": "gpt-oss-20b",
            "messages": [{"role": "user", "content": "Hi"}],
            "max_tokens": 4,
        },
    ),
    (
        "chat",
        {
            "model": "gpt-oss-20b",
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "Hi"}]},
                {"role": "assistant", "content": None},
            ],
            "stream": True,
            "stream_options": {"include_usage": True},
            "stop": ["a", "b"],
        },
    ),
    ("embeddings", {"model": "bge-m3", "input": "hello"}),
    ("embeddings", {"model": "bge-m3", "input": ["one", "two"], "dimensions": 8}),
    ("images", {"model": "stable-diffusion-xl-base-v10", "prompt": "an apple"}),
    ("transcriptions", {"model": "whisper-large-v3-turbo", "file": "a.wav"}),
]
OTHER_MODEL = {
    "completions": "bge-m3",
    "chat": "bge-m3",
    "embeddings": "gpt-oss-20b",
    "images": "bge-m3",
    "transcriptions": "bge-m3",
}


def cases_for(
    endpoint: str, base: dict[str, Any], cap: int = 1000
) -> list[NegativeCase]:
    return negative_cases(
        endpoint, base, other_category_model=OTHER_MODEL[endpoint], cap=cap
    )


def all_cases() -> list[NegativeCase]:
    return [c for endpoint, base in BASES for c in cases_for(endpoint, base)]


def json_path_of(field: str) -> str:
    return "$." + field


@pytest.mark.parametrize(("endpoint", "base"), BASES)
def test_same_input_gives_the_same_cases(endpoint: str, base: dict[str, Any]) -> None:
    first = cases_for(endpoint, base)
    second = cases_for(endpoint, json.loads(json.dumps(base)))
    assert first == second
    assert [c.id for c in first] == [c.id for c in second]


@pytest.mark.parametrize(("endpoint", "base"), BASES)
def test_generation_leaves_the_base_body_untouched(
    endpoint: str, base: dict[str, Any]
) -> None:
    before = json.dumps(base, sort_keys=True)
    cases_for(endpoint, base)
    assert json.dumps(base, sort_keys=True) == before


@pytest.mark.parametrize(("endpoint", "base"), BASES)
def test_every_schema_case_violates_the_schema_at_its_field(
    endpoint: str, base: dict[str, Any]
) -> None:
    schema_cases = [c for c in cases_for(endpoint, base) if c.violates_schema]
    assert schema_cases
    for case in schema_cases:
        assert case.field is not None
        violations = schemas.validate(ENDPOINTS[endpoint], case.body)
        paths = [v.path for v in violations]
        assert json_path_of(case.field) in paths, (case.id, paths)
        assert (case.expected_status, case.expected_code) == (400, "invalid_request")


@pytest.mark.parametrize(("endpoint", "base"), BASES)
def test_model_cases_differ_from_the_base_only_in_the_model(
    endpoint: str, base: dict[str, Any]
) -> None:
    model_cases = {c.kind: c for c in cases_for(endpoint, base) if c.field == "model"}
    for kind, model in [
        ("unknown", "qbtsuite-no-such-model"),
        ("wrong_category", OTHER_MODEL[endpoint]),
    ]:
        case = model_cases[kind]
        assert case.body == {**base, "model": model}
        assert (case.expected_status, case.expected_code) == (400, "model_not_found")
        assert schemas.is_valid(ENDPOINTS[endpoint], case.body)


def test_ids_are_unique_across_all_endpoints() -> None:
    ids = [c.id for endpoint, base in BASES[::2] for c in cases_for(endpoint, base)]
    assert len(ids) == len(set(ids))
    for endpoint, base in BASES:
        per_base = [c.id for c in cases_for(endpoint, base)]
        assert len(per_base) == len(set(per_base))


@pytest.mark.parametrize("cap", [0, 1, 5, 12])
def test_the_cap_bounds_the_number_of_cases(cap: int) -> None:
    endpoint, base = BASES[2]
    capped = cases_for(endpoint, base, cap=cap)
    assert len(capped) == cap
    assert capped == cases_for(endpoint, base)[:cap]


def test_default_cap_bounds_every_endpoint() -> None:
    for endpoint, base in BASES:
        assert 0 < len(negative_cases(endpoint, base)) <= 100


def test_expected_case_families_are_present_for_chat() -> None:
    ids = {c.id for c in cases_for(*BASES[3])}
    expected = {
        "chat.model.missing",
        "chat.messages.missing",
        "chat.temperature.above_maximum",
        "chat.temperature.below_minimum",
        "chat.n.above_maximum",
        "chat.top_p.wrong_type",
        "chat.messages.too_few_items",
        "chat.stop.too_many_items",
        "chat.messages[0].role.not_in_enum",
        "chat.messages[0].content.missing",
        "chat.messages[0].content[0].type.missing",
        "chat.stream_options.include_usage.wrong_type",
        "chat.body.malformed_json",
        "chat.body.empty",
        "chat.body.json_array",
        "chat.content_type.text_plain",
        "chat.content_type.missing",
        "chat.model.unknown",
        "chat.model.wrong_category",
    }
    assert expected <= ids, sorted(expected - ids)


def test_wrong_types_follow_the_declared_type() -> None:
    by_id = {c.id: c for c in cases_for(*BASES[2])}
    assert by_id["chat.model.wrong_type"].body["model"] == 1
    assert by_id["chat.max_tokens.wrong_type"].body["max_tokens"] == "4"
    assert by_id["chat.stream.wrong_type"].body["stream"] == "true"
    assert by_id["chat.messages.wrong_type"].body["messages"] == {}
    assert by_id["chat.stream_options.wrong_type"].body["stream_options"] == []


def test_bounds_are_crossed_just_outside() -> None:
    by_id = {c.id: c for c in cases_for(*BASES[0])}
    assert by_id["completions.temperature.above_maximum"].body["temperature"] == 2.5
    assert by_id["completions.top_p.below_minimum"].body["top_p"] == -0.5
    assert by_id["completions.n.above_maximum"].body["n"] == 129
    assert by_id["completions.max_tokens.below_minimum"].body["max_tokens"] == -1
    assert len(by_id["completions.stop.too_many_items"].body["stop"]) == 5


def test_transport_cases_carry_exact_bytes_and_headers() -> None:
    by_id = {c.id: c for c in cases_for(*BASES[4])}
    malformed = by_id["embeddings.body.malformed_json"]
    with pytest.raises(json.JSONDecodeError):
        json.loads(malformed.content())
    assert by_id["embeddings.body.empty"].content() == b""
    assert isinstance(json.loads(by_id["embeddings.body.json_array"].content()), list)
    assert by_id["embeddings.content_type.text_plain"].headers() == {
        "Content-Type": "text/plain"
    }
    assert by_id["embeddings.content_type.missing"].headers() == {}
    assert not any(c.violates_schema for c in by_id.values() if c.raw is not None)


def test_multipart_cases_only_break_what_survives_form_encoding() -> None:
    cases = cases_for(*BASES[-1])
    by_id = {c.id: c for c in cases}
    assert all(c.encoding == "multipart" for c in cases)
    # Every form value is text: a "wrong type" for a string field does not exist.
    assert "transcriptions.model.wrong_type" not in by_id
    assert "transcriptions.language.wrong_type" not in by_id
    wrong = by_id["transcriptions.temperature.wrong_type"]
    assert wrong.form_fields()["temperature"] == "one"
    assert (
        by_id["transcriptions.temperature.above_maximum"].form_fields()["temperature"]
        == "1.5"
    )
    assert "file" not in by_id["transcriptions.file.missing"].body
    assert by_id["transcriptions.content_type.json"].content_type == "application/json"
    assert "transcriptions.body.malformed_json" not in by_id


def test_mutations_the_schema_still_accepts_are_dropped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = schemas.is_valid

    def tolerant(name: str, body: Any) -> bool:
        if isinstance(body, dict) and body.get("temperature") == 2.5:
            return True  # as if a union accepted the out-of-range value
        return original(name, body)

    monkeypatch.setattr("qbtsuite.schemas.is_valid", tolerant)
    ids = {c.id for c in cases_for(*BASES[0])}
    assert "completions.temperature.above_maximum" not in ids
    assert "completions.temperature.below_minimum" in ids


def test_an_invalid_base_body_is_refused() -> None:
    with pytest.raises(ValueError, match="invalid"):
        negative_cases("chat", {"model": "m"})
