"""Assemble the HTTPS app: routes, the error envelope and any faults.

(HSTS is a header of the HTTPS listener: ``hsts.py``.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import Route
from starlette.types import ASGIApp

from qbtsuite.server import audio, chat, completions, embeddings, images, models
from qbtsuite.server.apierrors import (
    ApiError,
    handle_api_error,
    handle_http_exception,
    handle_unexpected,
)
from qbtsuite.server.dispatch import DirectRoutes
from qbtsuite.server.faults import Fault
from qbtsuite.server.parts import Parts
from qbtsuite.server.redirect import redirect_app

__all__ = ["ReferenceApp", "create_app", "create_http_app"]

ROUTES = [
    Route("/v1/models", models.list_models, methods=["GET"]),
    Route("/v1/models/{model}", models.get_model, methods=["GET"]),
    Route("/v1/completions", completions.create_completion, methods=["POST"]),
    Route("/v1/chat/completions", chat.create_chat_completion, methods=["POST"]),
    Route("/v1/embeddings", embeddings.create_embedding, methods=["POST"]),
    Route("/v1/images/generations", images.create_image, methods=["POST"]),
    Route("/v1/images/files/{name}", images.image_file, methods=["GET"]),
    Route("/v1/audio/transcriptions", audio.create_transcription, methods=["POST"]),
]


class ReferenceApp(Starlette):
    """The Starlette app with the parts its endpoints use (``parts.parts_of``)."""

    def __init__(self, parts: Parts, **options: Any) -> None:
        super().__init__(**options)
        self.parts = parts


def create_app(parts: Parts, faults: Sequence[Fault] = ()) -> ASGIApp:
    """The HTTPS application for ``parts``, with each fault applied."""
    for f in faults:
        f.apply(parts)
    app = ReferenceApp(
        parts,
        routes=ROUTES,
        exception_handlers={
            ApiError: handle_api_error,
            HTTPException: handle_http_exception,
            Exception: handle_unexpected,
        },
    )
    wrapped: ASGIApp = DirectRoutes(app)
    for f in faults:
        wrapped = f.wrap_https(wrapped)
    return wrapped


def create_http_app(https_port: int, faults: Sequence[Fault] = ()) -> ASGIApp:
    """The plain-HTTP application: a redirect to HTTPS (faults may change it)."""
    app = redirect_app(https_port)
    for f in faults:
        app = f.wrap_http(app, https_port)
    return app
