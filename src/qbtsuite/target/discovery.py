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
from qbtsuite.target.exchange import decode_json, raw_body
from qbtsuite.target.inflate import BodyTooLarge, Inflater, UndecodableBody
from qbtsuite.target.throttle import Throttle, ThrottleEvent, throttle_for
from qbtsuite.target.watch import Watch

__all__ = [
    "ENDPOINT_CATEGORY",
    "Listing",
    "ListingSeen",
    "choose_models",
    "complete_models",
    "fetch_listing",
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
    """One GET of ``/models`` without a key; its status, or TargetUnreachable.

    The status line is all it waits for (within the JSON deadline); the body is
    not read.
    """
    url = config.base_url.rstrip("/") + "/models"
    watch = Watch(config.deadline)
    with build_http_client(config, transport) as http:
        try:
            with watch.active():
                response = http.send(http.build_request("GET", url), stream=True)
        except httpx.TransportError as exc:
            raise unreachable(url, exc, watch) from None
        response.close()
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


def _code(body: bytes) -> str | None:
    try:
        code = decode_json(body)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None
    return code if isinstance(code, str) else None


def _bounded_get(
    config: TargetConfig, http: httpx.Client, url: str, headers: Mapping[str, str]
) -> tuple[httpx.Response, bytes] | None:
    """One GET read within the run's deadline and body cap; None: no whole answer
    (the connection failing outright raises TargetUnreachable)."""
    watch = Watch(config.deadline)
    try:
        with watch.active():
            response = http.send(
                http.build_request("GET", url, headers=headers), stream=True
            )
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise unreachable(url, exc, watch) from None
    except httpx.TransportError:
        return None
    try:
        inflater = Inflater(
            response.headers.get("content-encoding", ""), config.max_body
        )
        body = bytearray()
        for raw in watch.guard(raw_body(response)):
            for piece in inflater.feed(raw):
                body += piece
        body += inflater.flush()
    except (httpx.TransportError, BodyTooLarge, UndecodableBody):
        return None
    finally:
        response.close()
    return response, bytes(body)


def list_models(
    config: TargetConfig, http: httpx.Client, throttle: Throttle | None = None
) -> Listing:
    """``GET /models`` with the main key: its status, error code and model ids.

    Bounded like the run's requests (the deadline, the body cap), paced and
    throttle-aware (``throttle``, default: one of this process): a 429 with
    Retry-After is waited out within ``max_throttle_wait``.
    """
    key = config.key("main")
    headers = {"Authorization": f"Bearer {key.reveal()}"} if key else {}
    role = "main" if key else None
    url = config.base_url.rstrip("/") + "/models"
    throttle = throttle if throttle is not None else throttle_for(config)
    while True:
        ticket = throttle.pace(role)
        try:
            answer = _bounded_get(config, http, url, headers)
        finally:
            throttle.answered(ticket)
        if answer is None:
            return Listing(url, None)
        response, body = answer
        event = throttle.after(
            role, "GET", url, response.status_code, response.headers, body
        )
        if event is None or not event.resolved:
            break
    if response.status_code != 200:
        return Listing(url, response.status_code, _code(body), throttle=event)
    try:
        ids = tuple(str(m["id"]) for m in decode_json(body)["data"])
    except (ValueError, KeyError, TypeError):
        return Listing(url, 200)
    return Listing(url, 200, ids=ids)


def listed_models(config: TargetConfig, http: httpx.Client) -> set[str] | None:
    """The model ids ``GET /models`` lists with the main key, or None if it cannot
    (no 200, not the documented list, or not within the deadline and size cap)."""
    return list_models(config, http).listed


@dataclass(frozen=True, slots=True)
class ListingSeen:
    """``GET /models`` with the main key, as it came: status (None: no answer),
    the body's bytes, and the ids it lists (empty if it lists none readably)."""

    status: int | None
    body: bytes
    ids: tuple[str, ...]


def fetch_listing(
    config: TargetConfig, transport: httpx.BaseTransport | None = None
) -> ListingSeen:
    """The target's model listing as the run sees it (one request, its timeouts)."""
    key = config.key("main")
    headers = {"Authorization": f"Bearer {key.reveal()}"} if key else {}
    url = config.base_url.rstrip("/") + "/models"
    with build_http_client(config, transport) as http:
        try:
            response = http.get(url, headers=headers)
        except httpx.TransportError:
            return ListingSeen(None, b"", ())
    try:
        ids = tuple(str(m["id"]) for m in response.json()["data"])
    except (ValueError, KeyError, TypeError):
        ids = ()
    return ListingSeen(response.status_code, response.content, ids)


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
