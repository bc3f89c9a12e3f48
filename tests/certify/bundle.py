"""Certified run folders for the certify tests, and the edits an attacker makes.

``certified_folder`` builds a folder the way ``qbtsuite run --profile certify``
leaves it (results.json, the records, reports, REPRODUCE.md, certificate.json)
from synthetic test records judged against a small catalogue of its own; the
``tamper_*`` functions each change a folder the way the tamper matrix says,
recomputing whatever digests an attacker can recompute without the private key.
"""

from __future__ import annotations

import base64
import json
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

from qbtsuite.certify.certificate import write_certificate
from qbtsuite.certify.manifest import build_manifest
from qbtsuite.certify.reproduce import Invocation, write_reproduce
from qbtsuite.certify.signing import SigningKey
from qbtsuite.reporting import write_reports
from qbtsuite.requirements import Catalogue, load_catalogue
from qbtsuite.results.model import RequirementEntry, RunResults
from qbtsuite.results.outcomes import Outcome
from qbtsuite.results.records import merge_records
from qbtsuite.results.store import append_record, write_results
from tests.harness.suites import REQUIREMENT_ENTRY
from tests.harness.synthetic import CATALOGUE_ENTRIES, FACTS, IDENTITY, record

__all__ = [
    "certified_folder",
    "edit_json",
    "edit_outcome",
    "recompute_manifest",
    "resign",
    "synthetic_catalogue",
]


def synthetic_catalogue(folder: Path) -> Catalogue:
    """The synthetic results' catalogue, as a file (its digest is the run's)."""
    text = "".join(
        REQUIREMENT_ENTRY.format(
            id=e.id, area=e.area, endpoint=e.endpoint, level=e.level,
            statement=e.statement.replace('"', "'"),
        )
        for e in CATALOGUE_ENTRIES.values()
    )  # fmt: skip
    path = folder / "requirements.toml"
    path.write_text(text, encoding="utf-8")
    return load_catalogue(path)


def _results(catalogue: Catalogue) -> RunResults:
    """Every requirement of the catalogue checked: passes, one skipped."""
    records = [
        record("test_auth.py::test_missing_key", "auth", {"AUTH-001": Outcome.PASS}),
        record("test_auth.py::test_unknown_key", "auth", {"AUTH-002": Outcome.PASS}),
        record(
            "test_streaming.py::test_done",
            "streaming",
            {"SSE-001": Outcome.PASS, "SSE-002": Outcome.PASS},
        ),
        record("test_images.py::test_decode", "images", {"IMG-001": Outcome.PASS}),
        record(
            "test_rate_limits.py::test_429",
            "rate-limits",
            {"RATE-001": Outcome.SKIPPED},
            reason="capability not declared: rate_limits",
        ),
        record(
            "test_transcriptions.py::test_text",
            "transcriptions",
            {"AUD-001": Outcome.FAIL},
        ),
    ]
    # a transcript in a passing record, for the byte edit
    records[0] = replace(
        records[0], transcripts=("> GET https://gw.example/v1/models\n< HTTP/1.1 401",)
    )
    entries = {rid: RequirementEntry.of(r) for rid, r in catalogue.requirements.items()}
    facts = replace(
        FACTS,
        profile="certify",
        identity=IDENTITY,
        run_id="feedfacecafebeeffeedfacecafebeef",
        digests=replace(FACTS.digests, catalogue=catalogue.digest),
    )
    return merge_records(records, entries, facts)


def certified_folder(
    folder: Path, catalogue: Catalogue, key: SigningKey | None, *, run_id: str = ""
) -> RunResults:
    """A certified run folder in ``folder``, signed with ``key`` (or unsigned)."""
    results = _results(catalogue)
    if run_id:
        results = replace(results, run=replace(results.run, run_id=run_id))
    folder.mkdir(parents=True, exist_ok=True)
    write_results(folder, results)
    for test in results.tests.values():
        append_record(folder / "records", test)
    (folder / "junit.xml").write_text("<testsuites/>\n", encoding="utf-8")
    write_reports(folder, results)
    invocation = Invocation(
        ("run", "--profile", "certify", "--api-key", "$QUBITTRON_API_KEY")
    )
    write_reproduce(folder, results, invocation, key.public.key_id if key else None)
    write_certificate(folder, results, key)
    return results


def edit_json(path: Path, change: Any) -> None:
    """Apply ``change(data)`` to the JSON file ``path`` and write it back."""
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(
        json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def recompute_manifest(folder: Path) -> None:
    """What anyone can do without the private key: put every file's new sha256
    into the certificate's manifest (the signature stays as it was)."""
    manifest = build_manifest(folder)
    edit_json(folder / "certificate.json", lambda d: d.update(manifest=manifest))


def edit_outcome(
    folder: Path, rid: str, new: str, *, certificate: bool = False
) -> None:
    """``rid``'s outcome in results.json becomes ``new``, its totals and the verdict
    with it, and (``certificate``) in the certificate too; digests recomputed."""

    def results(data: dict[str, Any]) -> None:
        old = data["requirements"][rid]["outcome"]
        data["requirements"][rid]["outcome"] = new
        data["totals"][old] -= 1
        data["totals"][new] += 1
        if new == "pass" and not data["totals"]["fail"]:
            data["verdict"] = "conformant"

    edit_json(folder / "results.json", results)
    if certificate:

        def certified(data: dict[str, Any]) -> None:
            old = data["requirements"][rid]
            data["requirements"][rid] = new
            data["counts"][old] -= 1
            data["counts"][new] += 1
            if new == "pass" and not data["counts"]["fail"]:
                data["verdict"] = "conformant"

        edit_json(folder / "certificate.json", certified)
    recompute_manifest(folder)


def change_one_byte(path: Path, old: bytes, new: bytes) -> None:
    """Replace the one occurrence of ``old`` (as long as ``new``, one byte apart)."""
    data = path.read_bytes()
    assert data.count(old) >= 1 and len(old) == len(new)
    index = data.index(old)
    path.write_bytes(data[:index] + new + data[index + len(old) :])


def resign(folder: Path, key: SigningKey) -> None:
    """Sign the certificate as it now is with ``key`` (the attacker's own)."""
    from qbtsuite.certify.canonical import canonical_json

    path = folder / "certificate.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    document.pop("signature")
    value = key.sign(canonical_json(document))
    document["signature"] = {
        "algorithm": "Ed25519",
        "key_id": key.public.key_id,
        "public_key": key.public.encoded,
        "value": base64.b64encode(value).decode("ascii"),
    }
    path.write_text(
        json.dumps(document, indent=2, ensure_ascii=False), encoding="utf-8"
    )


def copy_certificate(source: Path, target: Path) -> None:
    shutil.copy(source / "certificate.json", target / "certificate.json")
