"""The 25 MB upload cap (spec/audio-transcriptions.txt "Multipart upload, 25 MB cap").

Just under the cap is not refused as too large (it may still be refused for other
reasons, e.g. the filler is not audio); just over is 413 ``request_entity_too_large``
in the envelope, ideally before the client has sent the whole body (UPLOAD-004).
"""

from __future__ import annotations

from qbtsuite.checks._format import ResponseLike, describe_response, failure
from qbtsuite.checks._registry import check
from qbtsuite.checks.envelope import error_code_is, error_envelope_conforms
from qbtsuite.checks.evidence import answer_is_about_the_request

__all__ = [
    "oversize_json_refused",
    "oversize_upload_refused",
    "upload_not_rejected_as_too_large",
    "upload_rejected_before_body_sent",
    "upload_rejected_with_413",
]


@check
def upload_rejected_with_413(response: ResponseLike) -> None:
    """413 with code request_entity_too_large in the envelope (UPLOAD-002/003)."""
    error_code_is(response, 413, "request_entity_too_large")


@check
def upload_not_rejected_as_too_large(response: ResponseLike) -> None:
    """A body within the cap is not refused with 413 (UPLOAD-001).

    The evidence is the endpoint's answer to the upload: a 2xx, or a 4xx about its
    content (the padding is no audio). A refusal of the key or the route says
    nothing about the cap; a throttle is the run's own (no evidence).
    """
    if response.status_code == 413:
        raise failure(
            "Upload within the cap refused as too large",
            describe_response(response),
            "the endpoint's answer to a body of at most 25 MB: a 2xx, or a 4xx "
            "about its content, but not 413",
        )
    answer_is_about_the_request(
        response,
        accepted=range(200, 300),
        title="Upload within the cap not answered by the endpoint",
        expected="the endpoint's answer to a body of at most 25 MB: a 2xx, or a 4xx "
        "about its content (not 401/403/404/405, not 413)",
        about="the upload cap",
    )


@check
def oversize_upload_refused(response: ResponseLike) -> None:
    """An oversized upload is refused as a request (the refusal UPLOAD-004 times).

    413 is the documented refusal; any other 4xx about the request is a refusal
    too, its status judged by UPLOAD-002/003. A refusal of the key or the route is
    no refusal of the size.
    """
    answer_is_about_the_request(
        response,
        title="Oversized upload not refused as too large",
        expected="413 request_entity_too_large (or another 4xx about the request, "
        "not 401/403/404/405), before the whole body was sent",
        about="the upload cap",
    )


@check
def upload_rejected_before_body_sent(bytes_sent: int, total_bytes: int) -> None:
    """The refusal arrived while the client still had bytes to send (UPLOAD-004).

    ``bytes_sent`` is how much of the body the client had handed to the socket when
    the response (or the connection's closing) arrived.
    """
    if not 0 <= bytes_sent < total_bytes:
        raise failure(
            "Oversized upload read to the end before refusal",
            f"answered after {bytes_sent:,} of {total_bytes:,} bytes were sent",
            "the 413 before the whole body was sent",
        )


@check
def oversize_json_refused(response: ResponseLike) -> None:
    """A JSON body over 25 MB is refused with 413 or 400 in the envelope (UPLOAD-005)."""
    if response.status_code not in (400, 413):
        raise failure(
            "Oversized JSON body not refused cleanly",
            describe_response(response),
            "413 request_entity_too_large (or 400) in the error envelope",
        )
    error_envelope_conforms(response)
