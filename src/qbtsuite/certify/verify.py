"""Check a certified run folder: one line per problem found.

0. the run: a certificate of another run (its run id) is reported as that, alone;
1. the signature: made by the given public key (if one is given) and matching the
   certificate as it is, every member included;
2. the manifest: every file of the folder with the sha256 the certificate names,
   none deleted, none added (the first 40 problems in full, then a count);
3. ``results.json``: readable, valid against its schema, and saying what the
   certificate says (run, identity, digests, target, outcomes, verdict);
4. the verdict, re-derived: the run's test records (in ``results.json`` and in
   ``records/*.jsonl``, which must agree) merged again against the catalogue the
   run was judged by, with the code the run used
   (:func:`qbtsuite.results.records.rederive`); every outcome, count, the list of
   requirements not checked and the verdict must come out as written.

An edited outcome is caught by (4) even when the digests were recomputed, and an
edit that keeps the folder consistent is caught by (1): it needs the private key.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from qbtsuite.certify.certificate import Certificate, CertificateFile, read_certificate
from qbtsuite.certify.manifest import CERTIFICATE_FILE, compare_manifest
from qbtsuite.certify.signing import PublicKey
from qbtsuite.errors import RunFileError
from qbtsuite.requirements import Catalogue
from qbtsuite.results.model import IDENTITY_FIELDS, RequirementEntry, RunResults
from qbtsuite.results.outcomes import Outcome, combine
from qbtsuite.results.records import left_out, rederive
from qbtsuite.results.store import (
    RECORDS_FOLDER,
    RESULTS_FILE,
    read_records,
    read_results,
)

__all__ = ["Verification", "verify_run"]

_MAX_SCHEMA_LINES = 5
_MAX_FILE_LINES = 40  # then one line counts the rest


@dataclass
class Verification:
    """What checking a run folder found."""

    problems: list[str] = field(default_factory=list)
    certificate: Certificate | None = None
    checked_key: bool = False  # the signature was checked against a given key

    @property
    def valid(self) -> bool:
        return not self.problems

    @property
    def signed_by(self) -> str | None:
        c = self.certificate
        return c.signature.public_key.key_id if c and c.signature else None


def _short(key_id: str) -> str:
    return key_id[: len("sha256:") + 16] + "…"


def _signature(found: CertificateFile, public_key: PublicKey | None) -> list[str]:
    signature = found.certificate.signature
    where = f"{CERTIFICATE_FILE}: signature"
    if signature is None:
        if public_key is not None:
            return [
                f"{where}: the certificate is unsigned, so {_short(public_key.key_id)} did not sign it"
            ]
        return []
    if public_key is not None and signature.public_key != public_key:
        return [
            f"{where}: made by key {_short(signature.public_key.key_id)}, not by the "
            f"given public key {_short(public_key.key_id)}"
        ]
    try:
        signed = found.signed_bytes()
    except ValueError as exc:
        return [f"{where}: the certificate has no canonical form ({exc})"]
    if not signature.public_key.verifies(signature.value, signed):
        return [
            f"{where}: does not match the certificate's content (certificate.json "
            "was changed after it was signed)"
        ]
    return []


def _differs(where: str, name: str, certified: object, found: object) -> list[str]:
    if certified == found:
        return []
    return [
        f"{where}: {name} is {_shown(found)}, the certificate says {_shown(certified)}"
    ]


def _shown(value: object) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    return json.dumps(value) if isinstance(value, bool | int | None) else repr(value)


def _against_results(certificate: Certificate, results: RunResults) -> list[str]:
    """What results.json says, against what the certificate says of it."""
    run, where = results.run, RESULTS_FILE
    problems: list[str] = []
    identity = run.identity
    for name in IDENTITY_FIELDS:
        found = getattr(identity, name) if identity else None
        problems += _differs(
            where, f"identity.{name}", getattr(certificate.identity, name), found
        )
    target = run.target
    listing = run.models_listing
    facts: list[tuple[str, object, object]] = [
        ("suite_version", certificate.suite_version, run.suite_version),
        ("profile", certificate.profile, run.profile),
        ("strict", certificate.strict, results.strict),
        ("started", certificate.started, run.started),
        ("finished", certificate.finished, run.finished),
        (
            "digests.catalogue",
            certificate.digests.get("catalogue"),
            run.digests.catalogue,
        ),
        ("digests.schemas", certificate.digests.get("schemas"), run.digests.schemas),
        (
            "digests.models",
            certificate.digests.get("models"),
            listing.sha256 if listing else None,
        ),
        (
            "target.base_url",
            certificate.target.base_url,
            target.base_url if target else None,
        ),
        (
            "target.embedded",
            certificate.target.embedded,
            target.embedded if target else None,
        ),
        (
            "target.capabilities",
            certificate.target.capabilities,
            target.capabilities if target else None,
        ),
        (
            "target.models",
            dict(certificate.target.models),
            dict(target.models) if target else None,
        ),
        ("verdict", certificate.verdict.value, results.verdict.value),
        ("not_checked", certificate.not_checked, results.not_checked),
        ("left_out", certificate.left_out, left_out(run, results.not_checked)),
    ]
    for name, certified, found in facts:
        problems += _differs(where, name, certified, found)
    for outcome in Outcome:
        problems += _differs(
            where,
            f"totals.{outcome.value}",
            certificate.counts.get(outcome, 0),
            results.totals.get(outcome, 0),
        )
    for rid in sorted(set(certificate.requirements) | set(results.requirements)):
        certified = certificate.requirements.get(rid)
        req = results.requirements.get(rid)
        problems += _differs(
            where,
            rid,
            certified.value if certified else None,
            req.outcome.value if req else None,
        )
    return problems


def _entries_for(
    results: RunResults, catalogue: Catalogue
) -> tuple[Mapping[str, RequirementEntry], list[str]]:
    """The catalogue the run was judged by, or (with a problem line) the entries
    results.json itself gives."""
    digest = results.run.digests.catalogue
    if digest == catalogue.digest:
        entries = {
            rid: RequirementEntry.of(r) for rid, r in catalogue.requirements.items()
        }
        return entries, []
    own = {
        rid: RequirementEntry(
            rid, r.level, r.area, r.endpoint, r.origin, r.statement, r.source
        )
        for rid, r in results.requirements.items()
    }
    own.update({rid: RequirementEntry.unknown(rid) for rid in results.not_checked})
    return own, [
        f"{RESULTS_FILE}: judged by catalogue sha256 {(digest or 'none')[:16]}…, not "
        f"by this suite's ({catalogue.digest[:16]}…): its levels and the requirements "
        f"not checked cannot be re-derived (verify with qbtsuite "
        f"{results.run.suite_version}, or --catalogue the file it used)"
    ]


def _rederived(
    results: RunResults, entries: Mapping[str, RequirementEntry], full: bool
) -> list[str]:
    """The verdict and counts, merged again from the run's test records."""
    again = rederive(results, entries)
    where = RESULTS_FILE
    problems: list[str] = []
    for nodeid, test in results.tests.items():
        if test.requirements:
            worst = combine([c.outcome for c in test.requirements.values()])
            if worst != test.outcome:
                problems.append(
                    f"{where}: test {nodeid} is {test.outcome.value!r}, its "
                    f"requirements give {worst.value!r}"
                )
    for rid in sorted(set(results.requirements) | set(again.requirements)):
        written, derived = results.requirements.get(rid), again.requirements.get(rid)
        if written is None or derived is None:
            problems.append(
                f"{where}: requirement {rid} is {'missing' if written is None else 'listed'}"
                f" but its tests {'check' if derived else 'do not check'} it"
            )
            continue
        if written.outcome != derived.outcome:
            problems.append(
                f"{where}: {rid} is {written.outcome.value!r}, but its tests give "
                f"{derived.outcome.value!r}"
            )
        if full and written.level != derived.level:
            problems.append(
                f"{where}: {rid} is a {written.level}, the catalogue says {derived.level}"
            )
    for outcome in Outcome:
        for name, written_counts, derived_counts in (
            ("totals", results.totals, again.totals),
            ("test_totals", results.test_totals, again.test_totals),
        ):
            a, b = written_counts.get(outcome, 0), derived_counts.get(outcome, 0)
            if a != b:
                problems.append(
                    f"{where}: {name}.{outcome.value} is {a}, the records give {b}"
                )
    if full and results.not_checked != again.not_checked:
        problems.append(
            f"{where}: not_checked lists {len(results.not_checked)} requirement(s), "
            f"the catalogue and the records give {len(again.not_checked)}"
        )
    if results.verdict != again.verdict:
        problems.append(
            f"{where}: the verdict is {results.verdict.value!r}, but its outcomes give "
            f"{again.verdict.value!r}"
        )
    return problems


def _records(run_dir: Path, results: RunResults) -> list[str]:
    """The records of every process must be the tests results.json holds."""
    folder = run_dir / RECORDS_FOLDER
    try:
        records = {r.nodeid: r for r in read_records(folder)} if folder.is_dir() else {}
    except (OSError, RunFileError) as exc:
        return [f"{RECORDS_FOLDER}/: {exc}"]
    problems: list[str] = []
    for nodeid in sorted(set(records) | set(results.tests)):
        record, test = records.get(nodeid), results.tests.get(nodeid)
        if record is None:
            problems.append(
                f"{RESULTS_FILE}: test {nodeid} has no record in {RECORDS_FOLDER}/"
            )
        elif test is None:
            problems.append(
                f"{RECORDS_FOLDER}/{record.worker}.jsonl: test {nodeid} is not in {RESULTS_FILE}"
            )
        elif record != test:
            problems.append(
                f"{RESULTS_FILE}: test {nodeid} differs from its record in "
                f"{RECORDS_FOLDER}/{record.worker}.jsonl"
            )
    return problems


def _schema(run_dir: Path) -> list[str]:
    from qbtsuite.schemas import validate

    try:
        data = json.loads((run_dir / RESULTS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []  # reading it as results says why
    errors = validate("results.schema", data)
    lines = [
        f"{RESULTS_FILE}: not as its schema says: {e}"
        for e in errors[:_MAX_SCHEMA_LINES]
    ]
    if len(errors) > _MAX_SCHEMA_LINES:
        lines.append(
            f"{RESULTS_FILE}: … and {len(errors) - _MAX_SCHEMA_LINES} more schema errors"
        )
    return lines


def _manifest(run_dir: Path, certificate: Certificate) -> list[str]:
    """The manifest's problems, the first :data:`_MAX_FILE_LINES` of them in full."""
    problems = compare_manifest(run_dir, certificate.manifest)
    if len(problems) <= _MAX_FILE_LINES:
        return problems
    more = len(problems) - _MAX_FILE_LINES
    return [
        *problems[:_MAX_FILE_LINES],
        f"… and {more} more files deleted, changed or added",
    ]


def _another_run(run_dir: Path, certificate: Certificate) -> list[str]:
    """A certificate of another run: that alone, and how much of the folder differs."""
    try:
        run_id = read_results(run_dir).run.run_id
    except (OSError, RunFileError):
        return []  # reading results.json later says why
    if run_id == certificate.run_id:
        return []
    differ = len(compare_manifest(run_dir, certificate.manifest))
    return [
        f"{CERTIFICATE_FILE}: certifies run {certificate.run_id}, but {RESULTS_FILE} "
        f"is of run {run_id} (a certificate of another run)",
        f"{CERTIFICATE_FILE}: its manifest does not describe this folder ({differ} "
        "files deleted, changed or added)",
    ]


def verify_run(
    run_dir: Path, catalogue: Catalogue, public_key: PublicKey | None = None
) -> Verification:
    """Every problem of the certified run folder ``run_dir``; none: it is valid."""
    outcome = Verification(checked_key=public_key is not None)
    try:
        found = read_certificate(run_dir)
    except FileNotFoundError:
        outcome.problems.append(
            f"{CERTIFICATE_FILE}: missing (the folder is not certified)"
        )
        return outcome
    except (OSError, RunFileError) as exc:
        outcome.problems.append(f"{CERTIFICATE_FILE}: {exc}")
        return outcome
    certificate = outcome.certificate = found.certificate
    problems = outcome.problems
    problems += _another_run(run_dir, certificate)
    if problems:
        return outcome
    problems += [
        f"{CERTIFICATE_FILE}: unknown member {name!r}"
        for name in found.unknown_members()
    ]
    problems += _signature(found, public_key)
    problems += _manifest(run_dir, certificate)
    problems += _schema(run_dir)
    try:
        results = read_results(run_dir)
    except FileNotFoundError:
        problems.append(f"{RESULTS_FILE}: missing")
        return outcome
    except (OSError, RunFileError) as exc:
        problems.append(f"{RESULTS_FILE}: {exc}")
        return outcome
    problems += _against_results(certificate, results)
    entries, catalogue_problems = _entries_for(results, catalogue)
    problems += catalogue_problems
    problems += _rederived(results, entries, full=not catalogue_problems)
    problems += _records(run_dir, results)
    return outcome
