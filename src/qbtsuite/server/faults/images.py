"""Image faults: size, format and count ignored; URLs that lead nowhere."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Scope

from qbtsuite.server.faults import Fault, fault
from qbtsuite.server.faults._asgi import (
    drop_fields,
    json_rewrite,
    rewrite_request_json,
    rewrite_response,
)

__all__: list[str] = []

_PATH = ("/v1/images/generations",)


@fault(
    "images.size_ignored",
    area="images",
    breaks=("IMG-006",),
    collateral=("IMG-009", "IMG-010"),  # its validation goes too
    description="Every image is rendered at 512x512 whatever size was asked",
)
class SizeIgnored(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        def force(scope: Scope, body: Any) -> Any:
            if isinstance(body, dict):
                body["size"] = "512x512"
            return body

        return rewrite_request_json(app, force, paths=_PATH)


@fault(
    "images.output_format_ignored",
    area="images",
    breaks=("IMG-007",),
    collateral=("IMG-010",),  # its validation goes too
    description="output_format is not forwarded: JPEG requests get PNG",
)
class OutputFormatIgnored(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        return rewrite_request_json(app, drop_fields("output_format"), paths=_PATH)


@fault(
    "images.n_ignored",
    area="images",
    breaks=("IMG-002", "METER-008"),
    collateral=("IMG-009", "IMG-010"),  # its validation goes too
    description="n is not forwarded: one image whatever n asks",
)
class ImagesNIgnored(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        return rewrite_request_json(app, drop_fields("n"), paths=_PATH)


@fault(
    "images.dead_urls",
    area="images",
    breaks=("IMG-004", "CLIENT-006"),
    description="response_format=url returns URLs that answer 404",
)
class DeadUrls(Fault):
    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        def break_urls(scope: Scope, body: Any) -> Any:
            if scope["path"] == _PATH[0]:
                for item in body.get("data") or []:
                    if item.get("url"):
                        item["url"] = item["url"].replace("/files/", "/files/expired-")
            return body

        return rewrite_response(app, json_rewrite(break_urls, only_status=200))


@fault(
    "images.unfetchable_url",
    area="images",
    breaks=("IMG-004", "IMG-005", "CLIENT-006"),
    description="Image URLs name a host that does not exist (example.invalid), "
    "and url is the default response_format",
)
class UnfetchableUrl(Fault):
    """A gateway whose public URL setting was never filled in.

    The default response_format "depends on model" (image-generations.txt): url by
    default is allowed, and lets the default answer (IMG-005) be judged by its url.
    """

    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        def default_to_url(scope: Scope, body: Any) -> Any:
            if isinstance(body, dict) and "response_format" not in body:
                body["response_format"] = "url"
            return body

        def move(scope: Scope, body: Any) -> Any:
            if scope["path"] == _PATH[0]:
                for item in body.get("data") or []:
                    url = item.get("url")
                    if isinstance(url, str):
                        path = urlsplit(url).path
                        item["url"] = f"https://images.example.invalid{path}"
            return body

        asked = rewrite_request_json(app, default_to_url, paths=_PATH)
        return rewrite_response(asked, json_rewrite(move, only_status=200))
