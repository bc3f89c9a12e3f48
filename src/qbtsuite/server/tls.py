"""A private CA and a loopback certificate, made with trustme, written to disk."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import trustme

__all__ = ["TLSFiles", "make_tls_files"]


@dataclass(frozen=True, slots=True)
class TLSFiles:
    """Where the CA (for clients) and the server's chain and key were written."""

    ca: Path
    cert: Path
    key: Path


def make_tls_files(folder: Path) -> TLSFiles:
    """A fresh CA and a certificate for 127.0.0.1, localhost and ::1 in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name="qbtsuite reference server CA")
    leaf = ca.issue_cert("127.0.0.1", "localhost", "::1")
    files = TLSFiles(
        folder / "ca.pem", folder / "server-chain.pem", folder / "server-key.pem"
    )
    ca.cert_pem.write_to_path(str(files.ca))
    leaf.private_key_pem.write_to_path(str(files.key))
    with files.cert.open("wb") as out:
        for blob in leaf.cert_chain_pems:
            out.write(blob.bytes())
    files.key.chmod(0o600)
    return files
