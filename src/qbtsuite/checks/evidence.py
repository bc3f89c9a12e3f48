"""What an answer can prove: a refusal about the request, or something else.

A negative check ("a file that is not audio is refused with a 4xx", "an upload within
the cap is not refused as too large") holds only on an answer *about the request it
sent*. The other answers name their own reason, and prove nothing about the property:

- 401/403 are about the key, 404/405 about the route, 407/408 about the connection:
  the target's doing, so the check fails, saying so;
- a throttle (429, 402, or a 5xx with Retry-After) is about the run's own use of its
  key: no evidence either way, and no verdict: :class:`~qbtsuite.errors.NoEvidence`
  ends the test as an error (the client waits such answers out before a check sees
  them, unless the test spends that key on purpose).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from types import MappingProxyType

from qbtsuite.checks._format import ResponseLike, describe_response, failure, read_body
from qbtsuite.checks._registry import check
from qbtsuite.errors import NoEvidence
from qbtsuite.target.throttle import throttle_answer

__all__ = [
    "NOT_ABOUT_THE_REQUEST",
    "answer_is_about_the_request",
    "not_a_throttle",
]

# Statuses that answer something other than the request's content (RFC 9110 §15.5).
NOT_ABOUT_THE_REQUEST: Mapping[int, str] = MappingProxyType(
    {
        401: "a refusal of the key",
        403: "a refusal of access",
        404: "a missing route",
        405: "a refused method",
        407: "a proxy's demand for credentials",
        408: "a timeout",
    }
)


def not_a_throttle(response: ResponseLike, about: str) -> None:
    """Raise :class:`NoEvidence` when ``response`` throttles the run's key.

    ``about`` names the property the answer cannot prove (for the reason line).
    """
    answer = throttle_answer(
        response.status_code, response.headers, read_body(response) or b""
    )
    if answer is not None:
        raise NoEvidence(
            f"the answer is a throttle ({answer.describe()}): the run's own limit, "
            f"no evidence about {about}"
        )


@check
def answer_is_about_the_request(
    response: ResponseLike,
    *,
    accepted: Collection[int] = (),
    title: str,
    expected: str,
    about: str,
) -> None:
    """The answer is a 4xx about the request's content, or one of ``accepted``.

    ``expected`` states the evidence the check needs (e.g. "a 4xx about the file,
    not 401/403/404/429"); a throttle is :class:`NoEvidence`, anything else fails.
    """
    not_a_throttle(response, about)
    status = response.status_code
    if status in accepted:
        return
    if 400 <= status <= 499 and status not in NOT_ABOUT_THE_REQUEST:
        return
    why = NOT_ABOUT_THE_REQUEST.get(status)
    received = describe_response(response)
    if why is not None:
        received += f" ({status} is {why}, no answer about {about})"
    raise failure(title, received, expected)
