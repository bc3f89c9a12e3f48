"""The cheapest valid request of each endpoint, for conformance tests that need one.

Tiny prompt, ``max_tokens`` 1, one 256×256 image, the shortest audio fixture: the
target is metered (README.md, 'Running the suite', "Cost").
"""

from __future__ import annotations

from typing import Any

from qbtsuite.payloads.audio import load_manifest

__all__ = ["PROMPT", "json_body", "minimal_request", "shortest_audio"]

PROMPT = "Hi"

_JSON_BODIES: dict[str, tuple[str, dict[str, Any]]] = {
    "completions": ("completions", {"prompt": PROMPT, "max_tokens": 1}),
    "chat": (
        "chat/completions",
        {"messages": [{"role": "user", "content": PROMPT}], "max_tokens": 1},
    ),
    "embeddings": ("embeddings", {"input": PROMPT}),
    "images": (
        "images/generations",
        {"prompt": "a red dot", "n": 1, "size": "256x256"},
    ),
}


def json_body(endpoint: str, model: str | None) -> tuple[str, dict[str, Any]]:
    """Path and the cheapest valid JSON body of a JSON ``endpoint``."""
    path, body = _JSON_BODIES[endpoint]
    return path, {"model": model, **body}


def shortest_audio() -> tuple[str, bytes, str]:
    """(file name, bytes, content type) of the shortest audio fixture, MP3 preferred."""
    fixture = min(load_manifest(), key=lambda f: (f.duration, f.format != "mp3"))
    return fixture.file, fixture.path.read_bytes(), fixture.content_type


def minimal_request(endpoint: str, model: str | None) -> dict[str, Any]:
    """``SuiteClient.request`` arguments for the cheapest valid request of ``endpoint``."""
    if endpoint == "models":
        return {"method": "GET", "path": "models"}
    if endpoint == "transcriptions":
        return {
            "method": "POST",
            "path": "audio/transcriptions",
            "data": {"model": model},
            "files": {"file": shortest_audio()},
        }
    path, body = json_body(endpoint, model)
    return {"method": "POST", "path": path, "json": body}
