"""``certificate.json`` (certify profile): what was certified, and a seal over it.

The certificate names the target, the suite version, the catalogue and schema
digests, the counts and the verdict, and carries the sha256 of ``results.json``:
editing the results after the run shows, as :func:`verify_certificate` reports.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["FORMAT", "build_certificate", "verify_certificate", "write_certificate"]

FORMAT = "qbtsuite-certificate/1"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_certificate(
    results: Mapping[str, Any], results_sha256: str
) -> dict[str, Any]:
    """The certificate of a certify run whose ``results.json`` hashes to the given value."""
    target = results.get("target") or {}
    return {
        "format": FORMAT,
        "target": {
            "base_url": target.get("base_url"),
            "embedded": bool(target.get("embedded")),
            "capabilities": target.get("capabilities"),
            "models": target.get("models"),
        },
        "suite_version": results.get("suite_version"),
        "profile": results.get("profile"),
        "strict": bool(results.get("strict")),
        "digests": results.get("digests"),
        "started": results.get("started"),
        "finished": results.get("finished"),
        "counts": results.get("totals"),
        "not_checked": len(results.get("not_checked") or []),
        "verdict": results.get("verdict"),
        "results_sha256": results_sha256,
    }


def write_certificate(run_dir: Path, results: Mapping[str, Any]) -> Path:
    """Write ``certificate.json`` next to ``results.json`` (which must exist)."""
    seal = _sha256(run_dir / "results.json")
    path = run_dir / "certificate.json"
    text = json.dumps(build_certificate(results, seal), indent=2)
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
    if _sha256(run_dir / "results.json") != expected:
        return "certificate does NOT match results.json (the results were changed)"
    return "certificate matches results.json"
