"""HTTPS only: plain HTTP is redirected and never processed; HSTS on HTTPS answers.

getting-started.txt: "HTTPS only. Plain HTTP requests are redirected to HTTPS, and the
redirect strips the Authorization header for security." A server cannot strip a
header from a redirect: following it is the client's decision (protocol-facts §4.3).
So the tests check what a server controls (T1–T4 of §4.3): the redirect itself, that
it does not depend on a presented (canary, never real) key, what HTTPS answers a
request that arrives without the header, and Strict-Transport-Security. Redirects are
never followed automatically; the suite's client does not follow them at all.

A target whose base URL is ``http://`` speaks plain HTTP itself: HTTPS-001 fails once
on that evidence (its API answers a plain-HTTP request), and the other requirements,
which need an HTTPS API and its plain-HTTP listener, are skipped saying what to set.
"""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest

from qbtsuite.checks import (
    HSTS_NEEDS_HTTPS,
    NEEDS_AN_HTTPS_API,
    REDIRECTS,
    api_not_served_over_plain_http,
    hsts_present,
    not_processed_over_http,
    redirect_preserves_method,
    redirect_to_https_same_target,
    refused_with,
    same_redirect_with_and_without_key,
    speaks_plain_http,
)
from qbtsuite.errors import (
    BrokenAnswer,
    CheckFailure,
    NoCompleteAnswer,
    TargetUnreachable,
)
from qbtsuite.harness.recording import RequirementRecorder
from qbtsuite.harness.verdicts import judge_error
from qbtsuite.target.client import SuiteClient
from qbtsuite.target.config import TargetConfig
from qbtsuite.target.exchange import Exchange
from qbtsuite.target.values import derive_http_url

QUERY = "qbtsuite=redirect-probe"  # must come back unchanged in Location


def canary_key() -> str:
    """A generated key-shaped value: what is sent over cleartext is never real."""
    return "qbt_canary_" + secrets.token_hex(12)


def plain(config: TargetConfig, path: str) -> str:
    """``path`` (with the probe query) under the plain-HTTP URL of the target."""
    return f"{config.http_url.rstrip('/')}/{path}?{QUERY}"


def needs_an_https_api(config: TargetConfig) -> None:
    """Skip a check that needs an HTTPS API when the target speaks plain HTTP."""
    if speaks_plain_http(config.base_url):
        pytest.skip(NEEDS_AN_HTTPS_API)


def request_of(config: TargetConfig, what: str) -> dict[str, Any]:
    """A GET of the model list or a small, well-formed chat POST."""
    if what == "get-models":
        return {"method": "GET", "path": "models"}
    body = {
        "model": config.model("chat"),
        "messages": [{"role": "user", "content": "Hi"}],
        "max_tokens": 1,
    }
    return {"method": "POST", "path": "chat/completions", "json": body}


class PlainHttpUnanswered(CheckFailure):
    """Nothing answers on plain HTTP (refused, reset, timed out).

    HTTPS-001 promises a redirect, so for it this is a failure; nothing was
    processed either, so HTTPS-002/003 hold.
    """

    def __init__(self, url: str, reason: str, derived: bool) -> None:
        where = (
            " (the plain-HTTP URL derived from the base URL; set --http-url or "
            "QBTSUITE_HTTP_URL if the listener is elsewhere)"
            if derived
            else ""
        )
        super().__init__(
            title="Plain HTTP not answered",
            received=f"{url}: {reason}{where}",
            expected="a 3xx redirect to the same target on https",
        )


def over_http(
    api: SuiteClient, config: TargetConfig, what: str, key: str | None
) -> tuple[str, Exchange]:
    """Send ``what`` to the plain-HTTP listener; the URL asked and the answer."""
    arguments = request_of(config, what)
    url = plain(config, arguments.pop("path"))
    try:
        return url, api.request(path=url, key=key, **arguments)
    except (TargetUnreachable, httpx.TransportError) as exc:
        derived = config.http_url == derive_http_url(config.base_url)
        reason = str(exc) or type(exc).__name__
        raise PlainHttpUnanswered(url, reason, derived) from None
    except (NoCompleteAnswer, BrokenAnswer) as exc:  # the client's bounds
        derived = config.http_url == derive_http_url(config.base_url)
        raise PlainHttpUnanswered(url, exc.received, derived) from None


WHAT = ["get-models", "post-chat"]


# ─── HTTPS-001 … HTTPS-003: redirected, never processed ──────────────────────


@pytest.mark.requirement("HTTPS-001")
@pytest.mark.spend(requests=1)
@pytest.mark.parametrize(
    "what",
    [pytest.param("get-models", marks=pytest.mark.smoke), "post-chat"],
)
def test_plain_http_request_is_redirected_to_the_same_target_on_https(
    api: SuiteClient, target_config: TargetConfig, what: str
) -> None:
    if speaks_plain_http(target_config.base_url):
        # One finding, once: the API itself answers plain HTTP.
        if what != "get-models":
            pytest.skip("the target speaks plain HTTP: judged once, on GET models")
        url = f"{api.url('models')}?{QUERY}"
        api_not_served_over_plain_http(url, api.request("GET", url, key=None))
        return
    url, ex = over_http(api, target_config, what, key=None)
    redirect_to_https_same_target(url, ex)


@pytest.mark.requirement("HTTPS-002")
@pytest.mark.spend(requests=1)
@pytest.mark.parametrize("what", WHAT)
def test_plain_http_request_without_a_key_is_never_processed(
    api: SuiteClient,
    record: RequirementRecorder,
    target_config: TargetConfig,
    what: str,
) -> None:
    needs_an_https_api(target_config)
    try:
        _, ex = over_http(api, target_config, what, key=None)
    except PlainHttpUnanswered as exc:
        record.note(f"{exc.received}: nothing answers plain HTTP, so nothing is served")
        return
    with record.check("HTTPS-002"):
        not_processed_over_http(ex)
    judge_error(record, ex)


@pytest.mark.requirement("HTTPS-003")
@pytest.mark.spend(requests=2)
@pytest.mark.parametrize("what", WHAT)
def test_plain_http_request_with_a_key_gets_the_same_redirect_unvalidated(
    api: SuiteClient,
    record: RequirementRecorder,
    target_config: TargetConfig,
    what: str,
) -> None:
    needs_an_https_api(target_config)
    try:
        _, without_key = over_http(api, target_config, what, key=None)
        _, with_key = over_http(api, target_config, what, key=canary_key())
    except PlainHttpUnanswered as exc:
        record.note(f"{exc.received}: nothing answers plain HTTP, so nothing is served")
        return
    with record.check("HTTPS-003"):
        not_processed_over_http(with_key)
        same_redirect_with_and_without_key(without_key, with_key)
    judge_error(record, with_key)


# ─── HTTPS-004, HTTPS-005: the redirect as clients follow it ─────────────────


def clients_that_resend_the_key(http_url: str, location: str | None) -> str:
    """Which common clients send ``Authorization`` again after this redirect (§4.2)."""
    source, target = httpx.URL(http_url), httpx.URL(location or "")
    same_host = not target.host or target.host.lower() == source.host.lower()
    default_ports = source.port in (None, 80) and target.port in (None, 443)
    if same_host and default_ports and target.scheme == "https":
        return (
            "On this http:80 → https:443 redirect openai-python (httpx2), httpx and "
            "requests re-send the Authorization header; curl (≥ 7.83) and Node fetch "
            "/ openai-node strip it. The key has crossed the network in cleartext "
            "either way."
        )
    return (
        "This redirect changes the host or port, so openai-python, httpx, requests, "
        "curl and Node fetch all strip the Authorization header (the key still "
        "crossed the network in cleartext on the first request). On a standard "
        "http:80 → https:443 redirect the Python clients would re-send it."
    )


def _method_note(status: int) -> str:
    if status in (307, 308):
        return f"{status} keeps POST and its body in every common client."
    if status in REDIRECTS:
        return f"{status}: every common client follows a POST with a GET without body."
    return f"{status} is not a redirect."


@pytest.mark.requirement("HTTPS-004")
@pytest.mark.spend(requests=1)
def test_redirect_of_a_post_keeps_the_method_with_307_or_308(
    api: SuiteClient, record: RequirementRecorder, target_config: TargetConfig
) -> None:
    needs_an_https_api(target_config)
    try:
        _, ex = over_http(api, target_config, "post-chat", key=None)
    except PlainHttpUnanswered as exc:
        pytest.skip(f"no redirect to judge: {exc.received}")
    if ex.status_code not in REDIRECTS:
        pytest.skip(f"plain HTTP answered {ex.status_code}, not a redirect to judge")
    record.note(_method_note(ex.status_code))
    redirect_preserves_method(ex)


@pytest.mark.requirement("HTTPS-005")
@pytest.mark.spend(requests=2)
@pytest.mark.parametrize("what", WHAT)
def test_request_following_the_redirect_without_its_key_is_rejected_with_401(
    api: SuiteClient,
    record: RequirementRecorder,
    target_config: TargetConfig,
    what: str,
) -> None:
    needs_an_https_api(target_config)
    try:
        url, redirect = over_http(api, target_config, what, key=None)
        redirect_to_https_same_target(url, redirect)
    except CheckFailure as exc:
        # A wrong, missing or unanswered redirect is HTTPS-001's finding. Asking the
        # HTTPS URL directly would only repeat the API's own 401 (AUTH-001).
        pytest.skip(f"no redirect to follow ({exc.title}: see HTTPS-001)")
    location = redirect.headers["location"]
    follow = str(httpx.URL(url).join(location))
    record.note(clients_that_resend_the_key(target_config.http_url, location))
    arguments = request_of(target_config, what)
    del arguments["path"]
    # Followed as a 307/308-following client would: same method and body, no key.
    ex = api.request(path=follow, key=None, **arguments)
    with record.check("HTTPS-005"):
        refused_with(ex, 401, "invalid_api_key")
    judge_error(record, ex)


# ─── HTTPS-006: HSTS on every HTTPS answer ───────────────────────────────────

HSTS_CASES: dict[str, dict[str, Any]] = {
    "200-models": {"method": "GET", "path": "models"},
    "401-no-key": {"method": "GET", "path": "models", "key": None},
    "404-unknown-path": {"method": "GET", "path": "no-such-endpoint"},
}


@pytest.mark.requirement("HTTPS-006")
@pytest.mark.spend(requests=1)
@pytest.mark.parametrize("case", list(HSTS_CASES))
def test_https_answer_carries_strict_transport_security(
    api: SuiteClient,
    record: RequirementRecorder,
    target_config: TargetConfig,
    case: str,
) -> None:
    if speaks_plain_http(target_config.base_url):
        pytest.skip(HSTS_NEEDS_HTTPS)
    ex = api.request(**HSTS_CASES[case])
    with record.check("HTTPS-006"):
        hsts_present(ex, ex.request.url)
    outside = ("ERR-001", "ERR-002") if ex.status_code in (404, 405) else ()
    judge_error(record, ex, skip=outside)
