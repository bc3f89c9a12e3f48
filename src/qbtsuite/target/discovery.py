"""Find what the target offers before the tests run: reachability and models.

:func:`probe` decides "unreachable" up front with one unauthenticated request (any
HTTP answer means reachable; no key is sent). :func:`choose_models` picks, for each
endpoint without a configured model, the first documented model that ``/v1/models``
lists. When none is listed, a target whose catalogue is Qubittron's (the embedded
server, api.qubittron.ai, or ``catalogue`` declared) gets the first documented one
(its tests then say what is wrong); any other target gets none, and the endpoint's
tests are skipped naming ``QBTSUITE_MODELS_<ENDPOINT>``: a Qubittron model name
sent to another gateway proves nothing but "model not found".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from qbtsuite.modelcatalog import Category, models_for
from qbtsuite.target.client import build_http_client, unreachable
from qbtsuite.target.config import CATALOGUE, TargetConfig
from qbtsuite.target.throttle import Throttle, ThrottleEvent, throttle_for

__all__ = [
    "ENDPOINT_CATEGORY",
    "Listing",
    "choose_models",
    "complete_models",
    "list_models",
    "listed_models",
    "probe",
]

ENDPOINT_CATEGORY: Mapping[str, Category] = {
    "completions": Category.TEXT,
    "chat": Category.TEXT,
    "embeddings": Category.EMBEDDING,
    "images": Category.IMAGE,
    "transcriptions": Category.TRANSCRIPTION,
}


def probe(config: TargetConfig, transport: httpx.BaseTransport | None = None) -> int:
    """One GET of ``/models`` without a key; its status, or TargetUnreachable."""
    url = config.base_url.rstrip("/") + "/models"
    with build_http_client(config, transport) as http:
        try:
            response = http.get(url)
        except httpx.TransportError as exc:
            raise unreachable(url, exc) from exc
        return response.status_code


@dataclass(frozen=True, slots=True)
class Listing:
    """What ``GET /models`` with the main key answered."""

    url: str
    status: int | None  # None: no HTTP answer
    code: str | None = None  # the error envelope's code, if any
    ids: tuple[str, ...] | None = None  # None: not a readable model list
    throttle: ThrottleEvent | None = None  # a throttle that was not waited out

    @property
    def listed(self) -> set[str] | None:
        return None if self.ids is None else set(self.ids)


def _code(response: httpx.Response) -> str | None:
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None
    return code if isinstance(code, str) else None


def list_models(
    config: TargetConfig, http: httpx.Client, throttle: Throttle | None = None
) -> Listing:
    """``GET /models`` with the main key: its status, error code and model ids.

    Paced and throttle-aware like the run's requests (``throttle``, default: one of
    this process): a 429 with Retry-After is waited out within ``max_throttle_wait``.
    """
    key = config.key("main")
    headers = {"Authorization": f"Bearer {key.reveal()}"} if key else {}
    role = "main" if key else None
    url = config.base_url.rstrip("/") + "/models"
    throttle = throttle if throttle is not None else throttle_for(config)
    while True:
        ticket = throttle.pace(role)
        try:
            response = http.get(url, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise unreachable(url, exc) from exc
        except httpx.TransportError:
            return Listing(url, None)
        finally:
            throttle.answered(ticket)
        event = throttle.after(
            role, "GET", url, response.status_code, response.headers, response.content
        )
        if event is None or not event.resolved:
            break
    if response.status_code != 200:
        return Listing(url, response.status_code, _code(response), throttle=event)
    try:
        ids = tuple(str(m["id"]) for m in response.json()["data"])
    except (ValueError, KeyError, TypeError):
        return Listing(url, 200)
    return Listing(url, 200, ids=ids)


def listed_models(config: TargetConfig, http: httpx.Client) -> set[str] | None:
    """The model ids ``GET /models`` lists with the main key, or None if it cannot."""
    return list_models(config, http).listed


def choose_models(
    configured: Mapping[str, str | None],
    listed: set[str] | None,
    *,
    catalogue: bool = True,
) -> dict[str, str | None]:
    """Configured models stay; the others come from the documented ∩ listed models.

    With none of those, the first documented model when ``catalogue`` (the target's
    catalogue is Qubittron's), else None.
    """
    chosen: dict[str, str | None] = dict(configured)
    for endpoint, category in ENDPOINT_CATEGORY.items():
        if chosen.get(endpoint):
            continue
        documented = [m.id for m in models_for(category)]
        available = [m for m in documented if listed and m in listed]
        options = available or (documented if catalogue else [])
        chosen[endpoint] = options[0] if options else None
    return chosen


def complete_models(
    config: TargetConfig,
    transport: httpx.BaseTransport | None = None,
    listing: Listing | None = None,
) -> TargetConfig:
    """``config`` with a model for every endpoint it can have one for (asks the
    target only if needed, unless its ``listing`` is given)."""
    if all(config.model(e) for e in ENDPOINT_CATEGORY):
        return config
    if listing is None:
        with build_http_client(config, transport) as http:
            listing = list_models(config, http)
    catalogue = bool(config.declares(CATALOGUE))
    chosen = choose_models(config.models, listing.listed, catalogue=catalogue)
    return config.with_models(chosen)
