"""The error envelope, the status/code/type table and "unsupported" vs "fail"."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from qbtsuite.checks import (
    ERROR_TABLE,
    codes_for,
    declines_capability,
    error_body_conforms,
    error_code_is,
    error_code_matches_status,
    error_content_type_is_json,
    error_envelope_conforms,
    error_has_param_field,
    error_matches_table,
    error_type_is_documented,
    error_type_matches_status,
    expected_type,
    no_retry_hint_on_client_error,
    rejected_as_client_error,
    status_is,
)

from .support import error_response, fails, json_response, passes, response

HTML_404 = "<html><body><h1>404 Not Found</h1></body></html>"


def test_status_is_accepts_the_expected_status_or_one_of_several() -> None:
    passes(status_is, response(401), 401)
    passes(status_is, response(405), {404, 405})


def test_status_is_reports_the_received_status_and_body() -> None:
    failure = fails(status_is, error_response(403, "invalid_api_key"), 401)
    assert failure.received.startswith('403 application/json {"error"')
    assert failure.expected == "status 401"


def test_error_content_type_must_be_json_with_any_charset() -> None:
    passes(
        error_content_type_is_json,
        response(400, "{}", "application/json; charset=utf-8"),
    )
    failure = fails(error_content_type_is_json, response(404, HTML_404, "text/html"))
    assert "text/html" in failure.received and "<h1>404" in failure.received


def test_documented_envelope_conforms() -> None:
    passes(error_envelope_conforms, error_response(401, "invalid_api_key"))


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ('{"error": "Unauthorized"}', '{"error":"Unauthorized"}'),
        ('{"error": {"message": "x", "type": "t"}}', "error.code is missing"),
        (
            '{"error": {"message": "", "type": "t", "code": "c"}}',
            "error.message is empty",
        ),
        ('{"error": {"message": "x", "type": 4, "code": "c"}}', "error.type is 4"),
        ('{"message": "x"}', '{"message":"x"}'),
    ],
)
def test_envelope_without_string_message_type_code_fails(
    body: str, problem: str
) -> None:
    failure = fails(error_envelope_conforms, response(401, body, "application/json"))
    assert problem in failure.received
    assert failure.received.startswith("401 ")


def test_envelope_that_is_not_json_fails_with_the_parse_error() -> None:
    failure = fails(
        error_envelope_conforms, response(401, "Unauthorized", "application/json")
    )
    assert "not JSON" in failure.received


def test_error_body_conforms_names_where_the_body_was_found() -> None:
    passes(error_body_conforms, {"error": {"message": "m", "type": "t", "code": "c"}})
    failure = fails(error_body_conforms, {"error": None}, where="event #4:")
    assert failure.received.startswith("event #4: ")


def test_documented_types_pass_and_others_fail() -> None:
    passes(
        error_type_is_documented,
        error_response(429, "rate_limit_exceeded", "rate_limit_error"),
    )
    failure = fails(
        error_type_is_documented, error_response(400, "invalid_request", "error")
    )
    assert "invalid_request_error" in failure.expected


@pytest.mark.parametrize("row", ERROR_TABLE, ids=lambda r: f"{r.status}-{r.code}")
def test_every_row_of_the_documented_table_matches_itself(row: object) -> None:
    status, code, kind = row.status, row.code, row.type  # type: ignore[attr-defined]
    passes(error_matches_table, error_response(status, code, kind))


def test_type_must_match_the_status() -> None:
    passes(
        error_type_matches_status, error_response(500, "internal_error", "api_error")
    )
    failure = fails(
        error_type_matches_status,
        error_response(402, "insufficient_funds", "invalid_request_error"),
    )
    assert failure.expected == "402 with type insufficient_quota"


def test_undocumented_status_needs_only_the_envelope() -> None:
    passes(error_code_matches_status, error_response(404, "not_found"))
    passes(error_matches_table, error_response(405, "method_not_allowed"))


def test_code_must_be_one_the_table_lists_for_the_status() -> None:
    failure = fails(error_code_matches_status, error_response(400, "bad_thing"))
    assert failure.expected == "400 with code invalid_request or model_not_found"


def test_documented_code_with_another_status_fails() -> None:
    failure = fails(error_matches_table, error_response(404, "model_not_found"))
    assert failure.expected == "code model_not_found with status 400"


def test_validation_failure_surfacing_as_500_fails_the_table() -> None:
    fails(error_matches_table, error_response(500, "invalid_request", "api_error"))


def test_error_code_is_reads_like_the_spec() -> None:
    passes(
        error_code_is, error_response(401, "invalid_api_key"), 401, "invalid_api_key"
    )
    failure = fails(
        error_code_is, error_response(403, "invalid_api_key"), 401, "invalid_api_key"
    )
    assert failure.received.startswith("403 application/json")
    assert failure.expected == "401 with code invalid_api_key in the error envelope"


def test_error_code_is_fails_on_the_right_status_with_another_code() -> None:
    failure = fails(
        error_code_is, error_response(400, "invalid_request"), 400, "model_not_found"
    )
    assert '"code": "invalid_request"' in failure.received


def test_param_field_may_be_null_or_string_but_must_be_present() -> None:
    passes(error_has_param_field, error_response(400, "invalid_request"))
    passes(error_has_param_field, error_response(400, "invalid_request", param="model"))
    body = {"error": {"message": "m", "type": "invalid_request_error", "code": "c"}}
    failure = fails(error_has_param_field, json_response(body, 400))
    assert "param missing" in failure.received


def test_retry_hint_on_a_client_error_fails_but_not_on_429() -> None:
    hint = {"x-should-retry": "true"}
    passes(
        no_retry_hint_on_client_error,
        error_response(429, "rate_limit_exceeded", headers=hint),
    )
    passes(no_retry_hint_on_client_error, error_response(400, "invalid_request"))
    fails(
        no_retry_hint_on_client_error,
        error_response(400, "invalid_request", headers=hint),
    )


def test_bad_input_must_be_a_client_error_in_the_envelope() -> None:
    passes(rejected_as_client_error, error_response(400, "invalid_request"))
    failure = fails(
        rejected_as_client_error, error_response(500, "internal_error", "api_error")
    )
    assert failure.expected == (
        "a 4xx about the request (not 401/403/404/405/429) in the error envelope"
    )
    fails(rejected_as_client_error, response(415, "nope", "text/plain"))
    forbidden = fails(rejected_as_client_error, error_response(403, "forbidden"))
    assert "403 is a refusal of access" in forbidden.received


def test_table_helpers() -> None:
    assert codes_for(400) == {"invalid_request", "model_not_found"}
    assert codes_for(404) == frozenset()
    assert expected_type(503) == "api_error"
    assert expected_type(500) == "api_error"
    assert expected_type(404) is None


@pytest.mark.parametrize(
    "resp",
    [
        error_response(404, "not_found"),
        error_response(400, "model_not_found"),
        error_response(501, "not_implemented", "api_error"),
    ],
)
def test_a_decline_in_the_envelope_is_unsupported(resp: object) -> None:
    assert declines_capability(resp) is True  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "resp",
    [
        response(404, HTML_404, "text/html"),
        response(500, "<html>Internal Server Error</html>", "text/html"),
        error_response(500, "internal_error", "api_error"),
        error_response(400, "invalid_request"),
        json_response({"detail": "Not Found"}, 404),
        response(200, "{}", "application/json"),
    ],
)
def test_anything_else_is_never_unsupported(resp: object) -> None:
    assert declines_capability(resp) is False  # type: ignore[arg-type]


def test_messages_never_carry_a_key() -> None:
    leaked = error_response(
        403, "invalid_api_key", message="Key qbt_live_0123456789abcdef is not valid"
    )
    failure = fails(error_code_is, leaked, 401, "invalid_api_key")
    assert "0123456789abcdef" not in str(failure)
    assert "qbt_[REDACTED]" in failure.received


@pytest.mark.parametrize(
    "check",
    [
        error_type_is_documented,
        error_type_matches_status,
        error_code_matches_status,
        error_has_param_field,
    ],
)
def test_every_member_check_fails_an_answer_without_an_error_object(
    check: Callable[..., None],
) -> None:
    failure = fails(check, json_response({"detail": "Not authenticated"}, 401))
    assert failure.received.endswith("(no error object)")


def test_each_member_check_reads_only_its_own_member() -> None:
    no_code = json_response(
        {"error": {"message": "m", "type": "invalid_request_error", "param": None}},
        401,
    )
    passes(error_type_is_documented, no_code)
    passes(error_type_matches_status, no_code)
    passes(error_has_param_field, no_code)
    failure = fails(error_code_matches_status, no_code)
    assert failure.received.endswith("(error.code missing)")


def test_a_status_the_table_omits_needs_no_type_and_no_code() -> None:
    passes(error_type_matches_status, json_response({"detail": "Not Found"}, 404))
    passes(error_code_matches_status, json_response({"detail": "Not Found"}, 404))
