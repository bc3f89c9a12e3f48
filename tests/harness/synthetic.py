"""A synthetic ``results.json`` built through the real merge, for the report tests."""

from __future__ import annotations

from dataclasses import replace

from qbtsuite.results.model import (
    Digests,
    Identity,
    ModelListing,
    RequirementCheck,
    RequirementEntry,
    Retry,
    RunFacts,
    RunResults,
    Selection,
    TargetSummary,
    TestRecord,
)
from qbtsuite.results.outcomes import Outcome, combine
from qbtsuite.results.records import merge_records

__all__ = ["CATALOGUE_ENTRIES", "IDENTITY", "record", "synthetic_results"]


def _entry(
    rid: str, level: str, area: str, endpoint: str, statement: str
) -> RequirementEntry:
    return RequirementEntry(
        rid, level, area, endpoint, "qubittron", statement, "getting-started.txt"
    )


CATALOGUE_ENTRIES: dict[str, RequirementEntry] = {
    e.id: e
    for e in (
        _entry("AUTH-001", "MUST", "auth", "all", "A missing key gets 401 invalid_api_key."),
        _entry("AUTH-002", "MUST", "auth", "all", "An unknown key gets 401 <invalid_api_key>."),
        _entry("SSE-001", "MUST", "streaming", "chat", "A stream ends with exactly one data: [DONE]."),
        _entry("SSE-002", "SHOULD", "streaming", "chat", "Keep-alive comments are allowed."),
        _entry("IMG-001", "MUST", "images", "images", "Images decode at the requested size."),
        _entry("RATE-001", "MUST", "rate-limits", "all", "429 carries Retry-After."),
        _entry("AUD-001", "MUST", "transcriptions", "transcriptions", "Never checked here."),
    )
}  # fmt: skip

TRANSCRIPT = (
    "> POST https://gw.example/v1/chat/completions\n> authorization: Bearer [REDACTED]\n>\n"
    '> {"model": "m", "stream": true}\n\n< HTTP/1.1 200 OK\n< content-type: text/event-stream\n<\n'
    '< data: {"id": "x", "choices": []}\n< <script>alert(1)</script>'
)


def record(
    nodeid: str,
    area: str,
    outcomes: dict[str, Outcome],
    *,
    reason: str = "",
    retries: tuple[Retry, ...] = (),
) -> TestRecord:
    """One test record as the plugin writes it."""
    problems = {Outcome.FAIL, Outcome.WARN, Outcome.ERROR}
    checks = {
        rid: RequirementCheck(
            o, (f"{rid} broke\nReceived: 403\nExpected: 401",) if o in problems else ()
        )
        for rid, o in outcomes.items()
    }
    worst = combine(list(outcomes.values())) if outcomes else Outcome.PASS
    return TestRecord(
        nodeid=nodeid,
        area=area,
        endpoint="",
        worker="local",
        outcome=worst,
        reason=reason,
        requirements=checks,
        started="2026-01-01T00:00:00Z",
        duration=0.25,
        transcripts=(TRANSCRIPT,) if worst != Outcome.PASS else (),
        retries=retries,
    )


FACTS = RunFacts(
    suite_version="0.1.0",
    profile="full",
    started="2026-01-01T00:00:00Z",
    finished="2026-01-01T00:00:05Z",
    duration=5.0,
    target=TargetSummary(
        base_url="https://gw.example/v1",
        key_roles=("main",),
        embedded=False,
        capabilities=("images",),
        models={"chat": "m"},
    ),
    digests=Digests(catalogue="c" * 64, schemas="5" * 64),
    workers=("local",),
)


IDENTITY = Identity(
    vendor="Example Vendor",
    product="Gateway One",
    version="2.0",
    url="https://vendor.example/gateway",
    contact="qa@vendor.example",
)


def synthetic_results(
    *,
    strict: bool = False,
    profile: str = "full",
    fail: bool = True,
    identity: Identity | None = None,
    areas: tuple[str, ...] = (),
) -> RunResults:
    """Results with a pass, a MUST failure, a SHOULD warning, unsupported, skipped."""
    records = [
        record("test_auth.py::test_missing_key", "auth", {"AUTH-001": Outcome.PASS}),
        record(
            "test_auth.py::test_unknown_key",
            "auth",
            {"AUTH-002": Outcome.FAIL if fail else Outcome.PASS},
        ),
        record(
            "test_streaming.py::test_done",
            "streaming",
            {"SSE-001": Outcome.PASS, "SSE-002": Outcome.WARN},
            retries=(
                Retry(
                    method="POST",
                    url="https://gw.example/v1/chat/completions",
                    attempt=1,
                    reason="502 Bad Gateway",
                    wait=1.0,
                ),
            ),
        ),
        record(
            "test_images.py::test_decode",
            "images",
            {"IMG-001": Outcome.UNSUPPORTED},
            reason="images: 404 model_not_found",
        ),
        record(
            "test_rate_limits.py::test_429",
            "rate-limits",
            {"RATE-001": Outcome.SKIPPED},
            reason="no low_limit key configured",
        ),
    ]
    facts = replace(
        FACTS,
        profile=profile,
        identity=identity,
        selection=Selection(areas=areas),
        run_id="feedfacecafebeeffeedfacecafebeef" if identity else None,
        models_listing=ModelListing(200, "d" * 64, ("m",)) if identity else None,
    )
    return merge_records(records, CATALOGUE_ENTRIES, facts, strict=strict)
