"""Fetching the image URLs a target returns, for conformance tests.

An image ``url`` is what the user's application downloads or embeds, so it is
fetched as such a client would: a plain GET without the API key (the key never
goes to an image host, which may be a third party), within the run's timeouts,
following at most :data:`MAX_REDIRECTS` redirects, reading at most
:data:`FETCH_CAP` bytes.

What the answer proves decides the outcome:

- a reserved or loopback name (:func:`~qbtsuite.checks.image_url_host_usable`), a
  name the resolver says does not exist, or an HTTP error answer is the target's
  doing: a :class:`~qbtsuite.errors.CheckFailure` with that evidence;
- a network error to a real host (refused, timed out, a resolver that cannot
  answer) or an image larger than the cap proves nothing about the target:
  :class:`ImageFetchError`, which ends the requirement as ``error`` with the reason.

``--no-fetch-urls`` (``TargetConfig.fetch_urls``) turns fetches off; tests then judge
what needs no request (:func:`url_judged_unfetched`) and skip with :data:`FETCHES_OFF`.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from qbtsuite.checks import image_fetch_succeeded, image_url_host_usable
from qbtsuite.checks._format import failure
from qbtsuite.errors import QbtsuiteError, TargetUnreachable
from qbtsuite.target.client import SuiteClient
from qbtsuite.target.exchange import Exchange

__all__ = [
    "FETCHES_OFF",
    "FETCH_CAP",
    "MAX_REDIRECTS",
    "FetchedImage",
    "ImageFetchError",
    "Resolver",
    "fetch_image_url",
    "resolve_host",
    "url_judged_unfetched",
]

FETCH_CAP = 16 * 1024 * 1024  # bytes; the suite asks for 256x256 and 512x512 images
MAX_REDIRECTS = 3
FETCHES_OFF = (
    "image URL fetches are off (--no-fetch-urls or QBTSUITE_NO_FETCH_URLS): "
    "the url is not fetched"
)

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# getaddrinfo's "this name does not exist" answers; others (EAI_AGAIN …) are the
# resolver's own trouble.
_NO_SUCH_NAME = frozenset(
    code
    for code in (
        getattr(socket, "EAI_NONAME", None),
        getattr(socket, "EAI_NODATA", None),
    )
    if code is not None
)

# host, port, seconds → None, or raises: socket.gaierror, TimeoutError
Resolver = Callable[[str, int, float], None]


def url_judged_unfetched(url: str, base_url: str, where: str = "url") -> None:
    """With fetches off (``--no-fetch-urls``), what a url proves without a request.

    Its form and host need no network: a relative url, a reserved name (``.invalid``,
    RFC 6761 §6.4) or loopback on a remote target can never serve the image, so they
    fail as :func:`fetch_image_url` would fail them; anything else is left unjudged
    (the caller skips with :data:`FETCHES_OFF`).
    """
    image_url_host_usable(url, base_url, where)


class ImageFetchError(QbtsuiteError):
    """An image url could not be fetched for a reason that proves nothing about the
    target (the network, the resolver, the suite's own size cap)."""


@dataclass(frozen=True, slots=True)
class FetchedImage:
    """The answer that delivered an image url, and its bytes."""

    exchange: Exchange
    data: bytes


def resolve_host(host: str, port: int, timeout: float) -> None:
    """Resolve ``host`` with the system resolver, giving up after ``timeout`` seconds.

    ``getaddrinfo`` has no timeout of its own: it runs in a daemon thread that is
    abandoned (and ends by itself) when the time is up.
    """
    outcome: list[BaseException | None] = []

    def lookup() -> None:
        try:
            socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            outcome.append(exc)
        else:
            outcome.append(None)

    thread = threading.Thread(target=lookup, name="qbtsuite-resolve", daemon=True)
    thread.start()
    thread.join(timeout)
    if not outcome:
        raise TimeoutError(f"no answer from the resolver in {timeout:g} s")
    if outcome[0] is not None:
        raise outcome[0]


def _host_resolves(url: str, where: str, timeout: float, resolver: Resolver) -> None:
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        resolver(host, port, timeout)
    except socket.gaierror as exc:
        if exc.errno in _NO_SUCH_NAME:
            raise failure(
                "Image url host does not resolve",
                f"{where}: {url}: {host} is not a known name ({exc})",
                "an absolute URL on a host that serves the image",
            ) from None
        raise ImageFetchError(f"{where}: cannot resolve {host}: {exc}") from None
    except (OSError, TimeoutError) as exc:
        raise ImageFetchError(f"{where}: cannot resolve {host}: {exc}") from None


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _get(api: SuiteClient, url: str, where: str, cap: int) -> Exchange:
    """One GET without a key, reading at most ``cap`` bytes of the body."""
    try:
        with api.stream_request("GET", url, key=None) as stream:
            size = 0
            for chunk, _ in stream:
                size += len(chunk)
                if size > cap:
                    raise ImageFetchError(
                        f"{where}: {url} sent more than {cap:,} bytes, the suite's "
                        "cap for one image; stopped reading"
                    )
            return stream.finish()
    except TargetUnreachable as exc:
        raise ImageFetchError(f"{where}: {exc}") from None
    except httpx.TransportError as exc:
        text = str(exc) or type(exc).__name__
        raise ImageFetchError(f"{where}: {url}: {text}") from None


def fetch_image_url(
    api: SuiteClient,
    url: str,
    where: str = "url",
    *,
    cap: int = FETCH_CAP,
    resolver: Resolver = resolve_host,
) -> FetchedImage:
    """GET an image url the target returned; the answer that delivered the image.

    Raises :class:`CheckFailure` when the url cannot serve the image because of the
    target, :class:`ImageFetchError` when the fetch failed for another reason.
    Callers check ``api.config.fetch_urls`` first.
    """
    config = api.config
    current = url
    for hop in range(MAX_REDIRECTS + 1):
        step = where if hop == 0 else f"{where} (redirect {hop})"
        image_url_host_usable(current, config.base_url, step)
        host = urlsplit(current).hostname or ""
        if not _is_ip_literal(host):
            _host_resolves(current, step, config.connect_timeout, resolver)
        exchange = _get(api, current, step, cap)
        location = exchange.headers.get("location")
        if exchange.status_code in _REDIRECTS and location:
            current = urljoin(current, location)
            continue
        image_fetch_succeeded(exchange, f"GET {step}")
        return FetchedImage(exchange, exchange.content)
    raise failure(
        "Image url redirects too often",
        f"{where}: {url}: more than {MAX_REDIRECTS} redirects",
        f"the image within {MAX_REDIRECTS} redirects",
    )
