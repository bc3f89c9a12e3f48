"""A vendor's path end to end on the embedded reference server: a product file,
``qbtsuite keygen``, ``qbtsuite run --profile certify`` with every capability the
server offers declared and the certificate signed, then ``qbtsuite verify`` — valid
as written, invalid with a precise line after each tamper of the matrix.

Run B of "a certificate copied from another run" is a partial certify run
(``--area auth --allow-partial``), which is itself checked: verdict ``partial``,
exit 7, what it left out listed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from qbtsuite.capabilities import CAPABILITIES
from qbtsuite.certify.certificate import read_certificate
from qbtsuite.certify.signing import SigningKey
from qbtsuite.results.store import read_results
from tests.certify.bundle import (
    change_one_byte,
    copy_certificate,
    edit_json,
    edit_outcome,
    resign,
)

pytestmark = pytest.mark.slow

# Every capability but the TTS path: the reference server has no TTS endpoint.
OFFERED = ",".join(c for c in CAPABILITIES if c != "tts")
PRODUCT = """\
vendor = "Acme Networks"
product = "Acme AI Gateway"
version = "4.2.1"
url = "https://acme.example/ai-gateway"
contact = "conformance@acme.example"
"""


def _qbtsuite(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("QBTSUITE_", "QUBITTRON_"))
    }
    return subprocess.run(
        [sys.executable, "-m", "qbtsuite", *args],
        capture_output=True, text=True, timeout=600, env=env, cwd=cwd, check=False,
    )  # fmt: skip


class Vendor:
    """The vendor's working folder: product file, key pair, the two runs."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.product = folder / "product.toml"
        self.key = folder / "acme.key"
        self.public = folder / "acme.pub"
        self.signed = folder / "signed"
        self.partial = folder / "partial"


@pytest.fixture(scope="module")
def vendor(tmp_path_factory: pytest.TempPathFactory) -> Vendor:
    v = Vendor(tmp_path_factory.mktemp("vendor"))
    v.product.write_text(PRODUCT, encoding="utf-8")
    done = _qbtsuite("keygen", "acme", cwd=v.folder)
    assert done.returncode == 0, done.stderr
    assert v.key.stat().st_mode & 0o777 == 0o600
    assert "PRIVATE" not in done.stdout + done.stderr  # the key is never printed
    run = _qbtsuite(
        "run", "--profile", "certify", "--capabilities", OFFERED,
        "--product", str(v.product), "--sign-key", str(v.key),
        "--output", str(v.signed), cwd=v.folder,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr
    partial = _qbtsuite(
        "run", "--profile", "certify", "--capabilities", OFFERED, "--area", "auth",
        "--allow-partial", "--product", str(v.product), "--sign-key", str(v.key),
        "--output", str(v.partial), cwd=v.folder,
    )  # fmt: skip
    assert partial.returncode == 7, partial.stdout[-3000:] + partial.stderr
    return v


def _verify(folder: Path, public: Path) -> tuple[int, list[str]]:
    done = _qbtsuite(
        "verify", str(folder), "--public-key", str(public), cwd=folder.parent
    )
    return done.returncode, (done.stdout + done.stderr).splitlines()


def test_the_signed_certify_run_is_conformant_and_verifies_as_valid(
    vendor: Vendor,
) -> None:
    code, lines = _verify(vendor.signed, vendor.public)
    assert code == 0, lines
    certificate = read_certificate(vendor.signed).certificate
    assert lines == [
        f"valid    {vendor.signed}: conformant · Acme AI Gateway 4.2.1 (Acme Networks)"
        f" · {len(certificate.manifest) + 1} files · signed by the given key "
        f"{certificate.signature.public_key.key_id if certificate.signature else ''}"
    ]
    results = read_results(vendor.signed)
    assert results.run.identity == certificate.identity
    assert results.run.models_listing is not None
    assert certificate.digests["models"] == results.run.models_listing.sha256
    assert certificate.target.capabilities == tuple(OFFERED.split(","))
    assert certificate.requirements["MODEL-010"].value == "skipped"  # tts undeclared
    assert {o.value for o in certificate.requirements.values()} == {"pass", "skipped"}
    # every file of the folder is in the manifest, the certificate excepted
    files = {
        p.relative_to(vendor.signed).as_posix()
        for p in vendor.signed.rglob("*")
        if p.is_file()
    }
    assert set(certificate.manifest) == files - {"certificate.json"}
    assert {"REPRODUCE.md", "results.json", "junit.xml", "report.html"} <= files
    html = (vendor.signed / "report.html").read_text()
    assert "Qubittron API conformance of Acme AI Gateway 4.2.1 (Acme Networks)" in html


def test_reproduce_md_gives_the_command_the_facts_and_the_verify_line(
    vendor: Vendor,
) -> None:
    text = (vendor.signed / "REPRODUCE.md").read_text()
    results = read_results(vendor.signed)
    assert f"--capabilities {OFFERED}" in text and "--profile certify" in text
    assert '--sign-key "$SIGNING_KEY"' in text and str(vendor.key) not in text
    assert f"catalogue sha256: `{results.run.digests.catalogue}`" in text
    assert "qbtsuite verify RUN_FOLDER --public-key VENDOR.pub" in text
    assert 'vendor = "Acme Networks"' in text and "- suite: qbtsuite " in text


def test_a_partial_certify_run_says_partial_and_lists_what_it_left_out(
    vendor: Vendor,
) -> None:
    certificate = read_certificate(vendor.partial).certificate
    assert certificate.verdict.value == "partial"
    assert certificate.left_out[0] == "--area auth"
    assert certificate.left_out[1].endswith("requirement(s) not checked")
    assert {r.split("-")[0] for r in certificate.requirements} <= {"AUTH", "ERR"}
    code, lines = _verify(vendor.partial, vendor.public)
    assert code == 0 and ": partial · " in lines[-1], lines
    summary = (vendor.partial / "summary.md").read_text()
    assert (
        "Qubittron conformance: partial" in summary
        and "- Left out: --area auth" in summary
    )


Tamper = Callable[[Vendor, Path], None]


def _outcome_edited(v: Vendor, folder: Path) -> None:
    # the attacker claims the TTS path: MODEL-010 skipped → pass, digests recomputed
    edit_outcome(folder, "MODEL-010", "pass")


def _transcript_byte(v: Vendor, folder: Path) -> None:
    change_one_byte(
        folder / "records" / "local.jsonl", b"HTTP/1.1 401", b"HTTP/1.1 402"
    )


def _file_deleted(v: Vendor, folder: Path) -> None:
    (folder / "junit.xml").unlink()


def _file_added(v: Vendor, folder: Path) -> None:
    (folder / "notes.txt").write_text("added after the run\n")


def _identity_changed(v: Vendor, folder: Path) -> None:
    edit_json(
        folder / "certificate.json", lambda d: d["identity"].update(version="5.0")
    )


def _signed_by_another_key(v: Vendor, folder: Path) -> None:
    edit_outcome(folder, "MODEL-010", "pass", certificate=True)
    resign(folder, SigningKey(Ed25519PrivateKey.generate()))


def _copied_into_another_run(v: Vendor, folder: Path) -> None:
    copy_certificate(v.partial, folder)


MATRIX: dict[str, tuple[Tamper, str]] = {
    "one outcome edited, digests recomputed": (
        _outcome_edited,
        "results.json: MODEL-010 is 'pass', but its tests give 'skipped'",
    ),
    "one transcript byte changed": (
        _transcript_byte,
        "records/local.jsonl: changed since the certificate (sha256 ",
    ),
    "a file deleted": (
        _file_deleted,
        "junit.xml: in the manifest but missing (deleted)",
    ),
    "a file added": (
        _file_added,
        "notes.txt: not in the manifest (added after the certificate)",
    ),
    "identity changed": (
        _identity_changed,
        "results.json: identity.version is '4.2.1', the certificate says '5.0'",
    ),
    "signature from another key": (
        _signed_by_another_key,
        "certificate.json: signature: made by key sha256:",
    ),
    "certificate of run A copied into run B": (
        _copied_into_another_run,
        "certificate.json: certifies run ",
    ),
}


@pytest.mark.parametrize("case", list(MATRIX))
def test_verify_catches_each_tamper_of_a_real_certify_run(
    case: str, vendor: Vendor, tmp_path: Path
) -> None:
    folder = tmp_path / "run"
    shutil.copytree(vendor.signed, folder)
    tamper, line = MATRIX[case]
    tamper(vendor, folder)
    code, lines = _verify(folder, vendor.public)
    assert code == 1, lines
    assert any(ln.startswith(line) for ln in lines), (
        f"Received: {lines}\nExpected a line starting: {line}"
    )
    assert lines[-1] == f"INVALID  {folder}: {len(lines) - 1} problem(s)"


def test_report_refuses_a_tampered_real_run_and_rewrites_nothing(
    vendor: Vendor, tmp_path: Path
) -> None:
    folder = tmp_path / "run"
    shutil.copytree(vendor.signed, folder)
    done = _qbtsuite("report", str(folder), cwd=tmp_path)
    assert done.returncode == 0 and "certificate verified" in done.stdout, done.stderr
    edit_outcome(folder, "MODEL-010", "pass")
    before = {
        p: p.read_bytes() for p in (folder / "report.html", folder / "summary.md")
    }
    done = _qbtsuite("report", str(folder), cwd=tmp_path)
    assert done.returncode == 1
    assert "nothing was rewritten" in done.stderr
    assert all(p.read_bytes() == data for p, data in before.items())
    data = json.loads((folder / "results.json").read_text())
    assert data["requirements"]["MODEL-010"]["outcome"] == "pass"  # left as found
