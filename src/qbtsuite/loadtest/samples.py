"""Exact per-request samples: what each Locust process records, and reading them back.

Every request becomes one JSON line in ``samples.jsonl`` (written by the Locust master
or the single local process). Times are seconds: ``t`` and ``end`` wall-clock
(epoch), durations exact floats. Figures are computed from these, never from
Locust's rounded response-time buckets. Besides ``kind = "sample"`` lines there is
one ``start`` line (the test's t0) and one ``done`` line per sending process, so a
reader can tell a complete file from a cut one.

Outcomes (load/README.md, 'What is measured'): ``ok``; ``rate-limited`` (HTTP 429: its own outcome, never
a failure); ``failed`` (the target answered, but with another non-2xx status or a
malformed reply: a stream without ``[DONE]``, invalid JSON); ``error`` (no HTTP
answer: refused, reset, timed out).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, TypedDict

__all__ = [
    "Sample",
    "SampleOutcome",
    "SampleSet",
    "outcome_for",
    "read_samples",
]


class SampleOutcome(StrEnum):
    """What became of one request attempt (not a requirement's outcome: a 429 here is
    the limiter working, never a failure)."""

    OK = "ok"
    RATE_LIMITED = "rate-limited"
    FAILED = "failed"
    ERROR = "error"


class Sample(TypedDict, total=False):
    """One request attempt as recorded (``total=False``: most fields are optional)."""

    kind: str  # "sample"
    name: str  # endpoint name
    key: str  # key role, never the key
    proc: int  # sending process index
    t: float  # epoch seconds when the request was sent
    end: float  # epoch seconds when the answer was complete (or the attempt failed)
    status: int  # HTTP status, 0 when there was no answer
    outcome: SampleOutcome
    e2e: float  # seconds, sent → complete
    ttft: float | None
    tpot: float | None
    itl: list[float]
    chunks: int
    usage_tokens: int | None
    tokens: int  # output tokens (usage, else client count)
    mismatch: bool
    due: float | None  # open loop: epoch seconds when the request was due
    attempt: int  # 0 for the first try, 1.. for retries
    retry_after: str | None  # the raw Retry-After header of a 429
    headers: dict[str, str]  # rate-limit headers of the answer (x-ratelimit-*)
    problem: str | None
    bytes: int
    # ratelimit profile only
    phase: str  # the scenario step that sent it (see loadtest.ratelimit.scenario)
    subject: str  # the key role under test at the time (witnesses send too)
    envelope: dict[str, str | bool | None]  # facts of a 429's body (no body kept)


def outcome_for(status: int, problem: str | None) -> SampleOutcome:
    """The outcome of one attempt from its HTTP status (0 = no answer) and problem."""
    if status == 0:
        return SampleOutcome.ERROR
    if status == 429:
        return SampleOutcome.RATE_LIMITED
    if 200 <= status < 300 and problem is None:
        return SampleOutcome.OK
    return SampleOutcome.FAILED


@dataclass(slots=True)
class SampleSet:
    """The content of one samples file."""

    samples: list[Sample] = field(default_factory=list)
    t0: float | None = None  # epoch seconds of the test start
    processes: int = 0  # processes the master expected
    done: dict[int, int] = field(default_factory=dict)  # process → samples it sent
    unreadable_lines: int = 0

    @property
    def complete(self) -> bool:
        """Every expected process said it had sent everything."""
        return self.processes > 0 and len(self.done) >= self.processes


def read_samples(path: Path) -> SampleSet:
    """Read ``path`` (a missing file reads as empty); a cut last line is counted."""
    result = SampleSet()
    if not path.is_file():
        return result
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            try:
                record: dict[str, Any] = json.loads(line)
            except json.JSONDecodeError:
                result.unreadable_lines += 1
                continue
            kind = record.get("kind")
            if kind == "sample":
                result.samples.append(record)  # type: ignore[arg-type]
            elif kind == "start":
                result.t0 = float(record["t0"])
                result.processes = int(record.get("processes", 1))
            elif kind == "done":
                result.done[int(record["proc"])] = int(record.get("sent", 0))
    return result
