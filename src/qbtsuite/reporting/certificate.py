"""``certificate.json`` (certify profile): what was certified, and a seal over it.

The certificate names the target, the suite version, the catalogue and schema
digests, the counts and the verdict, and carries the sha256 of ``results.json``:
editing the results after the run shows, as :func:`verify_certificate` reports.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from qbtsuite.results.model import Digests, RunResults
from qbtsuite.results.outcomes import Outcome, Verdict
from qbtsuite.results.store import RESULTS_FILE

__all__ = [
    "FORMAT",
    "Certificate",
    "build_certificate",
    "verify_certificate",
    "write_certificate",
]

FORMAT = "qbtsuite-certificate/1"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True, slots=True)
class Certificate:
    """What a certify run certifies, sealed by the sha256 of its ``results.json``."""

    base_url: str | None
    embedded: bool
    capabilities: tuple[str, ...] | None
    models: Mapping[str, str | None] | None
    suite_version: str
    profile: str
    strict: bool
    digests: Digests
    started: str
    finished: str
    counts: Mapping[Outcome, int]
    not_checked: int
    verdict: Verdict
    results_sha256: str

    def to_json(self) -> dict[str, object]:
        capabilities = self.capabilities
        return {
            "format": FORMAT,
            "target": {
                "base_url": self.base_url,
                "embedded": self.embedded,
                "capabilities": None if capabilities is None else list(capabilities),
                "models": None if self.models is None else dict(self.models),
            },
            "suite_version": self.suite_version,
            "profile": self.profile,
            "strict": self.strict,
            "digests": self.digests.to_json(),
            "started": self.started,
            "finished": self.finished,
            "counts": {o.value: n for o, n in self.counts.items()},
            "not_checked": self.not_checked,
            "verdict": self.verdict.value,
            "results_sha256": self.results_sha256,
        }


def build_certificate(results: RunResults, results_sha256: str) -> Certificate:
    """The certificate of a certify run whose ``results.json`` hashes to the given value."""
    run, target = results.run, results.run.target
    return Certificate(
        base_url=target.base_url if target else None,
        embedded=bool(target and target.embedded),
        capabilities=target.capabilities if target else None,
        models=dict(target.models) if target else None,
        suite_version=run.suite_version,
        profile=run.profile,
        strict=results.strict,
        digests=run.digests,
        started=run.started,
        finished=run.finished,
        counts={o: results.totals.get(o, 0) for o in Outcome},
        not_checked=len(results.not_checked),
        verdict=results.verdict,
        results_sha256=results_sha256,
    )


def write_certificate(run_dir: Path, results: RunResults) -> Path:
    """Write ``certificate.json`` next to ``results.json`` (which must exist)."""
    seal = _sha256(run_dir / RESULTS_FILE)
    path = run_dir / "certificate.json"
    text = json.dumps(build_certificate(results, seal).to_json(), indent=2)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def verify_certificate(run_dir: Path) -> str | None:
    """None if there is no certificate; else a one-line result of checking the seal."""
    path = run_dir / "certificate.json"
    if not path.is_file():
        return None
    try:
        certificate = json.loads(path.read_text(encoding="utf-8"))
        expected = str(certificate["results_sha256"])
    except (ValueError, KeyError, TypeError):
        return "certificate.json is unreadable"
    if _sha256(run_dir / RESULTS_FILE) != expected:
        return "certificate does NOT match results.json (the results were changed)"
    return "certificate matches results.json"
