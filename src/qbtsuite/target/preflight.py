"""Before anything is judged: can the target be tested as configured?

A key the target refuses, a base URL without its ``/v1``, or no model for any
endpoint leave nothing to judge: every requirement would "fail" on the run's own
mistake. These are configuration errors (:class:`~qbtsuite.errors.ConfigError`, exit
2), one line saying what to set. Endpoints without a model are a notice: their
checks are skipped, naming the variable.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from qbtsuite.errors import ConfigError
from qbtsuite.target.config import ENDPOINTS, TargetConfig
from qbtsuite.target.discovery import Listing

__all__ = ["MODEL_VARIABLES", "check_listing", "model_notices"]

MODEL_VARIABLES = {e: f"QBTSUITE_MODELS_{e.upper()}" for e in ENDPOINTS}
_SHOWN = 8  # model ids named in one line


def check_listing(config: TargetConfig, listing: Listing, http: httpx.Client) -> None:
    """Raise ConfigError when the main key's ``GET /models`` says the run is misconfigured.

    401: the key (spec/getting-started.txt: "401 invalid_api_key Missing or bad
    key"). 404 at a base URL not ending in ``/v1``: the path (the docs' base URL is
    ``https://api.qubittron.ai/v1``); the ``/v1`` variant is asked once, without a key,
    to say whether it is the fix.
    """
    if listing.status == 401:
        code = listing.code or "invalid_api_key"
        raise ConfigError(
            f"the target refused the main key (401 {code}): check QUBITTRON_API_KEY"
        )
    base = config.base_url.rstrip("/")
    if listing.status == 404 and not urlsplit(base).path.endswith("/v1"):
        raise ConfigError(_without_v1(base, listing.url, http))


def _without_v1(base: str, url: str, http: httpx.Client) -> str:
    fixed = base + "/v1"
    try:
        status: int | None = http.get(fixed + "/models").status_code
    except httpx.TransportError:
        status = None
    where = "(--base-url or QUBITTRON_BASE_URL)"
    if status is not None and status != 404:
        return (
            f"{url} answered 404 and {fixed}/models answers {status}: "
            f"the base URL lacks its /v1; set it to {fixed} {where}"
        )
    return (
        f"{url} answered 404: the base URL probably lacks its /v1 (try {fixed} {where})"
    )


def _what_is_listed(listing: Listing | None) -> str:
    if listing is None:
        return "the target was not asked"
    if listing.throttle is not None:
        return f"its GET /models was throttled ({listing.throttle.answer.describe()})"
    if listing.ids is None:
        status = listing.status if listing.status is not None else "no answer"
        return f"its GET /models gave no model list ({status})"
    if not listing.ids:
        return "it lists no model"
    shown = ", ".join(listing.ids[:_SHOWN])
    more = f" and {len(listing.ids) - _SHOWN} more" if len(listing.ids) > _SHOWN else ""
    return f"it lists {shown}{more}"


def model_notices(config: TargetConfig, listing: Listing | None) -> tuple[str, ...]:
    """One notice naming the endpoints without a model; ConfigError when none has one."""
    missing = [e for e in ENDPOINTS if not config.model(e)]
    if not missing:
        return ()
    variables = ", ".join(MODEL_VARIABLES[e] for e in missing)
    listed = _what_is_listed(listing)
    if len(missing) == len(ENDPOINTS):
        raise ConfigError(
            "no model to test with: none is configured and the target lists none of "
            f"the documented ones ({listed}); set {variables} to the model each "
            "endpoint should use"
        )
    return (
        f"no model for {', '.join(missing)}: their checks are skipped "
        f"({listed}; set {variables})",
    )
