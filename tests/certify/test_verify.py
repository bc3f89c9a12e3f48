"""``qbtsuite verify`` on certified folders: valid as written, and every tamper of
the matrix caught with a line that says what was changed.

The folders are built from synthetic test records (tests/certify/bundle.py); the
same matrix on a real certify run of the embedded server is in test_certify_run.py.
"""

from __future__ import annotations

import base64
import functools
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from qbtsuite.certify.canonical import canonical_json
from qbtsuite.certify.certificate import read_certificate
from qbtsuite.certify.signing import SigningKey, generate_key_pair, load_signing_key
from qbtsuite.cli import main
from qbtsuite.requirements import load_catalogue
from tests.certify.bundle import (
    certified_folder,
    change_one_byte,
    copy_certificate,
    edit_json,
    edit_outcome,
    recompute_manifest,
    resign,
    synthetic_catalogue,
)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[SigningKey, Path]:
    """The vendor's key pair: the signing key, and the public key's file."""
    folder = tmp_path_factory.mktemp("keys")
    generate_key_pair(folder / "vendor.key", folder / "vendor.pub")
    return load_signing_key(folder / "vendor.key"), folder / "vendor.pub"


@pytest.fixture(scope="module")
def sealed(
    tmp_path_factory: pytest.TempPathFactory, keys: tuple[SigningKey, Path]
) -> tuple[Path, Path]:
    """A signed folder and its catalogue file, never changed (tests copy it)."""
    base = tmp_path_factory.mktemp("sealed")
    catalogue = synthetic_catalogue(base)
    certified_folder(base / "run", catalogue, keys[0])
    return base / "run", catalogue.path


def _verify(
    capsys: pytest.CaptureFixture[str],
    folder: Path,
    catalogue: Path,
    public: Path | None = None,
) -> tuple[int, list[str]]:
    argv = ["verify", str(folder), "--catalogue", str(catalogue)]
    if public is not None:
        argv += ["--public-key", str(public)]
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out.splitlines() + captured.err.splitlines()


def test_a_signed_folder_verifies_as_valid_with_the_vendors_public_key(
    sealed: tuple[Path, Path],
    keys: tuple[SigningKey, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder, catalogue = sealed
    code, lines = _verify(capsys, folder, catalogue, keys[1])
    assert code == 0, lines
    assert lines == [
        f"valid    {folder}: not conformant · Gateway One 2.0 (Example Vendor) · "
        f"{len(read_certificate(folder).certificate.manifest) + 1} files · signed by "
        f"the given key {keys[0].public.key_id}"
    ]


def test_the_signature_covers_the_canonical_json_of_the_certificate_without_it(
    sealed: tuple[Path, Path], keys: tuple[SigningKey, Path]
) -> None:
    document = json.loads((sealed[0] / "certificate.json").read_text())
    signature = document.pop("signature")
    # canonical: sorted keys, no whitespace, UTF-8 (certify/canonical.py)
    text = json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert canonical_json(document) == text.encode("utf-8")
    value = base64.b64decode(signature["value"])
    assert keys[0].public.verifies(value, text.encode("utf-8"))
    assert signature["key_id"] == keys[0].public.key_id
    assert not keys[0].public.verifies(value, text.encode("utf-8") + b" ")


def test_a_float_has_no_canonical_form() -> None:
    with pytest.raises(ValueError, match="a float has no canonical form"):
        canonical_json({"duration": 1.5})


# ─── the tamper matrix ───────────────────────────────────────────────────────


def _outcome_edited(folder: Path, other: Path) -> None:
    """AUD-001 fail → pass in results.json (totals and verdict too), digests
    recomputed: the attacker's certificate of conformance."""
    edit_outcome(folder, "AUD-001", "pass")


def _transcript_byte(folder: Path, other: Path) -> None:
    """One byte of a transcript in the records: 401 → 402."""
    change_one_byte(
        folder / "records" / "local.jsonl", b"HTTP/1.1 401", b"HTTP/1.1 402"
    )


def _file_deleted(folder: Path, other: Path) -> None:
    (folder / "junit.xml").unlink()


def _file_added(folder: Path, other: Path) -> None:
    (folder / "extra.txt").write_text("added later\n")


def _identity_changed(folder: Path, other: Path) -> None:
    edit_json(
        folder / "certificate.json", lambda d: d["identity"].update(vendor="Other Inc")
    )


def _signed_by_another_key(folder: Path, other: Path) -> None:
    """The attacker's edit, signed with the attacker's own key."""
    edit_outcome(folder, "AUD-001", "pass", certificate=True)
    resign(folder, SigningKey(Ed25519PrivateKey.generate()))


def _copied_from_another_run(folder: Path, other: Path) -> None:
    copy_certificate(other, folder)


Tamper = Callable[[Path, Path], None]

# case → (the edit, a line verify must print, another one it must print or None)
MATRIX: dict[str, tuple[Tamper, str, str | None]] = {
    "one outcome edited, digests recomputed": (
        _outcome_edited,
        "results.json: AUD-001 is 'pass', but its tests give 'fail'",
        "certificate.json: signature: does not match the certificate's content "
        "(certificate.json was changed after it was signed)",
    ),
    "one transcript byte changed": (
        _transcript_byte,
        "records/local.jsonl: changed since the certificate (sha256",
        "results.json: test test_auth.py::test_missing_key differs from its record "
        "in records/local.jsonl",
    ),
    "a file deleted": (
        _file_deleted,
        "junit.xml: in the manifest but missing (deleted)",
        None,
    ),
    "a file added": (
        _file_added,
        "extra.txt: not in the manifest (added after the certificate)",
        None,
    ),
    "identity changed": (
        _identity_changed,
        "results.json: identity.vendor is 'Example Vendor', the certificate says "
        "'Other Inc'",
        "certificate.json: signature: does not match the certificate's content "
        "(certificate.json was changed after it was signed)",
    ),
    "signature from another key": (
        _signed_by_another_key,
        "certificate.json: signature: made by key sha256:",
        "results.json: AUD-001 is 'pass', but its tests give 'fail'",
    ),
    "certificate of run A copied into run B": (
        _copied_from_another_run,
        "certificate.json: certifies run aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, but "
        "results.json is of run feedfacecafebeeffeedfacecafebeef (a certificate of "
        "another run)",
        "certificate.json: its manifest does not describe this folder (",
    ),
}


@pytest.mark.parametrize("case", list(MATRIX))
def test_verify_catches_each_tamper_with_a_precise_line(
    case: str,
    sealed: tuple[Path, Path],
    keys: tuple[SigningKey, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source, catalogue = sealed
    other = tmp_path / "run-a"
    certified_folder(other, synthetic_catalogue(tmp_path), keys[0], run_id="a" * 32)
    folder = tmp_path / "run-b"
    shutil.copytree(source, folder)
    tamper, line, also = MATRIX[case]
    tamper(folder, other)
    code, lines = _verify(capsys, folder, catalogue, keys[1])
    assert code == 1, lines
    assert lines[-1] == f"INVALID  {folder}: {len(lines) - 1} problem(s)"
    for expected in (line, also):
        if expected is not None:
            assert any(ln.startswith(expected) for ln in lines), (
                f"Received: {lines}\nExpected a line starting: {expected}"
            )


def test_another_key_goes_unnoticed_only_without_the_vendors_public_key(
    sealed: tuple[Path, Path],
    keys: tuple[SigningKey, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A consistent edit re-signed by the attacker verifies under the attacker's own
    # key: what names the signer is --public-key (and the key id verify prints).
    folder = tmp_path / "run"
    shutil.copytree(sealed[0], folder)
    _edit_consistently(folder)
    attacker = SigningKey(Ed25519PrivateKey.generate())
    resign(folder, attacker)
    code, lines = _verify(capsys, folder, sealed[1])
    assert code == 0, lines
    assert lines[-1].endswith(
        f"signed by {attacker.public.key_id} (give --public-key to check whose key it is)"
    )
    code, lines = _verify(capsys, folder, sealed[1], keys[1])
    assert code == 1
    assert lines[0].startswith("certificate.json: signature: made by key sha256:")


def _edit_consistently(folder: Path) -> None:
    """AUD-001 fail → pass everywhere it is written, every digest recomputed."""

    def results(data: dict[str, Any]) -> None:
        data["requirements"]["AUD-001"]["outcome"] = "pass"
        data["requirements"]["AUD-001"]["tests"][0]["outcome"] = "pass"
        data["requirements"]["AUD-001"]["messages"] = []
        test = data["tests"]["test_transcriptions.py::test_text"]
        test.update(outcome="pass", transcripts=[])
        test["requirements"]["AUD-001"] = {"messages": [], "outcome": "pass"}
        data["totals"].update(fail=0, **{"pass": data["totals"]["pass"] + 1})
        data["test_totals"].update(fail=0, **{"pass": data["test_totals"]["pass"] + 1})
        data["verdict"] = "conformant"
        records = folder / "records" / "local.jsonl"
        lines = [
            json.dumps(test, sort_keys=True, ensure_ascii=False)
            if json.loads(ln)["nodeid"] == test["nodeid"]
            else ln
            for ln in records.read_text().splitlines()
        ]
        records.write_text("\n".join(lines) + "\n")

    edit_json(folder / "results.json", results)

    def certificate(data: dict[str, Any]) -> None:
        data["requirements"]["AUD-001"] = "pass"
        data["counts"].update(fail=0, **{"pass": data["counts"]["pass"] + 1})
        data["verdict"] = "conformant"

    edit_json(folder / "certificate.json", certificate)
    recompute_manifest(folder)


def test_a_consistent_edit_is_caught_by_the_signature_alone(
    sealed: tuple[Path, Path],
    keys: tuple[SigningKey, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = tmp_path / "run"
    shutil.copytree(sealed[0], folder)
    _edit_consistently(folder)
    code, lines = _verify(capsys, folder, sealed[1])
    assert code == 1
    assert lines[:-1] == [
        "certificate.json: signature: does not match the certificate's content "
        "(certificate.json was changed after it was signed)"
    ]


def test_an_unsigned_folder_is_checked_for_integrity_and_says_so(
    tmp_path: Path, keys: tuple[SigningKey, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    catalogue = synthetic_catalogue(tmp_path)
    folder = tmp_path / "run"
    certified_folder(folder, catalogue, None)
    assert json.loads((folder / "certificate.json").read_text())["signature"] == (
        "unsigned"
    )
    code, lines = _verify(capsys, folder, catalogue.path)
    assert code == 0 and lines[-1].endswith(
        "unsigned: integrity only, nothing says who made it"
    )
    code, lines = _verify(capsys, folder, catalogue.path, keys[1])
    assert code == 1 and lines[0].startswith(
        "certificate.json: signature: the certificate is unsigned, so sha256:"
    )
    _outcome_edited(folder, folder)
    code, lines = _verify(capsys, folder, catalogue.path)
    assert code == 1
    assert "results.json: AUD-001 is 'pass', but its tests give 'fail'" in lines


def test_a_catalogue_other_than_the_runs_is_named_and_the_rest_still_checked(
    sealed: tuple[Path, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    other = tmp_path / "requirements.toml"
    other.write_text(sealed[1].read_text() + "\n# another version\n")
    code, lines = _verify(capsys, sealed[0], other)
    assert code == 1
    assert len(lines) == 2 and lines[0].startswith(
        "results.json: judged by catalogue sha256 "
    )


def test_verify_usage_errors_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["verify", str(tmp_path / "nowhere")]) == 2
    assert capsys.readouterr().err == f"error: {tmp_path / 'nowhere'} is not a folder\n"
    bad = tmp_path / "bad.pub"
    bad.write_text("not a key\n")
    assert main(["verify", str(tmp_path), "--public-key", str(bad)]) == 2
    assert capsys.readouterr().err == f"error: {bad} is not an Ed25519 public key\n"
    assert main(["verify", str(tmp_path)]) == 1  # a folder without a certificate
    assert capsys.readouterr().out.splitlines()[0] == (
        "certificate.json: missing (the folder is not certified)"
    )


def test_report_verifies_first_and_refuses_a_tampered_folder(
    sealed: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = tmp_path / "run"
    shutil.copytree(sealed[0], folder)
    # the folder was judged by the synthetic catalogue, not the bundled one
    own = functools.partial(load_catalogue, sealed[1])
    monkeypatch.setattr("qbtsuite.cli.report.load_catalogue", own)
    assert main(["report", str(folder)]) == 0
    out = capsys.readouterr().out
    assert (
        f"unchanged {folder / 'report.html'}" in out and "certificate verified" in out
    )
    _outcome_edited(folder, folder)
    before = (folder / "report.html").read_bytes()
    assert main(["report", str(folder)]) == 1
    err = capsys.readouterr().err
    assert "results.json: AUD-001 is 'pass', but its tests give 'fail'" in err
    assert err.splitlines()[-1].startswith(f"error: {folder} does not verify (")
    assert err.splitlines()[-1].endswith("problem(s)): nothing was rewritten")
    assert (folder / "report.html").read_bytes() == before  # nothing rewritten
