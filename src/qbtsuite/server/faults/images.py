"""Image faults: size, format and count ignored; URLs that lead nowhere."""

from __future__ import annotations

from typing import Any

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
    breaks=("IMG-004",),
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
