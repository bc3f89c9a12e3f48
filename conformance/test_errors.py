"""The error format: one envelope and one status/code/type table (getting-started.txt).

"All errors share an OpenAI-compatible shape: {"error": {"message", "type", "code"}}"
with the codes of the table. Each documented error the suite can provoke cheaply is
judged requirement by requirement; malformed bodies, unknown paths, errors before a
stream, and (on the embedded server only) the 502/503 rows get their own tests.
"""

from __future__ import annotations

import json
import secrets

import pytest

from qbtsuite.checks import (
    error_member_present,
    error_not_streamed,
    refused_with,
    status_is,
)
from qbtsuite.harness.recording import RequirementRecorder
from qbtsuite.harness.selection import endpoint_marks
from qbtsuite.harness.verdicts import judge_error
from qbtsuite.payloads.minimal import json_body
from qbtsuite.target.client import SuiteClient
from qbtsuite.target.config import TargetConfig
from qbtsuite.target.exchange import Exchange

UNKNOWN_MODEL = "qbtsuite-no-such-model"
SIMULATE = "X-Qbtsuite-Simulate"  # the reference server's failure hook (not the API)

# Answers outside the documented API (unknown path, undocumented method) are held to
# ERR-011 (a SHOULD) rather than to the MUSTs of the documented envelope.
OUTSIDE_THE_API = ("ERR-001", "ERR-002")


JSON_ENDPOINTS = ("completions", "chat", "embeddings", "images")
# Each endpoint as a case, with the capability it is (images).
JSON_ENDPOINT_CASES = [pytest.param(e, marks=endpoint_marks(e)) for e in JSON_ENDPOINTS]


# ─── ERR-001 … ERR-006, ERR-012: each documented error, judged ────────────────


def _provoke(api: SuiteClient, config: TargetConfig, case: str) -> Exchange:
    chat_path, chat = json_body("chat", config.model("chat"))
    if case == "400-invalid_request":
        return api.request("POST", chat_path, json={"model": chat["model"]})
    if case == "400-model_not_found":
        return api.request("POST", chat_path, json={**chat, "model": UNKNOWN_MODEL})
    if case == "401-invalid_api_key":
        return api.request("GET", "models", key=None)
    if case == "402-insufficient_funds":
        return api.request("POST", chat_path, json=chat, key="zero_balance")
    raise AssertionError(f"unknown case {case}")


DOCUMENTED_ERRORS = (
    "400-invalid_request",
    "400-model_not_found",
    "401-invalid_api_key",
    pytest.param(
        "402-insufficient_funds", marks=pytest.mark.capability("zero_balance")
    ),
)


@pytest.mark.requirement(
    "ERR-001", "ERR-002", "ERR-003", "ERR-004", "ERR-005", "ERR-006", "ERR-012"
)
@pytest.mark.spend(requests=1, tokens=2)
@pytest.mark.parametrize("case", DOCUMENTED_ERRORS)
def test_documented_error_follows_the_envelope_and_the_status_table(
    api: SuiteClient,
    record: RequirementRecorder,
    target_config: TargetConfig,
    case: str,
) -> None:
    ex = _provoke(api, target_config, case)
    if ex.status_code < 400:
        pytest.skip(
            f"the target answered {ex.status_code} where {case} was expected: "
            "no error to judge (its endpoint's own tests report that)"
        )
    judge_error(record, ex)


# ─── ERR-007, ERR-008: bodies a JSON endpoint cannot read ────────────────────

NOT_AN_OBJECT: dict[str, bytes] = {
    "malformed": b'{"model": ',
    "empty": b"",
    "array": b"[]",
    "string": b'"hello"',
    "number": b"42",
    "null": b"null",
}


@pytest.mark.requirement("ERR-007")
@pytest.mark.spend(requests=1)
@pytest.mark.parametrize("body", list(NOT_AN_OBJECT))
@pytest.mark.parametrize("endpoint", JSON_ENDPOINT_CASES)
def test_body_that_is_not_a_json_object_is_rejected_with_400_invalid_request(
    api: SuiteClient, record: RequirementRecorder, endpoint: str, body: str
) -> None:
    path, _ = json_body(endpoint, None)
    ex = api.request(
        "POST",
        path,
        content=NOT_AN_OBJECT[body],
        headers={"Content-Type": "application/json"},
    )
    with record.check("ERR-007"):
        refused_with(ex, 400, "invalid_request")
    judge_error(record, ex)


CONTENT_TYPES = {"text-plain": "text/plain", "none": None}


@pytest.mark.requirement("ERR-008")
@pytest.mark.spend(requests=1, tokens=2)
@pytest.mark.parametrize("content_type", list(CONTENT_TYPES))
@pytest.mark.parametrize("endpoint", JSON_ENDPOINT_CASES)
def test_json_body_under_a_non_json_content_type_is_rejected_with_400(
    api: SuiteClient,
    record: RequirementRecorder,
    target_config: TargetConfig,
    endpoint: str,
    content_type: str,
) -> None:
    path, body = json_body(endpoint, target_config.model(endpoint))
    media = CONTENT_TYPES[content_type]
    headers = {"Content-Type": media} if media else {}
    content = json.dumps(body).encode()
    ex = api.request("POST", path, content=content, headers=headers)
    with record.check("ERR-008"):
        refused_with(ex, 400, "invalid_request")
    judge_error(record, ex)


# ─── ERR-009, ERR-010: the 5xx rows (provoked with the reference server's hook) ─

FAILURES = {
    "ERR-009": (502, "upstream_error"),
    "ERR-010": (503, "service_unavailable"),
}


@pytest.mark.capability("simulated_failures")
@pytest.mark.spend(requests=1)
@pytest.mark.parametrize(
    "requirement",
    [pytest.param(rid, marks=pytest.mark.requirement(rid)) for rid in FAILURES],
)
def test_server_side_failure_is_answered_with_its_status_code_and_api_error(
    api: SuiteClient,
    record: RequirementRecorder,
    target_config: TargetConfig,
    requirement: str,
) -> None:
    status, code = FAILURES[requirement]
    path, body = json_body("chat", target_config.model("chat"))
    ex = api.request("POST", path, json=body, headers={SIMULATE: code})
    with record.check(requirement):
        # "…, code upstream_error and type api_error in the error envelope"
        refused_with(ex, status, code, error_type="api_error", envelope=True)
    judge_error(record, ex)


# ─── ERR-011: outside the documented paths and methods ───────────────────────


@pytest.mark.smoke
@pytest.mark.requirement("ERR-011")
@pytest.mark.spend(requests=1)
def test_unknown_path_under_the_base_url_is_answered_404_in_the_envelope(
    api: SuiteClient, record: RequirementRecorder
) -> None:
    ex = api.request("GET", "no-such-endpoint")
    with record.check("ERR-011"):
        status_is(ex, 404)
        error_member_present(ex)
    judge_error(record, ex, skip=OUTSIDE_THE_API)


@pytest.mark.requirement("ERR-011")
@pytest.mark.spend(requests=1)
def test_undocumented_method_on_a_documented_path_is_answered_404_or_405(
    api: SuiteClient, record: RequirementRecorder
) -> None:
    ex = api.request("GET", "chat/completions")
    with record.check("ERR-011"):
        status_is(ex, {404, 405})
        error_member_present(ex)
    judge_error(record, ex, skip=OUTSIDE_THE_API)


# ─── ERR-013: errors found before a stream starts are not streamed ───────────


def _unknown_key() -> str:
    return "qbt_" + secrets.token_hex(16)  # generated, never a real key


@pytest.mark.requirement("ERR-013")
@pytest.mark.spend(requests=1)
@pytest.mark.parametrize("problem", ["unknown-key", "unknown-model"])
@pytest.mark.parametrize("endpoint", ["chat", "completions"])
def test_error_before_the_stream_starts_is_a_plain_json_error_not_a_stream(
    api: SuiteClient,
    record: RequirementRecorder,
    target_config: TargetConfig,
    endpoint: str,
    problem: str,
) -> None:
    path, body = json_body(endpoint, target_config.model(endpoint))
    body["stream"] = True
    if problem == "unknown-model":
        ex = api.request("POST", path, json={**body, "model": UNKNOWN_MODEL})
    else:
        ex = api.request("POST", path, json=body, key=_unknown_key())
    with record.check("ERR-013"):
        error_not_streamed(ex)
    judge_error(record, ex)
