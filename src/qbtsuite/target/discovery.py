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
from qbtsuite.target.watch import Watch

__all__ = [
    "ENDPOINT_CATEGORY",
    "ListingSeen",
    "choose_models",
    "complete_models",
    "fetch_listing",
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


def listed_models(config: TargetConfig, http: httpx.Client) -> set[str] | None:
    """The model ids ``GET /models`` lists with the main key, or None if it cannot
    (no 200, not the documented list, or not within the deadline and size cap)."""
    key = config.key("main")
    headers = {"Authorization": f"Bearer {key.reveal()}"} if key else {}
    url = config.base_url.rstrip("/") + "/models"
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
        if response.status_code != 200:
            return None
        encoding = response.headers.get("content-encoding", "")
        inflater = Inflater(encoding, config.max_body)
        body = bytearray()
        for raw in watch.guard(raw_body(response)):
            for piece in inflater.feed(raw):
                body += piece
        body += inflater.flush()
        return {str(m["id"]) for m in decode_json(bytes(body))["data"]}
    except (httpx.TransportError, BodyTooLarge, UndecodableBody):
        return None
    except (ValueError, KeyError, TypeError):
        return None
    finally:
        response.close()


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
    config: TargetConfig, transport: httpx.BaseTransport | None = None
) -> TargetConfig:
    """``config`` with a model for every endpoint (asks the target only if needed)."""
    if all(config.model(e) for e in ENDPOINT_CATEGORY):
        return config
    with build_http_client(config, transport) as http:
        listed = listed_models(config, http)
    catalogue = bool(config.declares(CATALOGUE))
    return config.with_models(choose_models(config.models, listed, catalogue=catalogue))
