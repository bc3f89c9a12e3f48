"""Error-envelope faults: the right status with a wrong body, or a wrong status."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Scope

from qbtsuite.server.faults import Fault, fault
from qbtsuite.server.faults._asgi import (
    Headers,
    json_rewrite,
    replace_header,
    rewrite_response,
)

__all__: list[str] = []

# What each requirement's statement names of an error answer, so a fault that breaks
# the envelope breaks every requirement that names the part it breaks.
_NAMES_A_401_CODE = (
    *("AUTH-001", "AUTH-002", "AUTH-003", "AUTH-004", "AUTH-005", "AUTH-006"),
    *("AUTH-008", "AUTH-009", "HTTPS-005", "CLIENT-008"),
)
_NAMES_A_CODE = (
    *_NAMES_A_401_CODE,
    *("AUTH-011", "ERR-007", "ERR-008", "ERR-009", "ERR-010"),
    *("COMP-005", "COMP-006", "COMP-007", "COMP-008", "COMP-013"),
    *("CHAT-005", "CHAT-006", "CHAT-007", "CHAT-008", "CHAT-013"),
    *("EMB-006", "EMB-007", "EMB-008", "EMB-009", "EMB-010", "EMB-012", "EMB-014"),
    *("IMG-008", "IMG-009", "IMG-010", "IMG-011", "IMG-012"),
    *("AUD-008", "AUD-009", "AUD-010", "AUD-012", "AUD-013"),
    *("UPLOAD-002", "UPLOAD-003", "RATE-001"),
)
# "in the error envelope" without naming a code.
_NAMES_THE_ENVELOPE = ("AUD-011", "UPLOAD-005")
# An error member at all (answers outside the documented API, errors before a stream).
_NAMES_AN_ERROR_MEMBER = ("ERR-011", "ERR-013", "MODEL-009", "MODEL-010")
# ERR-003 … ERR-006 read one member each: no error object fails all four.
_MEMBERS = ("ERR-003", "ERR-004", "ERR-005", "ERR-006")


def _on_error(transform: Any) -> Any:
    def apply(scope: Scope, body: Any) -> Any:
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            return transform(body)
        return body

    return apply


@fault(
    "errors.plain_text_401",
    area="errors",
    breaks=("ERR-002", *_MEMBERS, "ERR-013", *_NAMES_A_401_CODE),
    description="401 answers are a bare text/plain 'Unauthorized' instead of the envelope",
)
class PlainText401(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        def rewrite(
            s: Scope, status: int, h: Headers, b: bytes
        ) -> tuple[int, Headers, bytes]:
            if status != 401:
                return status, h, b
            return (
                status,
                replace_header(h, b"content-type", b"text/plain"),
                b"Unauthorized",
            )

        return rewrite_response(app, rewrite)


@fault(
    "errors.envelope_without_code",
    area="errors",
    breaks=("ERR-001", "ERR-005", *_NAMES_A_CODE, *_NAMES_THE_ENVELOPE),
    description="Error envelopes carry message and type but no code",
)
class EnvelopeWithoutCode(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        def drop(body: dict[str, Any]) -> dict[str, Any]:
            body["error"].pop("code", None)
            return body

        return rewrite_response(app, json_rewrite(_on_error(drop)))


@fault(
    "errors.string_error",
    area="errors",
    breaks=("ERR-001", *_MEMBERS, *_NAMES_A_CODE, *_NAMES_THE_ENVELOPE),
    description='Errors are {"error": "<message>"}: a string where clients expect an object',
)
class StringError(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        return rewrite_response(
            app, json_rewrite(_on_error(lambda b: {"error": b["error"]["message"]}))
        )


@fault(
    "errors.wrong_error_type",
    area="errors",
    # AUTH-001 names invalid_request_error, ERR-009/ERR-010 api_error.
    breaks=("ERR-003", "ERR-004", "AUTH-001", "ERR-009", "ERR-010"),
    description="Every error has type 'error', not the documented type for its status",
)
class WrongErrorType(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        def retype(body: dict[str, Any]) -> dict[str, Any]:
            body["error"]["type"] = "error"
            return body

        return rewrite_response(app, json_rewrite(_on_error(retype)))


@fault(
    "errors.no_param_field",
    area="errors",
    breaks=("ERR-006",),
    description="Error envelopes omit OpenAI's 'param' key",
)
class NoParamField(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        def drop(body: dict[str, Any]) -> dict[str, Any]:
            body["error"].pop("param", None)
            return body

        return rewrite_response(app, json_rewrite(_on_error(drop)))


@fault(
    "errors.html_not_found",
    area="errors",
    breaks=("ERR-011", "MODEL-009", "MODEL-010"),
    description="Unknown paths get an HTML 404 page from the web server, not the envelope",
)
class HtmlNotFound(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        page = b"<html><body><h1>404 Not Found</h1><hr>nginx</body></html>"

        def rewrite(
            s: Scope, status: int, h: Headers, b: bytes
        ) -> tuple[int, Headers, bytes]:
            if status != 404:
                return status, h, b
            return status, replace_header(h, b"content-type", b"text/html"), page

        return rewrite_response(app, rewrite)


@fault(
    "errors.validation_as_500",
    area="errors",
    breaks=("ERR-007", "ERR-008"),
    description="Body validation failures surface as 500 api_error instead of 400",
)
class ValidationAs500(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        def rewrite(
            s: Scope, status: int, h: Headers, b: bytes
        ) -> tuple[int, Headers, bytes]:
            if status != 400 or b'"invalid_request"' not in b:
                return status, h, b
            body = json.loads(b)
            body["error"].update(type="api_error", code="internal_error")
            return 500, h, json.dumps(body).encode()

        return rewrite_response(app, rewrite)


@fault(
    "errors.model_not_found_as_404",
    area="errors",
    breaks=(
        "COMP-007",
        "CHAT-007",
        "EMB-009",
        "IMG-011",
        "AUD-012",
        "COMP-008",
        "CHAT-008",
        "EMB-010",
        "IMG-012",
        "AUD-013",
        "ERR-005",
        "CLIENT-008",
    ),
    description="Unknown or unsupported models get 404 instead of 400 model_not_found",
)
class ModelNotFoundAs404(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        def rewrite(
            s: Scope, status: int, h: Headers, b: bytes
        ) -> tuple[int, Headers, bytes]:
            if status == 400 and b'"model_not_found"' in b:
                return 404, h, b
            return status, h, b

        return rewrite_response(app, rewrite)


# The OpenAI SDKs obey x-should-retry before the status (protocol-facts.md §2.1).
_RETRYABLE_4XX = (408, 409, 429)


@fault(
    "errors.should_retry_on_client_errors",
    area="errors",
    breaks=("ERR-012",),
    description="Every error carries 'x-should-retry: true', client errors included",
)
class ShouldRetryOnClientErrors(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        def hint(
            s: Scope, status: int, h: Headers, b: bytes
        ) -> tuple[int, Headers, bytes]:
            if 400 <= status <= 499 and status not in _RETRYABLE_4XX:
                h = replace_header(h, b"x-should-retry", b"true")
            return status, h, b

        return rewrite_response(app, hint)


@fault(
    "errors.fastapi_detail",
    area="errors",
    breaks=(
        "ERR-001",
        *_MEMBERS,
        *_NAMES_A_CODE,
        *_NAMES_THE_ENVELOPE,
        *_NAMES_AN_ERROR_MEMBER,
    ),
    description='Every error body is FastAPI\'s {"detail": "<message>"}, status kept',
)
class FastapiDetail(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        return rewrite_response(
            app, json_rewrite(_on_error(lambda b: {"detail": b["error"]["message"]}))
        )
