"""Authentication, HTTPS redirect and HSTS, rate limits and the upload cap."""

from __future__ import annotations

import base64

import httpx
import pytest

from qbtsuite.checks import (
    HSTS_NEEDS_HTTPS,
    NEEDS_AN_HTTPS_API,
    admitted_after_waiting,
    admitted_only_after_retry_after,
    admitted_up_to_limit,
    api_not_served_over_plain_http,
    hsts_present,
    key_accepted,
    not_processed_over_http,
    oversize_json_refused,
    plain_http_notice,
    rate_limited_with_429,
    redirect_preserves_method,
    redirect_to_https_same_target,
    rejected_as_invalid_api_key,
    rejected_for_insufficient_funds,
    response_does_not_echo_key,
    retry_after_at_most,
    retry_after_is_integer_seconds,
    retry_after_seconds,
    retry_after_within_window,
    same_redirect_with_and_without_key,
    sent_surely_before_retry_after,
    speaks_plain_http,
    still_limited_before_retry_after,
    upload_not_rejected_as_too_large,
    upload_rejected_before_body_sent,
    upload_rejected_with_413,
)

from .support import error_response, fails, json_response, passes, response

CANARY = "qbt_canary_5f1e2d3c4b5a69788796a5b4"
HTTP_URL = "http://gateway.test/v1/chat/completions?trace=1"


def redirect(
    status: int = 308, location: str | None = None, **headers: str
) -> httpx.Response:
    where = location or "https://gateway.test:8443/v1/chat/completions?trace=1"
    return response(status, headers={"location": where, **headers})


# -- auth ---------------------------------------------------------------------------


def test_missing_key_is_rejected_with_401_invalid_api_key() -> None:
    passes(rejected_as_invalid_api_key, error_response(401, "invalid_api_key"))


def test_403_for_a_bad_key_fails_the_401_requirement() -> None:
    failure = fails(rejected_as_invalid_api_key, error_response(403, "invalid_api_key"))
    assert failure.expected == "401 with code invalid_api_key in the error envelope"


def test_401_with_a_plain_text_body_fails() -> None:
    fails(rejected_as_invalid_api_key, response(401, "Unauthorized", "text/plain"))


def test_401_with_the_wrong_type_fails() -> None:
    fails(
        rejected_as_invalid_api_key,
        error_response(401, "invalid_api_key", "auth_error"),
    )


def test_exhausted_account_gets_402_insufficient_funds() -> None:
    passes(
        rejected_for_insufficient_funds,
        error_response(402, "insufficient_funds", "insufficient_quota"),
    )
    fails(rejected_for_insufficient_funds, json_response({"data": []}))


def test_valid_key_is_accepted_with_a_2xx() -> None:
    passes(key_accepted, json_response({"object": "list", "data": []}))
    failure = fails(key_accepted, error_response(401, "invalid_api_key"))
    assert failure.title == "Valid key refused"


def test_key_is_never_echoed_and_the_message_withholds_it() -> None:
    passes(response_does_not_echo_key, error_response(401, "invalid_api_key"), CANARY)
    echoed = error_response(401, "invalid_api_key", message=f"Unknown key {CANARY}")
    failure = fails(response_does_not_echo_key, echoed, CANARY)
    assert CANARY not in str(failure)
    assert "body at byte" in failure.received
    in_header = response(401, headers={"x-debug-key": CANARY})
    assert (
        "header x-debug-key"
        in fails(response_does_not_echo_key, in_header, CANARY).received
    )


@pytest.mark.parametrize(
    "encoded",
    [
        base64.b64encode(f"Bearer {CANARY}".encode()).decode(),
        base64.urlsafe_b64encode(f"x:{CANARY}".encode()).decode().rstrip("="),
        "".join(f"%{b:02X}" for b in CANARY.encode()),
        "".join(f"\\u{ord(c):04x}" for c in CANARY),
        CANARY.encode().hex().upper(),
    ],
    ids=["base64", "base64url-inside", "percent", "json-escaped", "hex"],
)
def test_an_encoded_echo_of_the_key_is_an_echo_too(encoded: str) -> None:
    in_header = response(401, headers={"x-debug-authorization": encoded})
    failure = fails(response_does_not_echo_key, in_header, CANARY)
    assert "header x-debug-authorization" in failure.received
    in_body = error_response(401, "invalid_api_key", message=f"was {encoded}")
    assert (
        "body (encoded)" in fails(response_does_not_echo_key, in_body, CANARY).received
    )


def test_echo_check_refuses_a_meaningless_short_key() -> None:
    with pytest.raises(ValueError):
        response_does_not_echo_key(response(401), "abc")


# -- HTTPS ----------------------------------------------------------------------------


def test_redirect_to_the_same_host_path_and_query_on_https_passes() -> None:
    passes(redirect_to_https_same_target, HTTP_URL, redirect())
    passes(
        redirect_to_https_same_target,
        "http://gateway.test/v1/models",
        redirect(301, "https://GATEWAY.test/v1/models"),
    )


@pytest.mark.parametrize(
    ("location", "problem"),
    [
        ("https://gateway.test/", "path and query /"),
        ("http://gateway.test/v1/chat/completions?trace=1", "scheme http"),
        ("https://other.test/v1/chat/completions?trace=1", "host other.test"),
        ("https://gateway.test/v1/chat/completions", "path and query"),
    ],
)
def test_redirect_elsewhere_fails(location: str, problem: str) -> None:
    failure = fails(redirect_to_https_same_target, HTTP_URL, redirect(308, location))
    assert problem in failure.received


def test_served_over_http_is_not_a_redirect() -> None:
    failure = fails(redirect_to_https_same_target, HTTP_URL, json_response({"ok": 1}))
    assert failure.title == "Plain HTTP not redirected"


def test_307_and_308_keep_the_method_and_301_302_do_not() -> None:
    passes(redirect_preserves_method, redirect(307))
    passes(redirect_preserves_method, redirect(308))
    failure = fails(redirect_preserves_method, redirect(302))
    assert failure.received.startswith("302") and failure.expected == "307 or 308"


def test_bare_redirect_is_not_processing() -> None:
    passes(not_processed_over_http, redirect())
    passes(
        not_processed_over_http,
        response(301, "<html>Moved</html>", "text/html", {"location": "https://x/"}),
    )


@pytest.mark.parametrize(
    "resp",
    [
        json_response({"object": "list", "data": []}),
        error_response(401, "invalid_api_key"),
        response(308, '{"error": {}}', "application/json", {"location": "https://x/"}),
        redirect(308, None, **{"set-cookie": "session=1"}),
    ],
    ids=["served", "key-validated", "api-body", "cookie"],
)
def test_anything_but_a_bare_redirect_is_processing(resp: object) -> None:
    fails(not_processed_over_http, resp)


def test_canary_key_must_not_change_the_redirect() -> None:
    passes(same_redirect_with_and_without_key, redirect(), redirect())
    failure = fails(
        same_redirect_with_and_without_key,
        redirect(),
        error_response(401, "invalid_api_key"),
    )
    assert "with key 401" in failure.received


HTTPS_URL = "https://api.example/v1/models"


def test_hsts_needs_a_positive_max_age() -> None:
    passes(
        hsts_present,
        response(
            200,
            headers={
                "strict-transport-security": "max-age=31536000; includeSubDomains"
            },
        ),
        HTTPS_URL,
    )
    fails(hsts_present, response(200), HTTPS_URL)
    failure = fails(
        hsts_present,
        response(200, headers={"strict-transport-security": "max-age=0"}),
        HTTPS_URL,
    )
    assert "max-age=0" in failure.received


def test_hsts_is_never_judged_on_a_plain_http_answer() -> None:
    # RFC 6797 §7.2: not sent over plain HTTP; §8.1: ignored there.
    with pytest.raises(ValueError, match="HTTPS answers only"):
        hsts_present(response(200), "http://api.example/v1/models")


def test_a_plain_http_base_url_is_recognised() -> None:
    assert speaks_plain_http("http://127.0.0.1:8080/v1")
    assert speaks_plain_http("HTTP://api.example/v1")
    assert not speaks_plain_http("https://api.example/v1")


def test_the_api_answering_on_plain_http_fails_https_001_with_that_evidence() -> None:
    url = "http://127.0.0.1:8080/v1/models?probe"
    failure = fails(
        api_not_served_over_plain_http, url, error_response(401, "invalid_api_key")
    )
    assert failure.title == "The API is served over plain HTTP"
    assert "the http:// base URL itself" in failure.received
    assert failure.received.startswith(f"GET {url}")
    assert "401 application/json" in failure.received
    location = {"location": "https://127.0.0.1:8080/v1/models?probe"}
    passes(api_not_served_over_plain_http, url, response(308, headers=location))


def test_the_plain_http_notice_and_skip_reason_name_both_settings() -> None:
    notice = plain_http_notice("http://127.0.0.1:8080/v1")
    assert "127.0.0.1:8080" in notice and "cleartext" in notice
    for text in (notice, NEEDS_AN_HTTPS_API):
        assert "--base-url https://" in text
        assert "--http-url" in text and "QBTSUITE_HTTP_URL" in text
    assert "RFC 6797" in HSTS_NEEDS_HTTPS and "--base-url https://" in HSTS_NEEDS_HTTPS


# -- rate limits ------------------------------------------------------------------------


def limited(retry_after: str | None = "7") -> httpx.Response:
    headers = {} if retry_after is None else {"retry-after": retry_after}
    return error_response(
        429, "rate_limit_exceeded", "rate_limit_error", headers=headers
    )


def test_429_with_rate_limit_exceeded_passes_and_other_codes_fail() -> None:
    passes(rate_limited_with_429, limited())
    fails(
        rate_limited_with_429,
        error_response(429, "too_many_requests", "rate_limit_error"),
    )


@pytest.mark.parametrize("value", ["7", "1", " 30 "])
def test_retry_after_in_whole_seconds_passes(value: str) -> None:
    passes(retry_after_is_integer_seconds, limited(value))


@pytest.mark.parametrize(
    "value", [None, "12.348", "Wed, 21 Oct 2015 07:28:00 GMT", "0", "-3", "soon"]
)
def test_retry_after_missing_fractional_dated_or_zero_fails(value: str | None) -> None:
    failure = fails(retry_after_is_integer_seconds, limited(value))
    assert failure.expected == "Retry-After: <integer seconds ≥ 1>"


def test_retry_after_value_and_window() -> None:
    assert retry_after_seconds(limited("42")) == 42
    passes(retry_after_at_most, limited("60"))
    failure = fails(retry_after_at_most, limited("180"), 60)
    assert "180" in failure.received


def test_request_after_waiting_is_admitted() -> None:
    passes(admitted_after_waiting, json_response({}), 7.0)
    failure = fails(admitted_after_waiting, limited(), 7.0)
    assert "after waiting 7.0 s" in failure.received


def test_a_retry_after_beyond_the_window_fails_unwaited_naming_what_was_seen() -> None:
    passes(retry_after_within_window, limited("60"), 65.0)
    passes(retry_after_within_window, limited("65"), 65.0, 3.0)
    freed = fails(retry_after_within_window, limited("46000"), 65.0, 10.4)
    assert "Retry-After: 46000 (not waited)" in freed.received
    assert "admitted again 10.4 s after" in freed.received
    held = fails(retry_after_within_window, limited("7000"), 65.0)
    assert "still refused one window after" in held.received


def test_a_key_admitted_long_before_its_retry_after_is_overstated() -> None:
    passes(admitted_only_after_retry_after, json_response({}), 45_999.5, 46_000)
    passes(admitted_only_after_retry_after, limited(), 3.0, 46_000)
    failure = fails(admitted_only_after_retry_after, json_response({}), 10.4, 46_000)
    assert "at most 10.4 s after the 429" in failure.received
    assert "46000 s" in failure.expected


def test_immediate_retry_is_still_limited() -> None:
    passes(still_limited_before_retry_after, limited())
    fails(still_limited_before_retry_after, json_response({}))


def test_exactly_the_declared_limit_is_admitted() -> None:
    passes(admitted_up_to_limit, [200, 200, 200, 429, 429], 3)
    assert "no 429 at all" in fails(admitted_up_to_limit, [200] * 6, 3).received
    assert (
        "first 429 at request 3"
        in fails(admitted_up_to_limit, [200, 200, 429], 3).received
    )


# -- uploads ----------------------------------------------------------------------------


def test_oversized_upload_is_413_request_entity_too_large() -> None:
    passes(upload_rejected_with_413, error_response(413, "request_entity_too_large"))
    fails(
        upload_rejected_with_413, response(413, "<html>Too Large</html>", "text/html")
    )
    fails(upload_rejected_with_413, json_response({"text": "hello"}))


def test_upload_within_the_cap_is_not_refused_as_too_large() -> None:
    passes(upload_not_rejected_as_too_large, error_response(400, "invalid_request"))
    fails(
        upload_not_rejected_as_too_large,
        error_response(413, "request_entity_too_large"),
    )


def test_oversized_upload_should_be_refused_before_the_body_is_sent() -> None:
    passes(upload_rejected_before_body_sent, 1_048_576, 26_214_401)
    failure = fails(upload_rejected_before_body_sent, 26_214_401, 26_214_401)
    assert "26,214,401 of 26,214,401" in failure.received


def test_oversized_json_is_refused_in_the_envelope_never_5xx() -> None:
    passes(oversize_json_refused, error_response(413, "request_entity_too_large"))
    passes(oversize_json_refused, error_response(400, "invalid_request"))
    fails(oversize_json_refused, error_response(500, "internal_error", "api_error"))
    fails(
        oversize_json_refused, response(413, "Request Entity Too Large", "text/plain")
    )


def test_a_non_redirect_is_not_described_as_one() -> None:
    failure = fails(redirect_preserves_method, error_response(401, "invalid_api_key"))
    assert failure.received == "401 (not a redirect)"


def test_a_retry_counts_as_early_only_when_sent_over_a_second_before_retry_after() -> (
    None
):
    # Retry-After 8 (whole seconds, rounded up): the true wait may be 7.01 s.
    assert sent_surely_before_retry_after(6.8, 8)
    assert not sent_surely_before_retry_after(7.0, 8)
    assert not sent_surely_before_retry_after(7.67, 8)
