"""Test records, their merge into ``results.json``, and the run's verdict.

Each process (the controller, or every pytest-xdist worker) appends one JSON line per
test to ``records/<worker>.jsonl``; the controller merges all of them once the run is
over, so the merge never depends on which worker ran what. ``results.json`` is the
single source every report (HTML, Markdown, certificate, diff) is rendered from.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from qbtsuite import redact
from qbtsuite.exitcodes import ExitCode
from qbtsuite.results.outcomes import Outcome, combine

__all__ = [
    "FORMAT",
    "OUTCOMES",
    "Verdict",
    "append_record",
    "exit_code_for",
    "load_results",
    "merge_records",
    "read_records",
    "verdict_of",
    "write_results",
]

FORMAT = "qbtsuite-results/1"
OUTCOMES = tuple(o.value for o in Outcome)


class Verdict:
    """The run's one-word answer, and the exit code it maps to (README, 'Exit codes')."""

    CONFORMANT = "conformant"
    NOT_CONFORMANT = "not conformant"
    INCOMPLETE = "incomplete"  # errors, no failures: no verdict can be given
    EMPTY = "no requirements checked"


def append_record(path: Path, record: Mapping[str, Any]) -> None:
    """Append one test record (redacted) as a JSON line; flushed at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(redact.scrub_obj(record), ensure_ascii=False, sort_keys=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")


def read_records(folder: Path) -> list[dict[str, Any]]:
    """All test records written under ``folder`` by every process of the run."""
    records: list[dict[str, Any]] = []
    for file in sorted(folder.glob("*.jsonl")):
        for line in file.read_text(encoding="utf-8").splitlines():
            if line.strip():
                records.append(json.loads(line))
    return sorted(records, key=lambda r: str(r["nodeid"]))


def _count(outcomes: Iterable[str]) -> dict[str, int]:
    totals = dict.fromkeys(OUTCOMES, 0)
    for outcome in outcomes:
        totals[outcome] += 1
    return totals


def verdict_of(totals: Mapping[str, int], *, strict: bool) -> str:
    """``conformant`` unless a MUST failed (or, with ``strict``, a SHOULD warned)."""
    if totals.get("fail", 0) or (strict and totals.get("warn", 0)):
        return Verdict.NOT_CONFORMANT
    if totals.get("error", 0):
        return Verdict.INCOMPLETE
    if not sum(totals.values()):
        return Verdict.EMPTY
    return Verdict.CONFORMANT


def exit_code_for(verdict: str) -> ExitCode:
    """OK conformant, FAILED not conformant, INCOMPLETE (no verdict could be given);
    a run that checked nothing is a usage error (the selection was empty)."""
    return {
        Verdict.CONFORMANT: ExitCode.OK,
        Verdict.NOT_CONFORMANT: ExitCode.FAILED,
        Verdict.INCOMPLETE: ExitCode.INCOMPLETE,
    }.get(verdict, ExitCode.USAGE)


def _requirement_entry(
    rid: str,
    info: Mapping[str, Any],
    checks: list[tuple[dict[str, Any], dict[str, Any]]],
) -> dict[str, Any]:
    outcomes = [Outcome(c["outcome"]) for _, c in checks]
    messages: list[str] = []
    for _record, check in checks:
        messages += [m for m in check.get("messages", []) if m and m not in messages]
    return {
        "id": rid,
        "outcome": combine(outcomes).value,
        "level": info.get("level", "MUST"),
        "area": info.get("area") or (checks[0][0].get("area") if checks else ""),
        "endpoint": info.get("endpoint", ""),
        "origin": info.get("origin", ""),
        "statement": info.get("statement", ""),
        "source": info.get("source", ""),
        "tests": [{"nodeid": r["nodeid"], "outcome": c["outcome"]} for r, c in checks],
        "messages": messages,
        "duration": round(sum(float(r.get("duration", 0.0)) for r, _ in checks), 3),
    }


def merge_records(
    records: list[dict[str, Any]],
    catalogue: Mapping[str, Mapping[str, Any]],
    meta: Mapping[str, Any],
    *,
    strict: bool = False,
) -> dict[str, Any]:
    """Build ``results.json`` from every test record and the catalogue's entries."""
    by_requirement: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {}
    for record in records:
        for rid, check in record.get("requirements", {}).items():
            by_requirement.setdefault(rid, []).append((record, check))
    requirements = {
        rid: _requirement_entry(rid, catalogue.get(rid, {}), checks)
        for rid, checks in sorted(by_requirement.items())
    }
    totals = _count(r["outcome"] for r in requirements.values())
    flakes = [
        {"nodeid": r["nodeid"], **retry}
        for r in records
        for retry in r.get("retries", [])
    ]
    results = {
        "format": FORMAT,
        **meta,
        "strict": strict,
        "totals": totals,
        "test_totals": _count(r["outcome"] for r in records),
        "verdict": verdict_of(totals, strict=strict),
        "requirements": requirements,
        "not_checked": sorted(set(catalogue) - set(requirements)),
        "tests": {r["nodeid"]: r for r in records},
        "flakes": flakes,
    }
    scrubbed: dict[str, Any] = redact.scrub_obj(results)
    return scrubbed


def write_results(path: Path, results: Mapping[str, Any]) -> None:
    """Write ``results.json`` (redacted once more, atomically)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(redact.scrub_obj(results), indent=2, ensure_ascii=False)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(text + "\n", encoding="utf-8")
    tmp.replace(path)


def load_results(folder_or_file: Path) -> dict[str, Any]:
    """Read ``results.json`` from a run folder (or the file itself)."""
    path = folder_or_file
    if path.is_dir():
        path = path / "results.json"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if data.get("format") != FORMAT:
        raise ValueError(f"{path} is not a qbtsuite results file ({FORMAT})")
    return data
