"""Image URLs in ``/v1/images/generations`` answers.

A gateway hands out URLs on its own origin, never its upstream's; ``--image-url-host``
then puts another host in them, as a target whose URLs cannot be fetched does.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from tests.gateways.jsonvalue import JsonValue

__all__ = ["rewrite_image_urls"]


def _rewrite(
    url: str, upstream_origin: str, public_origin: str, host: str | None
) -> str:
    if url.startswith(upstream_origin + "/"):
        url = public_origin + url[len(upstream_origin) :]
    if host is None:
        return url
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def rewrite_image_urls(
    body: JsonValue, upstream_origin: str, public_origin: str, host: str | None
) -> JsonValue:
    """``body`` with every ``data[].url`` string moved to the public origin (and host)."""
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        return body
    data = body["data"]
    assert isinstance(data, list)
    out: list[JsonValue] = []
    for item in data:
        if isinstance(item, dict) and isinstance(item.get("url"), str):
            url = str(item["url"])
            item = {**item, "url": _rewrite(url, upstream_origin, public_origin, host)}
        out.append(item)
    return {**body, "data": out}
