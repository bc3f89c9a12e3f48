"""The JSON Schemas: valid 2020-12, accept the spec's examples, locate violations."""

from __future__ import annotations

import copy
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from qbtsuite import schemas
from qbtsuite.resources import data_dir
from qbtsuite.schemas import json_path, schema_names, validate

RESPONSES = (
    "model_list",
    "completion",
    "completion_chunk",
    "chat_completion",
    "chat_completion_chunk",
    "embedding_list_float",
    "embedding_list_base64",
    "images_response",
    "transcription_json",
    "transcription_verbose_json",
    "error",
)
REQUESTS = (
    "completion_request",
    "chat_completion_request",
    "embedding_request",
    "image_request",
    "transcription_request",
)

# -- bodies copied from spec/*.txt ("..." in arrays replaced by numbers) --------------

SPEC_COMPLETION: dict[str, Any] = {
    "id": "cmpl-...",
    "object": "text_completion",
    "created": 1735689600,
    "model": "gpt-oss-120b",
    "choices": [{"text": " Ottawa.", "index": 0, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 6, "completion_tokens": 3, "total_tokens": 9},
}
SPEC_EMBEDDINGS: dict[str, Any] = {
    "object": "list",
    "data": [{"object": "embedding", "embedding": [0.0123, -0.0456], "index": 0}],
    "model": "bge-m3",
    "usage": {"prompt_tokens": 2, "total_tokens": 2},
}
SPEC_IMAGES: dict[str, Any] = {
    "created": 1735689600,
    "data": [{"b64_json": "iVBORw0KGgo...", "url": None}],
}
SPEC_TRANSCRIPTION: dict[str, Any] = {
    "text": "the quick brown fox jumps over the lazy dog",
    "language": "en",
}
SPEC_INVALID_KEY: dict[str, Any] = {
    "error": {
        "message": "Invalid API key",
        "type": "invalid_request_error",
        "code": "invalid_api_key",
    }
}
# OpenAI-shaped bodies for the documents our spec pages do not show.
MODEL_LIST: dict[str, Any] = {
    "object": "list",
    "data": [
        {"id": "bge-m3", "object": "model", "created": 1735689600, "owned_by": "baai"}
    ],
}
CHAT: dict[str, Any] = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1735689600,
    "model": "gpt-oss-120b",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Ottawa.", "refusal": None},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11},
}
CHAT_CHUNK: dict[str, Any] = {
    "id": "chatcmpl-1",
    "object": "chat.completion.chunk",
    "created": 1735689600,
    "model": "gpt-oss-120b",
    "choices": [
        {
            "index": 0,
            "delta": {"role": "assistant", "content": ""},
            "logprobs": None,
            "finish_reason": None,
        }
    ],
}
USAGE_CHUNK: dict[str, Any] = {
    **CHAT_CHUNK,
    "choices": [],
    "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11},
}
COMPLETION_CHUNK: dict[str, Any] = {
    **SPEC_COMPLETION,
    "choices": [{"text": " Ott", "index": 0, "logprobs": None, "finish_reason": None}],
}
COMPLETION_CHUNK.pop("usage")
EMBEDDINGS_B64: dict[str, Any] = {
    **SPEC_EMBEDDINGS,
    "data": [{"object": "embedding", "embedding": "AACAPwAAAEA=", "index": 0}],
}
VERBOSE: dict[str, Any] = {
    "task": "transcribe",
    "language": "english",
    "duration": 8.47,
    "text": "The beach was a popular spot.",
    "segments": [
        {
            "id": 0,
            "seek": 0,
            "start": 0.0,
            "end": 3.32,
            "text": " The beach was a popular spot.",
            "tokens": [50364, 440, 7534],
            "temperature": 0.0,
            "avg_logprob": -0.28,
            "compression_ratio": 1.24,
            "no_speech_prob": 0.01,
        }
    ],
}

EXAMPLES: list[tuple[str, Any]] = [
    ("completion", SPEC_COMPLETION),
    ("embedding_list_float", SPEC_EMBEDDINGS),
    ("embedding_list_base64", EMBEDDINGS_B64),
    ("images_response", SPEC_IMAGES),
    ("transcription_json", SPEC_TRANSCRIPTION),
    ("error", SPEC_INVALID_KEY),
    ("error", {"error": {"message": "x", "type": "api_error", "code": None}}),
    ("model_list", MODEL_LIST),
    ("chat_completion", CHAT),
    ("chat_completion_chunk", CHAT_CHUNK),
    ("chat_completion_chunk", USAGE_CHUNK),
    ("completion_chunk", COMPLETION_CHUNK),
    ("transcription_verbose_json", VERBOSE),
    (
        "completion_request",
        {
            "model": "gpt-oss-120b",
            "prompt": "The capital of Canada is",
            "max_tokens": 16,
        },
    ),
    ("embedding_request", {"model": "bge-m3", "input": "hello world"}),
    ("embedding_request", {"model": "bge-m3", "input": ["one", "two", "three"]}),
    (
        "image_request",
        {
            "model": "stable-diffusion-xl-base-v10",
            "prompt": "a small red apple on a white background",
        },
    ),
    (
        "transcription_request",
        {"model": "whisper-large-v3-turbo", "language": "en", "file": "audio.wav"},
    ),
    (
        "chat_completion_request",
        {
            "model": "gpt-oss-120b",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": [{"type": "text", "text": "Hi"}]},
                {"role": "assistant", "content": None},
            ],
            "stream": True,
            "stream_options": {"include_usage": True},
            "stop": ["\n"],
        },
    ),
]


def test_every_schema_is_a_valid_2020_12_schema() -> None:
    assert set(RESPONSES + REQUESTS) <= set(schema_names())
    for name in schema_names():
        document = schemas.schema(name)
        Draft202012Validator.check_schema(document)
        assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize(("name", "body"), EXAMPLES)
def test_documented_example_bodies_validate(name: str, body: Any) -> None:
    assert validate(name, body) == []
    assert schemas.is_valid(name, body)


@pytest.mark.parametrize("name", sorted({n for n, _ in EXAMPLES if n in RESPONSES}))
def test_response_schemas_accept_extra_keys(name: str) -> None:
    body = dict(next(b for n, b in EXAMPLES if n == name))
    body["x_vendor_extension"] = {"anything": True}
    assert validate(name, body) == []


BROKEN: list[tuple[str, Any, str, str]] = [
    (
        "chat_completion_chunk",
        {
            **CHAT_CHUNK,
            "choices": [{**CHAT_CHUNK["choices"][0], "delta": {"content": 5}}],
        },
        "$.choices[0].delta.content",
        "type",
    ),
    ("error", {"error": {"message": "m", "type": "t"}}, "$.error.code", "required"),
    (
        "completion",
        {
            **SPEC_COMPLETION,
            "choices": [{"text": "", "index": 0, "finish_reason": None}],
        },
        "$.choices[0].finish_reason",
        "enum",
    ),
    (
        "embedding_list_float",
        {**SPEC_EMBEDDINGS, "data": [{**SPEC_EMBEDDINGS["data"][0], "embedding": "x"}]},
        "$.data[0].embedding",
        "type",
    ),
    (
        "embedding_list_base64",
        {
            **EMBEDDINGS_B64,
            "data": [{**EMBEDDINGS_B64["data"][0], "embedding": "@@@@"}],
        },
        "$.data[0].embedding",
        "pattern",
    ),
    (
        "images_response",
        {"created": 1, "data": [{"b64_json": None, "url": None}]},
        "$.data[0].b64_json",
        "type",
    ),
    ("model_list", {**MODEL_LIST, "object": "models"}, "$.object", "const"),
    (
        "transcription_verbose_json",
        {k: v for k, v in VERBOSE.items() if k != "duration"},
        "$.duration",
        "required",
    ),
    (
        "completion_request",
        {"model": "m", "prompt": "p", "temperature": 2.5},
        "$.temperature",
        "maximum",
    ),
    (
        "chat_completion_request",
        {"model": "m", "messages": [{"role": "robot", "content": "x"}]},
        "$.messages[0].role",
        "enum",
    ),
    (
        "chat_completion_request",
        {"model": "m", "messages": [{"role": "user", "content": [{"text": "x"}]}]},
        "$.messages[0].content[0].type",
        "required",
    ),
    (
        "completion_request",
        {"model": "m", "prompt": "p", "stop": ["a", "b", "c", "d", "e"]},
        "$.stop",
        "maxItems",
    ),
    (
        "chat_completion_request",
        {"model": "m", "messages": [{"role": "user"}]},
        "$.messages[0].content",
        "required",
    ),
]


@pytest.mark.parametrize(("name", "body", "path", "keyword"), BROKEN)
def test_broken_bodies_fail_at_the_offending_json_path(
    name: str, body: Any, path: str, keyword: str
) -> None:
    violations = validate(name, body)
    assert (path, keyword) in [(v.path, v.keyword) for v in violations], violations


def test_every_violation_is_reported_not_only_the_first() -> None:
    violations = validate("error", {"error": {"type": 7}})
    assert [v.path for v in violations] == [
        "$.error.code",
        "$.error.message",
        "$.error.type",
    ]
    assert str(violations[0]) == "$.error.code: 'code' is a required property"


def test_a_union_with_no_fitting_alternative_says_what_each_wanted() -> None:
    chunk = {
        **COMPLETION_CHUNK,
        "choices": [{"text": "", "index": 0, "finish_reason": "done"}],
    }
    [violation] = validate("completion_chunk", chunk)
    assert violation.path == "$.choices[0].finish_reason"
    assert "is not one of ['stop', 'length', 'content_filter']" in violation.message
    assert "is not of type 'null'" in violation.message


def test_violation_messages_are_bounded_for_huge_instances() -> None:
    body = {
        **SPEC_EMBEDDINGS,
        "data": [{"object": "embedding", "index": 0, "embedding": "A" * 99_999 + "@"}],
    }
    [violation] = validate("embedding_list_base64", body)
    assert len(violation.message) <= 240


def test_json_path_quotes_keys_that_are_not_identifiers() -> None:
    assert json_path(["choices", 0, "delta"]) == "$.choices[0].delta"
    assert json_path(["a-b", 2]) == '$["a-b"][2]'


def test_unknown_schema_name_lists_the_known_ones() -> None:
    with pytest.raises(KeyError, match="chat_completion_chunk"):
        schemas.schema("chat_chunk")


def test_validator_is_built_once_per_schema() -> None:
    assert schemas.validator("completion") is schemas.validator("completion")


def test_resolve_follows_references_across_documents() -> None:
    stop = schemas.schema("chat_completion_request")["properties"]["stop"]
    resolved = schemas.resolve("chat_completion_request", stop)
    assert [branch.get("type") for branch in resolved["anyOf"]] == [
        "string",
        "array",
        "null",
    ]


def test_schema_digest_is_stable_and_changes_with_the_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = schemas.schema_digest()
    assert original == schemas.schema_digest()
    assert len(original) == 64
    copy = tmp_path / "schemas"
    shutil.copytree(data_dir("schemas"), copy)
    monkeypatch.setattr("qbtsuite.schemas.data_dir", lambda name: tmp_path / name)
    assert schemas.schema_digest() == original
    (copy / "error.json").write_text("{}", encoding="utf-8")
    assert schemas.schema_digest() != original


# -- optional members may be absent or null; required ones stay non-null ----------------

# Required members the documents themselves allow to be null (schemas/README.md).
REQUIRED_AND_NULLABLE = {
    ("chat_completion", "/$defs/message/properties/content"),
    ("chat_completion_chunk", "/properties/choices/items/properties/finish_reason"),
    ("completion_chunk", "/properties/choices/items/properties/finish_reason"),
    ("error", "/properties/error/properties/code"),
}
# Optional members that stay non-null: a boolean the reference server reads strictly,
# and the multipart form, whose parts are text (schemas/README.md).
OPTIONAL_NOT_NULLABLE = {
    ("completion_request", "/$defs/stream_options/properties/include_usage"),
}
NOT_JSON = {"transcription_request"}
# The suite's own file format, not an API document: the rule is about what gateways send.
NOT_API = {"results.schema"}


def _members(node: Any, pointer: str = "") -> Iterator[tuple[str, bool]]:
    """(JSON pointer, required) of every declared member, anywhere in a document."""
    if isinstance(node, dict):
        required = set(node.get("required", []))
        for name in (
            node.get("properties", {})
            if isinstance(node.get("properties"), dict)
            else {}
        ):
            yield f"{pointer}/properties/{name}", name in required
        for key, child in node.items():
            yield from _members(child, f"{pointer}/{key}")
    elif isinstance(node, list):
        for i, child in enumerate(node):
            yield from _members(child, f"{pointer}/{i}")


def _accepts_null(name: str, pointer: str) -> bool:
    ref = {"$ref": f"{schemas.schema(name)['$id']}#{pointer}"}
    return bool(Draft202012Validator(ref, registry=schemas.registry()).is_valid(None))


MEMBERS = [
    (name, pointer, required)
    for name in sorted(set(schema_names()) - NOT_JSON - NOT_API)
    for pointer, required in _members(schemas.schema(name))
]


@pytest.mark.parametrize(
    ("name", "pointer", "required"), MEMBERS, ids=[f"{n}{p}" for n, p, _ in MEMBERS]
)
def test_optional_members_accept_null_and_required_ones_refuse_it(
    name: str, pointer: str, required: bool
) -> None:
    if required:
        expected = (name, pointer) in REQUIRED_AND_NULLABLE
    else:
        expected = (name, pointer) not in OPTIONAL_NOT_NULLABLE
    assert _accepts_null(name, pointer) == expected, (
        f"Received: {name}.json#{pointer} {'accepts' if not expected else 'refuses'} "
        f"null\nExpected: a {'required' if required else 'optional'} member "
        f"{'accepting' if expected else 'refusing'} null"
    )


def test_the_member_walk_sees_the_members_that_matter() -> None:
    seen = {(n, p) for n, p, _ in MEMBERS}
    assert ("chat_completion", "/$defs/message/properties/tool_calls") in seen
    assert ("chat_completion", "/properties/usage") in seen
    assert ("common", "/$defs/usage/properties/prompt_tokens") in seen
    assert REQUIRED_AND_NULLABLE | OPTIONAL_NOT_NULLABLE <= seen


def _with(body: dict[str, Any], path: tuple[str | int, ...], value: Any) -> Any:
    out: Any = copy.deepcopy(body)
    parent = out
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = value
    return out


MESSAGE = ("choices", 0, "message")
DELTA = ("choices", 0, "delta")
NULL_OPTIONALS: list[tuple[str, Any, tuple[str | int, ...]]] = [
    ("chat_completion", CHAT, (*MESSAGE, "tool_calls")),
    ("chat_completion", CHAT, (*MESSAGE, "function_call")),
    ("chat_completion", CHAT, (*MESSAGE, "audio")),
    ("chat_completion", CHAT, (*MESSAGE, "annotations")),
    ("chat_completion", CHAT, (*MESSAGE, "refusal")),
    ("chat_completion", CHAT, ("choices", 0, "logprobs")),
    ("chat_completion", CHAT, ("system_fingerprint",)),
    ("chat_completion", CHAT, ("usage",)),
    ("chat_completion", CHAT, ("usage", "completion_tokens_details")),
    ("chat_completion_chunk", CHAT_CHUNK, (*DELTA, "role")),
    ("chat_completion_chunk", CHAT_CHUNK, (*DELTA, "tool_calls")),
    ("chat_completion_chunk", CHAT_CHUNK, (*DELTA, "function_call")),
    ("chat_completion_chunk", CHAT_CHUNK, ("obfuscation",)),
    ("chat_completion_chunk", CHAT_CHUNK, ("usage",)),
    ("completion", SPEC_COMPLETION, ("usage",)),
    ("completion", SPEC_COMPLETION, ("system_fingerprint",)),
    ("completion_chunk", COMPLETION_CHUNK, ("usage",)),
    ("transcription_json", SPEC_TRANSCRIPTION, ("language",)),
    ("transcription_verbose_json", VERBOSE, ("segments",)),
    ("transcription_verbose_json", VERBOSE, ("task",)),
    ("images_response", SPEC_IMAGES, ("data", 0, "url")),
    ("error", SPEC_INVALID_KEY, ("error", "param")),
]


@pytest.mark.parametrize(("name", "body", "path"), NULL_OPTIONALS)
def test_a_null_optional_member_is_valid(
    name: str, body: dict[str, Any], path: tuple[str | int, ...]
) -> None:
    assert validate(name, _with(body, path, None)) == []


def test_a_gateway_reply_with_null_tool_calls_and_a_fingerprint_is_valid() -> None:
    reply = _with(CHAT, MESSAGE, {
        "role": "assistant", "content": "Ottawa.", "refusal": None,
        "tool_calls": None, "function_call": None, "audio": None,
    })  # fmt: skip
    reply["system_fingerprint"] = "fp_44709d6fcb"
    reply["usage"] = {
        **CHAT["usage"],
        "prompt_tokens_details": {"cached_tokens": None, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": None},
    }
    assert validate("chat_completion", reply) == []


NULL_REQUIRED: list[tuple[str, Any, tuple[str | int, ...]]] = [
    ("chat_completion", CHAT, ("id",)),
    ("chat_completion", CHAT, ("choices",)),
    ("chat_completion", CHAT, ("choices", 0, "finish_reason")),
    ("chat_completion", CHAT, ("choices", 0, "index")),
    ("chat_completion", CHAT, (*MESSAGE, "role")),
    ("chat_completion", CHAT, ("usage", "total_tokens")),
    ("chat_completion_chunk", CHAT_CHUNK, ("created",)),
    ("chat_completion_chunk", CHAT_CHUNK, ("choices", 0, "delta")),
    ("completion", SPEC_COMPLETION, ("choices", 0, "text")),
    ("completion", SPEC_COMPLETION, ("choices", 0, "finish_reason")),
    ("completion_chunk", COMPLETION_CHUNK, ("model",)),
    ("embedding_list_float", SPEC_EMBEDDINGS, ("usage",)),
    ("embedding_list_base64", EMBEDDINGS_B64, ("data", 0, "embedding")),
    ("model_list", MODEL_LIST, ("data", 0, "owned_by")),
    ("images_response", SPEC_IMAGES, ("created",)),
    ("transcription_json", SPEC_TRANSCRIPTION, ("text",)),
    ("transcription_verbose_json", VERBOSE, ("duration",)),
    ("error", SPEC_INVALID_KEY, ("error", "message")),
]


@pytest.mark.parametrize(("name", "body", "path"), NULL_REQUIRED)
def test_a_null_required_member_fails_at_its_path(
    name: str, body: dict[str, Any], path: tuple[str | int, ...]
) -> None:
    violations = validate(name, _with(body, path, None))
    assert json_path(path) in [v.path for v in violations], violations
