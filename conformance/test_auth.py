"""Authentication: only ``Authorization: Bearer <key>`` opens the API (getting-started.txt).

"Every request needs a Bearer token … A request with a missing or invalid key returns"
401 with code ``invalid_api_key``. Each malformed form of the header is its own case,
so a report names exactly which one a gateway lets through. Each auth requirement
judges what its statement names: the status and the code (read from the error
object), for AUTH-001 and AUTH-011 the envelope too and for AUTH-001 the type. Every
refusal is also held to the error format (ERR-001 … ERR-012), requirement by
requirement.
"""

from __future__ import annotations

import base64
import http.client
import secrets
import ssl
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from qbtsuite.checks import (
    key_accepted,
    refused_with,
    response_does_not_echo_key,
)
from qbtsuite.errors import AnswerTooLarge, BrokenAnswer, CheckFailure, NoCompleteAnswer
from qbtsuite.harness.recording import RequirementRecorder
from qbtsuite.harness.selection import endpoint_marks
from qbtsuite.harness.verdicts import judge_error
from qbtsuite.payloads.minimal import minimal_request
from qbtsuite.target.client import SuiteClient, declared_too_large
from qbtsuite.target.config import TargetConfig
from qbtsuite.target.taping import RawReply
from qbtsuite.target.transcript import format_exchange
from qbtsuite.target.watch import SocketDeadline


def main_key(config: TargetConfig) -> str:
    """The main key's value: some cases present a *valid* key in a wrong place."""
    secret = config.key("main")
    if secret is None:
        pytest.skip("no main key configured")
    return secret.reveal()


def unknown_key(prefix: str = "qbt_") -> str:
    """A well-formed key no account has (generated; never a real key)."""
    return prefix + secrets.token_hex(16)


def _tls_context(config: TargetConfig) -> ssl.SSLContext:
    verify = config.verify
    context = ssl.create_default_context(
        cafile=verify if isinstance(verify, str) else None
    )
    if verify is False:  # the user asked for --insecure
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _raw_get(
    api: SuiteClient, record: RequirementRecorder, url: httpx.URL, value: str
) -> tuple[int, list[tuple[str, str]], bytes]:
    """One GET with ``Authorization: value`` as given, by ``http.client``, bounded
    like the suite's own requests (the deadline, the body cap; the breaker told)."""
    config = api.config
    api.admit()
    port = url.port
    if url.scheme == "https":
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            url.host, port, context=_tls_context(config), timeout=config.read_timeout
        )
    else:
        conn = http.client.HTTPConnection(url.host, port, timeout=config.read_timeout)
    try:
        conn.connect()
        assert conn.sock is not None
        with SocketDeadline(conn.sock, api.deadline()) as deadline:
            try:
                conn.request(
                    "GET", url.raw_path.decode(), headers={"Authorization": value}
                )
                raw = conn.getresponse()
                declared = declared_too_large(dict(raw.getheaders()), config.max_body)
                body = b"" if declared else raw.read(config.max_body + 1)
            except (OSError, http.client.HTTPException) as exc:
                failure, unanswered = _raw_failure(exc, deadline, config)
                shown = f"{_RAW_NOTE}; {failure.title}: {failure.received}"
                request = httpx.Request("GET", url, headers=[("Authorization", value)])
                record.attach(format_exchange(request, "", None, None, note=shown))
                api.tally(str(url), answered=not unanswered, reason=failure.received)
                raise failure from None
        headers = raw.getheaders()
        status = raw.status
    finally:
        conn.close()
    api.tally(str(url), answered=True)
    if declared is not None:
        raise declared
    if len(body) > config.max_body:
        raise AnswerTooLarge(
            what="body",
            received=f"more than {config.max_body} bytes",
            expected=f"a body of at most {config.max_body} bytes (--max-body)",
        )
    return status, headers, body


_RAW_NOTE = "sent with http.client, header as given"


def send_raw_authorization(
    api: SuiteClient, record: RequirementRecorder, path: str, value: str
) -> httpx.Response:
    """GET ``path`` with an ``Authorization`` value httpx refuses to send.

    httpx (h11) rejects a header value with trailing whitespace (``"Bearer "``);
    the standard library's ``http.client`` sends it as given, which is what a
    hand-written client or a proxy may do. Paced and throttle-aware like the
    suite's own requests (the key inside the value is the one a target counts).
    """
    url = httpx.URL(api.url(path))
    role = api.role_of(value)  # a lenient target counts it against that key
    while True:
        api.pace(role)
        sent = time.monotonic()
        status, headers, body = _raw_get(api, record, url, value)
        api.tape(
            httpx.Request("GET", url, headers=[("Authorization", value)]),
            RawReply(status, "", tuple(headers), body),
            sent,
        )
        if not api.after_answer(
            role, "GET", str(url), status, httpx.Headers(headers), body
        ):
            break
    request = httpx.Request("GET", url, headers=[("Authorization", value)])
    response = httpx.Response(status, headers=headers, content=body, request=request)
    record.attach(format_exchange(request, "", response, body, note=_RAW_NOTE))
    return response


def _raw_failure(
    exc: Exception, deadline: SocketDeadline, config: TargetConfig
) -> tuple[CheckFailure, bool]:
    """How a raw exchange ended without a complete answer, and whether it got no
    answer at all (the breaker counts those)."""
    if deadline.fired:
        seconds = f"{deadline.seconds:g} s"
        late = f"no complete answer within {seconds}"
        return NoCompleteAnswer(
            received=late,
            expected=f"a complete answer within {seconds}",
            no_answer=True,
        ), True
    if isinstance(exc, TimeoutError):
        silent = f"nothing for {config.read_timeout:g} s (the read timeout)"
        return NoCompleteAnswer(
            received=silent, expected="a 401 answer", no_answer=True
        ), True
    if isinstance(exc, http.client.HTTPException) and "headers" in str(exc):
        return AnswerTooLarge(
            what="header fields",
            received=f"{type(exc).__name__}: {exc}",
            expected="a handful of header fields",
        ), False
    if isinstance(exc, http.client.HTTPException):
        return BrokenAnswer(
            title="The answer is not valid HTTP/1.1",
            received=f"{type(exc).__name__}: {exc}",
            expected="a status line and header fields (RFC 9112)",
        ), False
    return NoCompleteAnswer(
        received=f"the connection ended without an answer ({type(exc).__name__}: {exc})",
        expected="a 401 answer",
        no_answer=True,
    ), True


# ─── AUTH-001, AUTH-007: no key, and a valid key ─────────────────────────────


@pytest.mark.smoke
@pytest.mark.requirement("AUTH-001")
@pytest.mark.spend(requests=1)
def test_request_without_authorization_is_rejected_with_401_invalid_api_key(
    api: SuiteClient, record: RequirementRecorder
) -> None:
    ex = api.request("GET", "models", key=None)
    with record.check("AUTH-001"):
        # "type invalid_request_error and code invalid_api_key in the error envelope"
        refused_with(
            ex,
            401,
            "invalid_api_key",
            error_type="invalid_request_error",
            envelope=True,
        )
    judge_error(record, ex)


@pytest.mark.smoke
@pytest.mark.requirement("AUTH-007")
@pytest.mark.spend(requests=1)
def test_valid_bearer_key_is_accepted_by_the_model_listing(api: SuiteClient) -> None:
    key_accepted(api.request("GET", "models"))


# ─── AUTH-002 … AUTH-006: malformed or misplaced credentials ────────────────

# case id → (requirement, Authorization value built from the main key)
HEADER_CASES: dict[str, tuple[str, Callable[[str], str]]] = {
    "bearer-alone": ("AUTH-002", lambda key: "Bearer"),
    "basic-base64": (
        "AUTH-003",
        lambda key: "Basic " + base64.b64encode(f"{key}:".encode()).decode(),
    ),
    "token-scheme": ("AUTH-003", lambda key: f"Token {key}"),
    "bare-key": ("AUTH-004", lambda key: key),
    "extra-words": ("AUTH-004", lambda key: f"Bearer {key} extra"),
}


@pytest.mark.spend(requests=1)
@pytest.mark.parametrize(
    "case",
    [
        pytest.param(case, id=case, marks=pytest.mark.requirement(rid))
        for case, (rid, _) in HEADER_CASES.items()
    ],
)
def test_malformed_authorization_header_is_rejected_with_401_invalid_api_key(
    api: SuiteClient,
    record: RequirementRecorder,
    target_config: TargetConfig,
    case: str,
) -> None:
    requirement, build = HEADER_CASES[case]
    value = build(main_key(target_config))
    ex = api.request("GET", "models", key=None, headers={"Authorization": value})
    with record.check(requirement):
        refused_with(ex, 401, "invalid_api_key")
    judge_error(record, ex)


@pytest.mark.requirement("AUTH-002")
@pytest.mark.spend(requests=1)
def test_bearer_with_an_empty_token_is_rejected_with_401_invalid_api_key(
    api: SuiteClient, record: RequirementRecorder
) -> None:
    # 'Bearer ' with nothing after it: sent raw, httpx will not (see the helper).
    response = send_raw_authorization(api, record, "models", "Bearer ")
    with record.check("AUTH-002"):
        refused_with(response, 401, "invalid_api_key")
    judge_error(record, response)


@pytest.mark.requirement("AUTH-005")
@pytest.mark.spend(requests=1)
def test_unknown_qbt_key_is_rejected_with_401_invalid_api_key(
    api: SuiteClient, record: RequirementRecorder
) -> None:
    ex = api.request("GET", "models", key=unknown_key())
    with record.check("AUTH-005"):
        refused_with(ex, 401, "invalid_api_key")
    judge_error(record, ex)


# case id → how the valid key is sent instead of the Authorization header
PLACES: dict[str, Callable[[str], dict[str, Any]]] = {
    "query-api_key": lambda key: {"params": {"api_key": key}},
    "query-key": lambda key: {"params": {"key": key}},
    "x-api-key-header": lambda key: {"headers": {"X-Api-Key": key}},
    "api-key-header": lambda key: {"headers": {"api-key": key}},
}


def served_without_a_key(api: SuiteClient, arguments: dict[str, Any]) -> bool:
    """True when the same kind of request with no credential at all is served.

    Then a refusal that did not come is AUTH-001's finding (keyless requests are
    served), and whether the case at hand was judged on its own merits is unknowable.
    """
    return 200 <= api.request(key=None, **arguments).status_code <= 299


KEYLESS_IS_SERVED = "requests without any key are served (AUTH-001), so this case "


@pytest.mark.requirement("AUTH-006")
@pytest.mark.spend(requests=2)
@pytest.mark.parametrize("place", list(PLACES))
def test_valid_key_outside_the_authorization_header_is_rejected_with_401(
    api: SuiteClient,
    record: RequirementRecorder,
    target_config: TargetConfig,
    place: str,
) -> None:
    where = PLACES[place](main_key(target_config))
    ex = api.request("GET", "models", key=None, **where)
    if ex.status_code != 401 and served_without_a_key(
        api, {"method": "GET", "path": "models"}
    ):
        record.skipped("AUTH-006", KEYLESS_IS_SERVED + "tells nothing about it")
    else:
        with record.check("AUTH-006"):
            refused_with(ex, 401, "invalid_api_key")
    judge_error(record, ex)


# ─── AUTH-008, AUTH-009: every endpoint, before the body ─────────────────────


ENDPOINTS = ("models", "completions", "chat", "embeddings", "images", "transcriptions")


@pytest.mark.requirement("AUTH-008")
@pytest.mark.spend(requests=1)
@pytest.mark.parametrize(
    "endpoint", [pytest.param(e, marks=endpoint_marks(e)) for e in ENDPOINTS]
)
def test_every_documented_endpoint_rejects_a_well_formed_request_without_a_key(
    api: SuiteClient,
    record: RequirementRecorder,
    target_config: TargetConfig,
    endpoint: str,
) -> None:
    model = None if endpoint == "models" else target_config.model(endpoint)
    ex = api.request(key=None, **minimal_request(endpoint, model))
    with record.check("AUTH-008"):
        refused_with(ex, 401, "invalid_api_key")
    judge_error(record, ex)


# case id → (path, request arguments) of a body the endpoint would refuse with 400
INVALID_BODIES: dict[str, tuple[str, dict[str, Any]]] = {
    "chat-empty-object": ("chat/completions", {"json": {}}),
    "chat-malformed-json": (
        "chat/completions",
        {"content": b'{"model": ', "headers": {"Content-Type": "application/json"}},
    ),
    "embeddings-wrong-types": ("embeddings", {"json": {"model": 5, "input": None}}),
}


@pytest.mark.requirement("AUTH-009")
@pytest.mark.spend(requests=2, tokens=2)
@pytest.mark.parametrize("case", list(INVALID_BODIES))
def test_invalid_body_without_a_key_is_refused_for_the_key_not_the_body(
    api: SuiteClient,
    record: RequirementRecorder,
    target_config: TargetConfig,
    case: str,
) -> None:
    path, arguments = INVALID_BODIES[case]
    ex = api.request("POST", path, key=None, **arguments)
    endpoint = "chat" if path.startswith("chat") else "embeddings"
    valid = minimal_request(endpoint, target_config.model(endpoint))
    if ex.status_code != 401 and served_without_a_key(api, valid):
        record.skipped("AUTH-009", KEYLESS_IS_SERVED + "shows no order of checks")
    else:
        with record.check("AUTH-009"):
            refused_with(ex, 401, "invalid_api_key")
    judge_error(record, ex)


# ─── AUTH-010: the presented token is never echoed ───────────────────────────

CANARY_FORMS: dict[str, Callable[[str], str]] = {
    "bearer-unknown-key": lambda canary: f"Bearer {canary}",
    "token-scheme": lambda canary: f"Token {canary}",
    "bare-key": lambda canary: canary,
}


@pytest.mark.requirement("AUTH-010")
@pytest.mark.spend(requests=2)
@pytest.mark.parametrize("form", list(CANARY_FORMS))
def test_refusal_never_echoes_the_presented_token(
    api: SuiteClient, record: RequirementRecorder, form: str
) -> None:
    canary = unknown_key("qbt_canary_")  # never a real key
    value = CANARY_FORMS[form](canary)
    chat = minimal_request("chat", api.config.model("chat"))
    for arguments in ({"method": "GET", "path": "models"}, chat):
        ex = api.request(key=None, headers={"Authorization": value}, **arguments)
        with record.check("AUTH-010"):
            response_does_not_echo_key(ex, canary)
        judge_error(record, ex)


# ─── AUTH-011: exhausted credit ──────────────────────────────────────────────


@pytest.mark.capability("zero_balance")
@pytest.mark.requirement("AUTH-011")
@pytest.mark.spend(requests=1, tokens=2)
def test_key_with_exhausted_credit_is_rejected_with_402_insufficient_funds(
    api: SuiteClient, record: RequirementRecorder, target_config: TargetConfig
) -> None:
    model = target_config.model("chat")
    if not model:  # a 400 for the missing model would hide the 402
        pytest.skip("no chat model configured (QBTSUITE_MODELS_CHAT or [models] chat)")
    ex = api.request(key="zero_balance", **minimal_request("chat", model))
    with record.check("AUTH-011"):
        refused_with(ex, 402, "insufficient_funds", envelope=True)
    judge_error(record, ex)
