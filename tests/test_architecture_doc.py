"""ARCHITECTURE.md names only what exists: every path it writes in backticks is a file
or folder of the repository (from its root, or inside ``src/qbtsuite/``, as the
document says), so a move or a rename cannot leave the map behind."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "qbtsuite"
DOCUMENT = ROOT / "ARCHITECTURE.md"
# A backticked token is a path when it names a folder (a slash) or a Python module;
# placeholders (<worker>), options and bare output names (results.json) are not paths.
_PATH = re.compile(r"^[\w.*-]+(/[\w.*-]*)*$")


def written_paths(text: str) -> list[str]:
    """The paths written in backticks in ``text``, each once, in order."""
    found: list[str] = []
    for token in re.findall(r"`([^`\n]+)`", text):
        if ("/" in token or token.endswith(".py")) and _PATH.match(token):
            if not token.startswith(("-", "$", "/")) and "://" not in token:
                found.append(token)
    return list(dict.fromkeys(found))


def exists(path: str) -> bool:
    for base in (ROOT, PACKAGE):
        if "*" in path:
            if any(base.glob(path)):
                return True
        elif (base / path).exists():
            return True
    return False


def test_the_path_reader_takes_paths_and_leaves_options_and_placeholders() -> None:
    text = "`cli/run.py` `load/` `--output` `records/<worker>.jsonl` `results.json` `spec/*.txt`"
    received = written_paths(text)
    expected = ["cli/run.py", "load/", "spec/*.txt"]
    assert received == expected, f"Received: {received}\nExpected: {expected}"


PATHS = written_paths(DOCUMENT.read_text("utf-8"))


def test_the_architecture_document_names_paths_at_all() -> None:
    assert len(PATHS) > 100, f"Received: {len(PATHS)} paths\nExpected: the whole map"


@pytest.mark.parametrize("path", PATHS)
def test_every_path_the_architecture_document_names_exists(path: str) -> None:
    assert exists(path), (
        f"Received: ARCHITECTURE.md names `{path}`, which is neither under the "
        "repository root nor under src/qbtsuite/\nExpected: only paths that exist"
    )
