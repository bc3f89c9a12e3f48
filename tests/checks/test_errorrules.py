"""Error-format requirements judged one by one, and errors that must not be streams."""

from __future__ import annotations

import pytest

from qbtsuite.checks import (
    ERROR_FORMAT_REQUIREMENTS,
    declines_in_an_envelope,
    error_body_is_envelope,
    error_member_present,
    error_not_streamed,
    error_requirement_checks,
    model_list_has_ids,
    refused_with,
)
from qbtsuite.errors import CheckFailure

from .support import error_response, fails, json_response, passes, response


def _failing(resp: object, **kwargs: object) -> list[str]:
    """The ids whose planned step raises for ``resp``."""
    out = []
    for rid, step in error_requirement_checks(resp, **kwargs):  # type: ignore[arg-type]
        try:
            step()
        except CheckFailure:
            out.append(rid)
    return out


def test_a_documented_error_is_planned_for_every_error_format_requirement() -> None:
    resp = error_response(401, "invalid_api_key")
    planned = [rid for rid, _ in error_requirement_checks(resp)]
    assert planned == list(ERROR_FORMAT_REQUIREMENTS)
    assert _failing(resp) == []


def test_answers_below_400_are_not_judged_as_errors() -> None:
    assert error_requirement_checks(response(308)) == []
    assert error_requirement_checks(json_response({"data": []})) == []


def test_a_plain_text_page_fails_the_content_type_requirement_only() -> None:
    resp = response(401, "Unauthorized", "text/plain")
    planned = [rid for rid, _ in error_requirement_checks(resp)]
    assert planned == ["ERR-002", "ERR-012"]
    assert _failing(resp) == ["ERR-002"]


def test_json_that_is_not_json_fails_the_envelope_requirement() -> None:
    assert _failing(response(401, "Unauthorized", "application/json")) == ["ERR-001"]


def test_a_string_error_fails_the_envelope_but_not_the_content_type() -> None:
    resp = json_response({"error": "Invalid API key"}, 401)
    assert _failing(resp) == ["ERR-001"]


def test_a_wrong_type_fails_the_type_requirements_only() -> None:
    resp = error_response(401, "invalid_api_key", error_type="error")
    assert _failing(resp) == ["ERR-003", "ERR-004"]


def test_a_documented_code_with_the_wrong_status_fails_the_code_requirement() -> None:
    resp = error_response(403, "invalid_api_key")
    assert _failing(resp) == ["ERR-005"]


def test_skipped_ids_are_left_out_of_the_plan() -> None:
    resp = error_response(404, "model_not_found")
    assert _failing(resp) == ["ERR-005"]
    assert _failing(resp, skip={"ERR-005"}) == []


def test_a_retry_hint_on_a_client_error_is_caught() -> None:
    resp = error_response(400, "invalid_request", headers={"x-should-retry": "true"})
    assert _failing(resp) == ["ERR-012"]


def test_error_body_is_envelope_ignores_the_content_type() -> None:
    passes(
        error_body_is_envelope,
        response(
            401,
            '{"error": {"message": "m", "type": "t", "code": "c"}}',
            "text/plain",
        ),
    )
    failure = fails(error_body_is_envelope, response(401, "Unauthorized", "text/plain"))
    assert "not JSON" in failure.received


@pytest.mark.parametrize(
    "resp",
    [
        error_response(401, "invalid_api_key"),
        response(400, "bad", "text/plain"),
    ],
)
def test_an_error_status_that_is_not_an_event_stream_is_not_streamed(
    resp: object,
) -> None:
    passes(error_not_streamed, resp)


def test_a_200_event_stream_or_an_error_status_streamed_is_caught() -> None:
    failure = fails(
        error_not_streamed, response(200, "data: {}\n\n", "text/event-stream")
    )
    assert failure.received.startswith("200 text/event-stream")
    fails(error_not_streamed, response(401, "data: {}\n\n", "text/event-stream"))


def test_model_list_has_ids_needs_a_data_array_of_string_ids() -> None:
    passes(model_list_has_ids, {"object": "models", "data": [{"id": "a"}]})
    passes(model_list_has_ids, {"data": []})
    failure = fails(model_list_has_ids, {"data": [{"id": "a"}, {"name": "b"}, "c"]})
    assert "$.data[1]" in failure.received and "$.data[2]" in failure.received
    fails(model_list_has_ids, {"models": []})
    fails(model_list_has_ids, [{"id": "a"}])


@pytest.mark.parametrize(
    "resp",
    [
        error_response(401, "invalid_api_key"),
        json_response({"error": {"message": "m", "type": "t"}}, 401),  # no code
        json_response({"error": "Invalid API key"}, 401),
        response(401, "Unauthorized", "text/plain"),
    ],
)
def test_refused_with_leaves_a_missing_envelope_to_the_error_requirements(
    resp: object,
) -> None:
    passes(refused_with, resp, 401, "invalid_api_key")


def test_refused_with_catches_a_wrong_status_or_a_wrong_code() -> None:
    failure = fails(refused_with, error_response(403, "invalid_api_key"), 401, "c")
    assert failure.received.startswith("403 application/json")
    failure = fails(
        refused_with, error_response(401, "unauthorized"), 401, "invalid_api_key"
    )
    assert failure.title == "Unexpected error code"
    assert failure.expected == "401 with code invalid_api_key"


def test_error_member_present_needs_json_with_an_error_member() -> None:
    passes(error_member_present, json_response({"error": "Not found"}, 404))
    passes(error_member_present, error_response(404, "not_found"))
    failure = fails(
        error_member_present, response(404, "<h1>404 Not Found</h1>", "text/html")
    )
    assert "text/html" in failure.received
    fails(error_member_present, json_response({"detail": "Not Found"}, 404))


def test_declines_in_an_envelope_accepts_an_incomplete_envelope_but_not_html() -> None:
    assert declines_in_an_envelope(error_response(404, "not_found"))
    no_code = json_response({"error": {"message": "Unknown path", "type": "t"}}, 404)
    assert declines_in_an_envelope(no_code)
    assert not declines_in_an_envelope(response(404, "<h1>404</h1>", "text/html"))
    assert not declines_in_an_envelope(json_response({"error": "x"}, 500))
    assert not declines_in_an_envelope(error_response(401, "invalid_api_key"))
