"""A synthetic ``results.json`` built through the real merge, for the report tests."""

from __future__ import annotations

from typing import Any

from qbtsuite.results.records import merge_records

__all__ = ["CATALOGUE_ENTRIES", "record", "synthetic_results"]

CATALOGUE_ENTRIES: dict[str, dict[str, Any]] = {
    "AUTH-001": {
        "level": "MUST",
        "area": "auth",
        "endpoint": "all",
        "statement": "A missing key gets 401 invalid_api_key.",
    },
    "AUTH-002": {
        "level": "MUST",
        "area": "auth",
        "endpoint": "all",
        "statement": "An unknown key gets 401 <invalid_api_key>.",
    },
    "SSE-001": {
        "level": "MUST",
        "area": "streaming",
        "endpoint": "chat",
        "statement": "A stream ends with exactly one data: [DONE].",
    },
    "SSE-002": {
        "level": "SHOULD",
        "area": "streaming",
        "endpoint": "chat",
        "statement": "Keep-alive comments are allowed.",
    },
    "IMG-001": {
        "level": "MUST",
        "area": "images",
        "endpoint": "images",
        "statement": "Images decode at the requested size.",
    },
    "RATE-001": {
        "level": "MUST",
        "area": "rate-limits",
        "endpoint": "all",
        "statement": "429 carries Retry-After.",
    },
    "AUD-001": {
        "level": "MUST",
        "area": "transcriptions",
        "endpoint": "transcriptions",
        "statement": "Never checked here.",
    },
}

TRANSCRIPT = (
    "> POST https://gw.example/v1/chat/completions\n> authorization: Bearer [REDACTED]\n>\n"
    '> {"model": "m", "stream": true}\n\n< HTTP/1.1 200 OK\n< content-type: text/event-stream\n<\n'
    '< data: {"id": "x", "choices": []}\n< <script>alert(1)</script>'
)


def record(
    nodeid: str, area: str, outcomes: dict[str, str], **extra: Any
) -> dict[str, Any]:
    """One test record as the plugin writes it."""
    messages = {
        rid: [f"{rid} broke\nReceived: 403\nExpected: 401"]
        if o in {"fail", "warn", "error"}
        else []
        for rid, o in outcomes.items()
    }
    worst = next(
        (
            o
            for o in ("fail", "warn", "error", "pass", "unsupported", "skipped")
            if o in outcomes.values()
        ),
        "pass",
    )
    base: dict[str, Any] = {
        "nodeid": nodeid,
        "area": area,
        "endpoint": "",
        "worker": "local",
        "outcome": worst,
        "reason": "",
        "requirements": {
            rid: {"outcome": o, "messages": messages[rid]}
            for rid, o in outcomes.items()
        },
        "started": "2026-01-01T00:00:00Z",
        "duration": 0.25,
        "notes": [],
        "transcripts": [TRANSCRIPT] if worst != "pass" else [],
        "omitted_transcripts": 0,
        "retries": [],
    }
    base.update(extra)
    return base


def synthetic_results(
    *, strict: bool = False, profile: str = "full", fail: bool = True
) -> dict[str, Any]:
    """Results with a pass, a MUST failure, a SHOULD warning, unsupported, skipped."""
    records = [
        record("test_auth.py::test_missing_key", "auth", {"AUTH-001": "pass"}),
        record(
            "test_auth.py::test_unknown_key",
            "auth",
            {"AUTH-002": "fail" if fail else "pass"},
        ),
        record(
            "test_streaming.py::test_done",
            "streaming",
            {"SSE-001": "pass", "SSE-002": "warn"},
            retries=[
                {
                    "method": "POST",
                    "url": "https://gw.example/v1/chat/completions",
                    "attempt": 1,
                    "reason": "502 Bad Gateway",
                    "wait": 1.0,
                }
            ],
        ),
        record(
            "test_images.py::test_decode",
            "images",
            {"IMG-001": "unsupported"},
            reason="images: 404 model_not_found",
        ),
        record(
            "test_rate_limits.py::test_429",
            "rate-limits",
            {"RATE-001": "skipped"},
            reason="no low_limit key configured",
        ),
    ]
    meta = {
        "suite_version": "0.1.0",
        "profile": profile,
        "started": "2026-01-01T00:00:00Z",
        "finished": "2026-01-01T00:00:05Z",
        "duration": 5.0,
        "target": {
            "base_url": "https://gw.example/v1",
            "keys": {"main": "[REDACTED]"},
            "embedded": False,
            "capabilities": ["images"],
            "models": {"chat": "m"},
        },
        "digests": {"catalogue": "c" * 64, "schemas": "s" * 64},
        "selection": {},
        "workers": ["local"],
    }
    return merge_records(records, CATALOGUE_ENTRIES, meta, strict=strict)
