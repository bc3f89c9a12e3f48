"""The ``ratelimit`` section of ``load.json``: every check of every key under test,
from the exact samples, with the criteria and the settings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from qbtsuite.loadtest.ratelimit.checks import (
    boundary_check,
    limit_check,
    rejections_check,
)
from qbtsuite.loadtest.ratelimit.criteria import criteria
from qbtsuite.loadtest.ratelimit.driver import DRIVE, PHASES
from qbtsuite.loadtest.ratelimit.isolation import isolation_check, latency_figures
from qbtsuite.loadtest.ratelimit.keyview import KeyView
from qbtsuite.loadtest.ratelimit.recovery import recovery_check
from qbtsuite.loadtest.ratelimit.scenario import drive_capacity
from qbtsuite.loadtest.ratelimit.settings import RateLimitSettings
from qbtsuite.loadtest.ratelimit.verdict import CheckVerdict
from qbtsuite.loadtest.samples import Sample

__all__ = ["judge"]


def _phases(key: KeyView, t0: float) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for phase in PHASES:
        xs = [x for x in key.all if x.get("phase") == phase]
        if xs:
            first = min(x["t"] for x in xs) - t0
            last = max(x.get("end", x["t"]) for x in xs) - t0
            out[phase] = [round(first, 3), round(last, 3)]
    return out


def judge(samples: Sequence[Sample], s: RateLimitSettings, t0: float) -> dict[str, Any]:
    """The ``ratelimit`` section of ``load.json`` (see the module doc)."""
    keys: dict[str, Any] = {}
    failed: list[str] = []
    for subject in s.keys:
        key = KeyView(subject, samples)
        capacity = drive_capacity(key.phase(DRIVE), s)
        checks = [
            limit_check(key, s),
            rejections_check(key),
            recovery_check(key, s),
            boundary_check(key, s, capacity),
            isolation_check(key, s),
            latency_figures(key),
        ]
        failed += [
            f"{subject}: {c.name}" for c in checks if c.verdict == CheckVerdict.FAIL
        ]
        keys[subject] = {
            "witnesses": list(s.witnesses_for(subject)),
            "requests": len(key.all),
            "checks": {c.name: c.to_json() for c in checks},
            "phases": _phases(key, t0),
        }
    return {
        "settings": asdict(s),
        "criteria": criteria(s),
        "keys": keys,
        "failed": failed,
        "verdict": (CheckVerdict.FAIL if failed else CheckVerdict.PASS).value,
    }
