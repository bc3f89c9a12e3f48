"""The manifest of a run folder: every file in it (but the certificate) and its sha256.

Paths are relative to the folder, with ``/`` as separator, in sorted order. The run
folder holds regular files and folders only: a symbolic link could make a file
read one thing when sealed and another when checked, so it is never sealed and
always reported.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

from qbtsuite.errors import ConfigError

__all__ = ["CERTIFICATE_FILE", "build_manifest", "compare_manifest", "file_sha256"]

CERTIFICATE_FILE = "certificate.json"


def file_sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _entries(run_dir: Path) -> Iterator[tuple[str, Path]]:
    """Every non-folder entry under ``run_dir`` (links not followed), by relative path."""
    for folder, dirs, files in os.walk(run_dir, followlinks=False):
        base = Path(folder)
        links = [d for d in dirs if (base / d).is_symlink()]
        dirs[:] = sorted(d for d in dirs if d not in links)
        for name in sorted([*files, *links]):
            path = base / name
            yield path.relative_to(run_dir).as_posix(), path


def build_manifest(run_dir: Path) -> dict[str, str]:
    """sha256 of every file under ``run_dir`` except ``certificate.json``."""
    manifest: dict[str, str] = {}
    for name, path in _entries(run_dir):
        if name == CERTIFICATE_FILE:
            continue
        if path.is_symlink() or not path.is_file():
            raise ConfigError(f"cannot certify {run_dir}: {name} is not a regular file")
        manifest[name] = file_sha256(path)
    return dict(sorted(manifest.items()))


def compare_manifest(run_dir: Path, manifest: Mapping[str, str]) -> list[str]:
    """One line per file deleted, changed, added or not a regular file."""
    problems: list[str] = []
    present: set[str] = set()
    for name, path in _entries(run_dir):
        if name == CERTIFICATE_FILE:
            continue
        present.add(name)
        if path.is_symlink() or not path.is_file():
            problems.append(f"{name}: not a regular file (a run folder holds none)")
        elif name not in manifest:
            problems.append(
                f"{name}: not in the manifest (added after the certificate)"
            )
        else:
            found = file_sha256(path)
            if found != manifest[name]:
                problems.append(
                    f"{name}: changed since the certificate "
                    f"(sha256 {found[:16]}…, the manifest says {manifest[name][:16]}…)"
                )
    for name in sorted(set(manifest) - present):
        problems.append(f"{name}: in the manifest but missing (deleted)")
    return problems
