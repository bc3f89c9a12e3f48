"""``certificate.json``: what a certify run certifies, and its signature.

The certificate holds the product's identity, the suite version, the digests of
the catalogue, the schemas and the target's ``/models`` listing, the target as the
run saw it, the verdict, the counts and every requirement's outcome, what the run
left out, and the manifest of every other file of the run folder with its sha256.
``signature`` is ``"unsigned"`` or an Ed25519 signature over the canonical JSON
(:mod:`qbtsuite.certify.canonical`) of the certificate without its ``signature``
member. Unsigned, the certificate still lets anyone check the folder's integrity;
signed, it also says who stands behind it (the key id).

``write_certificate`` writes it last, after every other file of the folder.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from qbtsuite.certify.canonical import canonical_json
from qbtsuite.certify.manifest import CERTIFICATE_FILE, build_manifest
from qbtsuite.certify.signing import ALGORITHM, PublicKey, SigningKey
from qbtsuite.errors import RunFileError
from qbtsuite.results._json import JSONObject, JSONValue, Reader
from qbtsuite.results.model import Identity, RunResults
from qbtsuite.results.outcomes import Outcome, Verdict
from qbtsuite.results.records import left_out

__all__ = [
    "FORMAT",
    "UNSIGNED",
    "Certificate",
    "CertificateFile",
    "CertifiedTarget",
    "Signature",
    "build_certificate",
    "read_certificate",
    "write_certificate",
]

FORMAT = "qbtsuite-certificate/2"
UNSIGNED = "unsigned"


@dataclass(frozen=True, slots=True)
class CertifiedTarget:
    """The target as the certificate names it."""

    base_url: str
    embedded: bool
    capabilities: tuple[str, ...] | None  # None: not declared
    models: Mapping[str, str | None]

    def to_json(self) -> JSONObject:
        caps = self.capabilities
        return {
            "base_url": self.base_url,
            "embedded": self.embedded,
            "capabilities": None if caps is None else list(caps),
            "models": dict(self.models),
        }

    @classmethod
    def from_json(cls, data: Reader) -> CertifiedTarget:
        return cls(
            base_url=data.text("base_url"),
            embedded=data.flag("embedded"),
            capabilities=data.optional_texts("capabilities"),
            models=data.child("models").text_values(),
        )


@dataclass(frozen=True, slots=True)
class Signature:
    """An Ed25519 signature of the certificate's canonical JSON."""

    public_key: PublicKey
    value: bytes

    def to_json(self) -> JSONObject:
        return {
            "algorithm": ALGORITHM,
            "key_id": self.public_key.key_id,
            "public_key": self.public_key.encoded,
            "value": base64.b64encode(self.value).decode("ascii"),
        }

    @classmethod
    def from_json(cls, data: Reader) -> Signature:
        algorithm = data.text("algorithm")
        if algorithm != ALGORITHM:
            raise RunFileError(
                f"{data.where}.algorithm: {algorithm!r} is not {ALGORITHM}"
            )
        try:
            public = PublicKey.decode(data.text("public_key"))
            value = base64.b64decode(data.text("value"), validate=True)
        except ValueError as exc:
            raise RunFileError(f"{data.where}: {exc}") from None
        if data.text("key_id") != public.key_id:
            raise RunFileError(f"{data.where}.key_id: not the id of its public_key")
        return cls(public, value)


@dataclass(frozen=True, slots=True)
class Certificate:
    """The certificate of one certify run; ``signature`` None: unsigned."""

    run_id: str
    identity: Identity
    suite_version: str
    profile: str
    strict: bool
    started: str
    finished: str
    target: CertifiedTarget
    digests: Mapping[str, str | None]  # catalogue, schemas, models
    verdict: Verdict
    counts: Mapping[Outcome, int]
    requirements: Mapping[str, Outcome]
    not_checked: tuple[str, ...]
    left_out: tuple[str, ...]
    manifest: Mapping[str, str]  # relative path → sha256, every file but this one
    signature: Signature | None = None

    def body(self) -> JSONObject:
        """Everything but the signature: what the signature covers."""
        return {
            "format": FORMAT,
            "run_id": self.run_id,
            "identity": self.identity.to_json(),
            "suite_version": self.suite_version,
            "profile": self.profile,
            "strict": self.strict,
            "started": self.started,
            "finished": self.finished,
            "target": self.target.to_json(),
            "digests": dict(self.digests),
            "verdict": self.verdict.value,
            "counts": {o.value: self.counts.get(o, 0) for o in Outcome},
            "requirements": {rid: o.value for rid, o in self.requirements.items()},
            "not_checked": list(self.not_checked),
            "left_out": list(self.left_out),
            "manifest": dict(self.manifest),
        }

    def signed_bytes(self) -> bytes:
        return canonical_json(self.body())

    def to_json(self) -> JSONObject:
        signature: JSONValue = (
            UNSIGNED if self.signature is None else self.signature.to_json()
        )
        return {**self.body(), "signature": signature}

    @classmethod
    def from_json(cls, data: Reader) -> Certificate:
        found = data.text("format", "") if data.has("format") else None
        if found != FORMAT:
            raise RunFileError(
                f"{data.where} is not a qbtsuite certificate ({FORMAT}; its format "
                f"is {found!r})"
            )
        signature: Signature | None = None
        if not (data.is_text("signature") and data.text("signature") == UNSIGNED):
            signature = Signature.from_json(data.child("signature"))
        return cls(
            run_id=data.text("run_id"),
            identity=Identity.from_json(data.child("identity")),
            suite_version=data.text("suite_version"),
            profile=data.text("profile"),
            strict=data.flag("strict"),
            started=data.text("started"),
            finished=data.text("finished"),
            target=CertifiedTarget.from_json(data.child("target")),
            digests=data.child("digests").text_values(),
            verdict=data.member("verdict", Verdict),
            counts=data.child("counts").counts(Outcome),
            requirements={
                rid: Outcome(value)
                for rid, value in _outcomes(data.child("requirements")).items()
            },
            not_checked=data.texts("not_checked"),
            left_out=data.texts("left_out"),
            manifest=_digests(data.child("manifest")),
            signature=signature,
        )


def _outcomes(data: Reader) -> dict[str, str]:
    known = {o.value for o in Outcome}
    values: dict[str, str] = {}
    for rid, value in data.text_values().items():
        if value not in known:
            raise RunFileError(f"{data.where}.{rid}: {value!r} is not an outcome")
        values[rid] = value
    return values


def _digests(data: Reader) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, value in data.text_values().items():
        if value is None:
            raise RunFileError(f"{data.where}.{name}: expected a sha256, got null")
        values[name] = value
    return values


def build_certificate(results: RunResults, manifest: Mapping[str, str]) -> Certificate:
    """The (unsigned) certificate of a certify run's ``results`` and folder."""
    run, target = results.run, results.run.target
    if run.identity is None or run.run_id is None or target is None:
        raise ValueError("a certificate needs a certify run: identity, run id, target")
    listing = run.models_listing
    return Certificate(
        run_id=run.run_id,
        identity=run.identity,
        suite_version=run.suite_version,
        profile=run.profile,
        strict=results.strict,
        started=run.started,
        finished=run.finished,
        target=CertifiedTarget(
            base_url=target.base_url,
            embedded=target.embedded,
            capabilities=target.capabilities,
            models=dict(target.models),
        ),
        digests={
            "catalogue": run.digests.catalogue,
            "schemas": run.digests.schemas,
            "models": listing.sha256 if listing else None,
        },
        verdict=results.verdict,
        counts={o: results.totals.get(o, 0) for o in Outcome},
        requirements={rid: r.outcome for rid, r in results.requirements.items()},
        not_checked=results.not_checked,
        left_out=left_out(run, results.not_checked),
        manifest=dict(manifest),
    )


def _signed(certificate: Certificate, key: SigningKey | None) -> Certificate:
    if key is None:
        return certificate
    signature = Signature(key.public, key.sign(certificate.signed_bytes()))
    return replace(certificate, signature=signature)


@dataclass(frozen=True, slots=True)
class CertificateFile:
    """A certificate as read: its typed content, and the document as it is."""

    certificate: Certificate
    document: JSONObject  # the JSON object of the file

    def signed_bytes(self) -> bytes:
        """What a signature of this file covers: the canonical JSON of the document
        without ``signature``, whatever it holds (ValueError: no canonical form)."""
        return canonical_json(
            {k: v for k, v in self.document.items() if k != "signature"}
        )

    def unknown_members(self) -> list[str]:
        """Top-level members the certificate format does not have."""
        known = {*self.certificate.body(), "signature"}
        return sorted(set(self.document) - known)


def write_certificate(
    run_dir: Path, results: RunResults, key: SigningKey | None
) -> Certificate:
    """Seal ``run_dir``: the manifest of every file now in it, signed with ``key``
    (or unsigned), written to ``certificate.json``. Call it last."""
    certificate = _signed(build_certificate(results, build_manifest(run_dir)), key)
    text = json.dumps(certificate.to_json(), indent=2, ensure_ascii=False)
    (run_dir / CERTIFICATE_FILE).write_text(text + "\n", encoding="utf-8")
    return certificate


def read_certificate(run_dir: Path) -> CertificateFile:
    """``run_dir/certificate.json``; OSError if absent, RunFileError if malformed."""
    path = run_dir / CERTIFICATE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise RunFileError(f"{path} is not JSON: {exc}") from None
    certificate = Certificate.from_json(Reader(data, CERTIFICATE_FILE))
    return CertificateFile(certificate, data)
