"""HTTPS only: plain HTTP is redirected, never processed; HSTS on HTTPS answers.

spec/getting-started.txt: "HTTPS only. Plain HTTP requests are redirected to HTTPS".
Following a redirect is the client's decision, so "the redirect strips the
Authorization header" cannot be checked on the server (protocol-facts §4.3); what is
checked is the redirect itself (T1–T3), that it does not depend on a presented key,
and Strict-Transport-Security (T4).

A target whose base URL is ``http://`` speaks plain HTTP itself: that is HTTPS-001's
finding, once (:func:`api_not_served_over_plain_http`); the other HTTPS requirements
need an HTTPS API and its plain-HTTP listener, and are skipped with
:data:`NEEDS_AN_HTTPS_API`. HSTS is judged on HTTPS answers only: over plain HTTP it
is not sent and is ignored (RFC 6797 §7.2, §8.1).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx

from qbtsuite.checks._format import (
    ResponseLike,
    describe_response,
    failure,
    header,
    media_type,
    read_body,
)
from qbtsuite.checks._registry import check
from qbtsuite.errors import CheckFailure

__all__ = [
    "HSTS_NEEDS_HTTPS",
    "METHOD_PRESERVING",
    "NEEDS_AN_HTTPS_API",
    "REDIRECTS",
    "api_not_served_over_plain_http",
    "hsts_present",
    "not_processed_over_http",
    "plain_http_notice",
    "redirect_preserves_method",
    "redirect_to_https_same_target",
    "same_redirect_with_and_without_key",
    "speaks_plain_http",
]

REDIRECTS = frozenset({301, 302, 303, 307, 308})
METHOD_PRESERVING = frozenset({307, 308})  # RFC 9110 §15.4.8/§15.4.9

_MAX_AGE = re.compile(r'(?i)(?:^|;)\s*max-age\s*=\s*"?(\d+)"?\s*(?:;|$)')

# Why HTTPS-002 … HTTPS-006 cannot be judged on a plain-HTTP target, and what to set.
NEEDS_AN_HTTPS_API = (
    "the target speaks plain HTTP: this check needs an HTTPS API "
    "(--base-url https://… or QUBITTRON_BASE_URL) and its plain-HTTP listener "
    "(--http-url or QBTSUITE_HTTP_URL; default: the base URL on http:// port 80)"
)
HSTS_NEEDS_HTTPS = (
    "the target speaks plain HTTP: HSTS is judged on HTTPS answers only (RFC 6797 "
    "§7.2: it is not sent over plain HTTP; §8.1: it is ignored there); this check "
    "needs an HTTPS API (--base-url https://… or QUBITTRON_BASE_URL)"
)


def speaks_plain_http(base_url: str) -> bool:
    """True when the API itself is served over plain HTTP (an ``http://`` base URL)."""
    return urlsplit(base_url).scheme.lower() == "http"


def plain_http_notice(base_url: str) -> str:
    """The line a run prints first when its target speaks plain HTTP."""
    return (
        f"the target speaks plain HTTP ({urlsplit(base_url).netloc}): keys and "
        "bodies cross the network in cleartext. HTTPS-001 fails; HTTPS-002…006 "
        "are skipped (they need --base-url https://… and the plain-HTTP listener, "
        "--http-url or QBTSUITE_HTTP_URL)"
    )


def _location(response: ResponseLike) -> str | None:
    return header(response, "location")


@check
def redirect_to_https_same_target(
    request_url: str | httpx.URL, response: ResponseLike
) -> None:
    """A 3xx whose Location is https:// on the same host, path and query (HTTPS-001).

    The port may change (the HTTPS listener has its own).
    """
    asked = httpx.URL(str(request_url))
    expected = (
        f"a 3xx with Location https://{asked.host}[:port]{asked.raw_path.decode()}"
    )
    location = _location(response)
    if response.status_code not in REDIRECTS or not location:
        raise failure(
            "Plain HTTP not redirected",
            f"{describe_response(response)} Location: {location}",
            expected,
        )
    try:
        target = httpx.URL(location)
    except httpx.InvalidURL as exc:
        raise failure(
            "Redirect Location unusable", f"Location: {location} ({exc})", expected
        ) from None
    problems = []
    if target.scheme != "https":
        problems.append(f"scheme {target.scheme or '(relative)'}")
    if target.host and target.host.lower() != asked.host.lower():
        problems.append(f"host {target.host}")
    if target.raw_path != asked.raw_path:
        problems.append(f"path and query {target.raw_path.decode()}")
    if problems:
        raise failure(
            "Redirect does not lead to the same target on https",
            f"{response.status_code} Location: {location} ({', '.join(problems)})",
            expected,
        )


@check
def api_not_served_over_plain_http(
    request_url: str | httpx.URL, response: ResponseLike
) -> None:
    """HTTPS-001 on an ``http://`` base URL: the API's own answer must be the redirect.

    "HTTPS only. Plain HTTP requests are redirected to HTTPS" (getting-started.txt).
    """
    try:
        redirect_to_https_same_target(request_url, response)
    except CheckFailure as exc:
        raise failure(
            "The API is served over plain HTTP",
            f"GET {request_url} (the http:// base URL itself) answered {exc.received}",
            f"{exc.expected} (the API is HTTPS only)",
        ) from None


@check
def redirect_preserves_method(response: ResponseLike) -> None:
    """The redirect is 307 or 308, which keep POST and its body (HTTPS-004)."""
    status = response.status_code
    if status not in METHOD_PRESERVING:
        why = (
            "clients follow 301/302/303 with GET and no body"
            if status in REDIRECTS
            else "not a redirect"
        )
        raise failure(
            "Redirect does not keep the method", f"{status} ({why})", "307 or 308"
        )


@check
def not_processed_over_http(response: ResponseLike) -> None:
    """A plain-HTTP request is only redirected: no 2xx, 401, API body or cookie (HTTPS-002/003)."""
    expected = "a 3xx redirect to https with no API body and no Set-Cookie"
    if response.status_code not in REDIRECTS:
        raise failure(
            "Plain-HTTP request processed",
            describe_response(response),
            expected,
        )
    if header(response, "set-cookie") is not None:
        raise failure(
            "Plain-HTTP redirect sets a cookie",
            f"{response.status_code} with Set-Cookie",
            expected,
        )
    body = read_body(response) or b""
    if body.strip() and (
        "json" in media_type(response) or body.lstrip()[:1] in (b"{", b"[")
    ):
        raise failure(
            "Plain-HTTP redirect carries an API body",
            describe_response(response),
            expected,
        )


@check
def same_redirect_with_and_without_key(
    without_key: ResponseLike, with_key: ResponseLike
) -> None:
    """A (canary) key does not change the plain-HTTP answer: it is not looked at (HTTPS-003)."""
    a = (without_key.status_code, _location(without_key))
    b = (with_key.status_code, _location(with_key))
    if a != b:
        raise failure(
            "Plain-HTTP answer depends on the key",
            f"without key {a[0]} Location: {a[1]}; with key {b[0]} Location: {b[1]}",
            "the same redirect whether or not a key is sent",
        )


@check
def hsts_present(response: ResponseLike, url: str | httpx.URL) -> None:
    """Strict-Transport-Security with max-age > 0 on an HTTPS answer (HTTPS-006).

    ``url`` is the URL that was asked: only an HTTPS answer can be judged (RFC 6797
    §7.2: not sent over plain HTTP; §8.1: ignored there).
    """
    if httpx.URL(str(url)).scheme != "https":
        raise ValueError(f"HSTS is judged on HTTPS answers only, not on {url}")
    value = header(response, "strict-transport-security")
    match = _MAX_AGE.search(value or "")
    if match is None or int(match.group(1)) <= 0:
        raise failure(
            "No HSTS",
            f"{response.status_code} with Strict-Transport-Security: {value}",
            "Strict-Transport-Security: max-age=<seconds > 0>",
        )
