"""A negative check holds only on an answer about the request: a refusal of the key
or the route fails it, saying so; a throttle of the run's own key is no evidence."""

from __future__ import annotations

from typing import Any

import pytest

from qbtsuite.checks import (
    answer_is_about_the_request,
    oversize_upload_refused,
    upload_not_rejected_as_too_large,
)
from qbtsuite.errors import NoEvidence

from .support import error_response, fails, passes, response

ASKED: dict[str, Any] = {
    "title": "t",
    "expected": "a 4xx about the file",
    "about": "the file",
}


@pytest.mark.parametrize("status", [400, 409, 413, 415, 422])
def test_a_4xx_about_the_request_is_evidence(status: int) -> None:
    passes(answer_is_about_the_request, error_response(status, "x"), **ASKED)


@pytest.mark.parametrize(
    ("status", "why"),
    [
        (401, "a refusal of the key"),
        (403, "a refusal of access"),
        (404, "a missing route"),
        (405, "a refused method"),
    ],
)
def test_a_refusal_of_the_key_or_the_route_fails_naming_what_it_is_about(
    status: int, why: str
) -> None:
    failure = fails(answer_is_about_the_request, error_response(status, "x"), **ASKED)
    assert f"({status} is {why}, no answer about the file)" in failure.received
    assert failure.expected == "a 4xx about the file"


@pytest.mark.parametrize("status", [500, 502, 200])
def test_a_5xx_or_a_success_is_no_refusal(status: int) -> None:
    fails(
        answer_is_about_the_request, response(status, "{}", "application/json"), **ASKED
    )


@pytest.mark.parametrize(
    ("status", "headers"),
    [(429, {"Retry-After": "21"}), (402, {}), (503, {"Retry-After": "5"})],
)
def test_a_throttle_is_no_evidence_and_no_verdict(
    status: int, headers: dict[str, str]
) -> None:
    answer = error_response(status, "rate_limit_exceeded", headers=headers)
    with pytest.raises(NoEvidence, match="the run's own limit, no evidence about"):
        answer_is_about_the_request(answer, **ASKED)


def test_an_upload_within_the_cap_needs_the_endpoints_own_answer() -> None:
    passes(upload_not_rejected_as_too_large, response(200, "{}", "application/json"))
    passes(upload_not_rejected_as_too_large, error_response(400, "invalid_request"))
    assert (
        "413"
        in fails(
            upload_not_rejected_as_too_large,
            error_response(413, "request_entity_too_large"),
        ).received
    )
    missing = fails(upload_not_rejected_as_too_large, error_response(404, "not_found"))
    assert "404 is a missing route" in missing.received
    with pytest.raises(NoEvidence):
        upload_not_rejected_as_too_large(
            error_response(429, "rate_limit_exceeded", headers={"Retry-After": "3"})
        )


def test_only_a_refusal_of_the_request_is_a_refusal_of_an_oversized_upload() -> None:
    passes(oversize_upload_refused, error_response(413, "request_entity_too_large"))
    passes(oversize_upload_refused, error_response(400, "invalid_request"))
    blocked = fails(oversize_upload_refused, error_response(403, "request_blocked"))
    assert "403 is a refusal of access" in blocked.received
    with pytest.raises(NoEvidence):
        oversize_upload_refused(error_response(429, None, headers={"Retry-After": "9"}))
