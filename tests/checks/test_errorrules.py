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


MEMBERS = ["ERR-003", "ERR-004", "ERR-005", "ERR-006"]


def test_a_plain_text_page_fails_the_content_type_and_every_member_requirement() -> (
    None
):
    resp = response(401, "Unauthorized", "text/plain")
    planned = [rid for rid, _ in error_requirement_checks(resp)]
    assert planned == ["ERR-002", *MEMBERS, "ERR-012"]
    assert _failing(resp) == ["ERR-002", *MEMBERS]


def test_json_that_is_not_json_fails_the_envelope_and_every_member_requirement() -> (
    None
):
    resp = response(401, "Unauthorized", "application/json")
    assert _failing(resp) == ["ERR-001", *MEMBERS]


def test_a_string_error_fails_the_envelope_and_every_member_but_not_the_content_type() -> (
    None
):
    resp = json_response({"error": "Invalid API key"}, 401)
    assert _failing(resp) == ["ERR-001", *MEMBERS]


def test_a_fastapi_detail_body_fails_the_envelope_and_every_member_requirement() -> (
    None
):
    resp = json_response({"detail": "Not authenticated"}, 401)
    assert _failing(resp) == ["ERR-001", *MEMBERS]


def test_an_envelope_without_code_fails_the_envelope_and_the_code_requirements() -> (
    None
):
    body = {"error": {"message": "m", "type": "invalid_request_error", "param": None}}
    assert _failing(json_response(body, 401)) == ["ERR-001", "ERR-005"]


def test_an_envelope_without_param_fails_only_the_param_requirement() -> None:
    error = {"message": "m", "type": "invalid_request_error", "code": "invalid_api_key"}
    assert _failing(json_response({"error": error}, 401)) == ["ERR-006"]


def test_an_answer_outside_the_api_has_its_members_judged_only_when_readable() -> None:
    outside = {"ERR-001", "ERR-002"}
    html = response(404, "<h1>404 Not Found</h1>", "text/html")
    assert [rid for rid, _ in error_requirement_checks(html, skip=outside)] == [
        "ERR-012"
    ]
    wrong = error_response(404, "not_found", error_type="error")
    assert _failing(wrong, skip=outside) == ["ERR-003"]


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


def test_an_error_status_in_the_envelope_is_not_streamed() -> None:
    passes(error_not_streamed, error_response(401, "invalid_api_key"))
    passes(error_not_streamed, json_response({"error": {"message": "m"}}, 400))


@pytest.mark.parametrize(
    "resp",
    [
        response(400, "bad", "text/plain"),
        json_response({"detail": "The model does not exist"}, 400),
    ],
)
def test_an_error_before_the_stream_outside_the_envelope_is_caught(
    resp: object,
) -> None:
    failure = fails(error_not_streamed, resp)
    assert failure.title == "Error before the stream not answered in the error envelope"


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


def test_refused_with_passes_the_documented_refusal() -> None:
    resp = error_response(401, "invalid_api_key")
    passes(refused_with, resp, 401, "invalid_api_key")
    passes(
        refused_with,
        resp,
        401,
        "invalid_api_key",
        error_type="invalid_request_error",
        envelope=True,
    )


def test_refused_with_passes_a_code_in_an_envelope_lacking_another_member() -> None:
    # The statement names the code; the missing message is ERR-001's finding.
    resp = json_response({"error": {"type": "t", "code": "invalid_api_key"}}, 401)
    passes(refused_with, resp, 401, "invalid_api_key")
    fails(refused_with, resp, 401, "invalid_api_key", envelope=True)


@pytest.mark.parametrize(
    ("resp", "shown"),
    [
        (json_response({"detail": "Not authenticated"}, 401), "(no error object)"),
        (json_response({"error": "Invalid API key"}, 401), "(no error object)"),
        (response(401, "Unauthorized", "text/plain"), "(no error object)"),
        (
            json_response({"error": {"message": "m", "type": "t"}}, 401),
            "(error.code missing)",
        ),
    ],
)
def test_refused_with_fails_an_answer_that_does_not_carry_the_named_code(
    resp: object, shown: str
) -> None:
    failure = fails(refused_with, resp, 401, "invalid_api_key")
    assert failure.received.endswith(shown)
    assert failure.expected == "401 with code invalid_api_key in the error envelope"


def test_refused_with_catches_a_wrong_status_a_wrong_code_or_a_wrong_type() -> None:
    failure = fails(refused_with, error_response(403, "invalid_api_key"), 401, "c")
    assert failure.received.startswith("403 application/json")
    failure = fails(
        refused_with, error_response(401, "unauthorized"), 401, "invalid_api_key"
    )
    assert failure.title == "Unexpected error code"
    failure = fails(
        refused_with,
        error_response(502, "upstream_error", error_type="server_error"),
        502,
        "upstream_error",
        error_type="api_error",
    )
    assert failure.title == "Unexpected error type"
    assert failure.expected == (
        "502 with code upstream_error and type api_error in the error envelope"
    )


def test_refused_with_takes_one_of_several_statuses_and_may_name_no_code() -> None:
    passes(refused_with, error_response(400, "invalid_request"), (413, 400), None)
    failure = fails(
        refused_with,
        json_response({"detail": "too large"}, 413),
        (413, 400),
        None,
        envelope=True,
    )
    assert failure.title == "Refusal not in the error envelope"
    assert '"detail"' in failure.received
    fails(refused_with, error_response(500, "internal_error"), (413, 400), None)


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
