"""Reading JSON bodies and the options both text endpoints share.

Every rejection is 400 ``invalid_request`` ("Body failed validation", spec error
tables), and a rejected field is named in ``param`` (OpenAI's error field).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.server.apicheck import expect_error, expect_ok

BODIES: dict[str, dict[str, Any]] = {
    "completions": {"model": "gpt-oss-20b", "prompt": "hi", "max_tokens": 3},
    "chat/completions": {
        "model": "gpt-oss-20b",
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 3,
    },
    "embeddings": {"model": "bge-m3", "input": "hi"},
}
TEXT_PATHS = ["completions", "chat/completions"]
ALL_PATHS = sorted(BODIES)


@pytest.mark.parametrize("path", ALL_PATHS)
@pytest.mark.parametrize(
    "content", [b"{not json", b'{"model": "x",}', b"{", b"\xff\xfe{}", b"nul"]
)
def test_malformed_json_is_400_invalid_request(
    api: httpx.Client, path: str, content: bytes
) -> None:
    response = api.post(
        path, content=content, headers={"Content-Type": "application/json"}
    )
    expect_error(response, 400, "invalid_request", "invalid_request_error")


@pytest.mark.parametrize("path", ALL_PATHS)
@pytest.mark.parametrize("content", [b"", b"   \n"])
def test_an_empty_body_is_400_invalid_request(
    api: httpx.Client, path: str, content: bytes
) -> None:
    response = api.post(
        path, content=content, headers={"Content-Type": "application/json"}
    )
    expect_error(response, 400, "invalid_request")


@pytest.mark.parametrize("path", ALL_PATHS)
@pytest.mark.parametrize(
    "content", [b"[]", b'[{"model": "gpt-oss-20b"}]', b'"hi"', b"3"]
)
def test_a_json_body_that_is_not_an_object_is_400_invalid_request(
    api: httpx.Client, path: str, content: bytes
) -> None:
    response = api.post(
        path, content=content, headers={"Content-Type": "application/json"}
    )
    expect_error(response, 400, "invalid_request")


@pytest.mark.parametrize("path", ALL_PATHS)
@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", None],
)
def test_a_wrong_or_missing_content_type_is_400_invalid_request(
    api: httpx.Client, path: str, content_type: str | None
) -> None:
    request = api.build_request("POST", path, json=BODIES[path])
    if content_type is None:
        del request.headers["Content-Type"]
    else:
        request.headers["Content-Type"] = content_type
    expect_error(api.send(request), 400, "invalid_request")


@pytest.mark.parametrize("path", ALL_PATHS)
@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "Application/JSON"]
)
def test_application_json_with_parameters_or_any_case_is_accepted(
    api: httpx.Client, path: str, content_type: str
) -> None:
    request = api.build_request("POST", path, json=BODIES[path])
    request.headers["Content-Type"] = content_type
    expect_ok(api.send(request))


@pytest.mark.parametrize("path", ALL_PATHS)
@pytest.mark.parametrize("value", [None, "", 5, ["gpt-oss-20b"]])
def test_a_missing_empty_or_non_string_model_is_400_naming_model(
    api: httpx.Client, path: str, value: object
) -> None:
    body = {**BODIES[path], "model": value}
    if value is None:
        del body["model"]
    expect_error(api.post(path, json=body), 400, "invalid_request", param="model")


# field → values rejected on both text endpoints (OpenAI's ranges and types).
INVALID_OPTIONS: list[tuple[str, Any]] = [
    ("n", 0),
    ("n", 129),
    ("n", "2"),
    ("n", 1.5),
    ("n", True),
    ("max_tokens", -1),
    ("max_tokens", "5"),
    ("max_tokens", 2.5),
    ("temperature", -0.1),
    ("temperature", 2.01),
    ("temperature", "hot"),
    ("temperature", True),
    ("top_p", -0.5),
    ("top_p", 1.1),
    ("top_p", [1]),
    ("presence_penalty", 2.5),
    ("frequency_penalty", -3),
    ("seed", "x"),
    ("user", 5),
    ("stop", 5),
    ("stop", [1]),
    ("stop", ["a", "b", "c", "d", "e"]),
    ("stop", {"s": "x"}),
    ("stream", "yes"),
    ("stream", 1),
]


@pytest.mark.parametrize("path", TEXT_PATHS)
@pytest.mark.parametrize(("field", "value"), INVALID_OPTIONS)
def test_an_invalid_option_is_400_invalid_request_naming_the_field(
    api: httpx.Client, path: str, field: str, value: object
) -> None:
    response = api.post(path, json={**BODIES[path], field: value})
    error = expect_error(response, 400, "invalid_request", param=field)
    assert field in error["message"], f"Received: {error['message']!r}"


@pytest.mark.parametrize("path", TEXT_PATHS)
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("temperature", 0),
        ("temperature", 2),
        ("temperature", 0.7),
        ("top_p", 0),
        ("top_p", 1),
        ("top_p", 0.9),
        ("n", 128),
        ("presence_penalty", -2),
        ("frequency_penalty", 2),
        ("seed", 42),
        ("user", "u-1"),
        ("stop", None),
        ("stop", ["a", "b", "c", "d"]),
        ("max_tokens", 0),
    ],
)
def test_an_option_at_or_inside_its_range_is_accepted(
    api: httpx.Client, path: str, field: str, value: object
) -> None:
    expect_ok(api.post(path, json={**BODIES[path], field: value}))


@pytest.mark.parametrize("path", TEXT_PATHS)
def test_stream_options_without_stream_is_400_naming_stream_options(
    api: httpx.Client, path: str
) -> None:
    body = {**BODIES[path], "stream_options": {"include_usage": True}}
    expect_error(
        api.post(path, json=body), 400, "invalid_request", param="stream_options"
    )


@pytest.mark.parametrize("path", TEXT_PATHS)
def test_stream_options_that_is_not_an_object_is_400(
    api: httpx.Client, path: str
) -> None:
    body = {**BODIES[path], "stream": True, "stream_options": "usage"}
    expect_error(
        api.post(path, json=body), 400, "invalid_request", param="stream_options"
    )


@pytest.mark.parametrize("path", TEXT_PATHS)
def test_a_non_boolean_include_usage_is_400_naming_it(
    api: httpx.Client, path: str
) -> None:
    body = {**BODIES[path], "stream": True, "stream_options": {"include_usage": "yes"}}
    expect_error(
        api.post(path, json=body),
        400,
        "invalid_request",
        param="stream_options.include_usage",
    )


@pytest.mark.parametrize("path", TEXT_PATHS)
def test_unknown_passthrough_fields_are_ignored(api: httpx.Client, path: str) -> None:
    # "max_tokens, temperature, top_p, stop, etc. | various | no | Passthrough"
    body = {**BODIES[path], "logit_bias": {"50256": -100}, "metadata": {"k": "v"}}
    expect_ok(api.post(path, json=body))
