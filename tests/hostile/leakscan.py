"""Look for a secret, in every known encoding, in every file under a folder (bytes).

Files are read in 8 MiB blocks; an occurrence is counted in the block where it ends,
so one spanning two blocks is counted once. Symbolic links are not followed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.hostile.secret_forms import Needle

__all__ = ["Hit", "redact", "scan_file", "scan_folder"]

_BLOCK = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Hit:
    """``count`` occurrences of the secret in ``form`` inside ``path``."""

    path: str
    form: str
    count: int


def _count_new(buffer: bytes, needle: bytes, fresh_from: int) -> int:
    """Occurrences of ``needle`` in ``buffer`` that end at or after ``fresh_from``."""
    count = 0
    at = buffer.find(needle, max(0, fresh_from - len(needle) + 1))
    while at >= 0:
        count += 1
        at = buffer.find(needle, at + len(needle))
    return count


def scan_file(
    path: Path, needles: Sequence[Needle], block: int = _BLOCK
) -> dict[str, int]:
    """Occurrences per form of the secret in one file, read ``block`` bytes at a time."""
    counts: dict[str, int] = {}
    keep = max(len(n.data) for n in needles) - 1
    tail = b""
    with path.open("rb") as stream:
        while data := stream.read(block):
            buffer = tail + data
            for needle in needles:
                found = _count_new(buffer, needle.data, len(tail))
                if found:
                    counts[needle.form] = counts.get(needle.form, 0) + found
            tail = buffer[-keep:] if keep else b""
    return counts


def _files(root: Path) -> Iterable[Path]:
    for folder, _, names in os.walk(root, followlinks=False):
        for name in names:
            path = Path(folder) / name
            if path.is_file() and not path.is_symlink():
                yield path


def scan_folder(root: Path, needles: Sequence[Needle]) -> list[Hit]:
    """Every occurrence of the secret under ``root``, per file and form."""
    hits = []
    for path in sorted(_files(root)):
        for form, count in sorted(scan_file(path, needles).items()):
            hits.append(Hit(str(path.relative_to(root)), form, count))
    return hits


def redact(text: str, needles: Sequence[Needle]) -> str:
    """``text`` with every needle replaced by ``[KEY:<form>]``."""
    for needle in sorted(needles, key=lambda n: len(n.data), reverse=True):
        text = text.replace(needle.data.decode("ascii"), f"[KEY:{needle.form}]")
    return text
