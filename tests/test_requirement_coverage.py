"""Every catalogued requirement is checked by a test, and every test checks one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import cache
from pathlib import Path

from qbtsuite.requirements import load_catalogue
from qbtsuite.resources import data_dir

ROOT = Path(__file__).resolve().parents[1]


@cache
def declarations() -> dict[str, dict[str, list[str]]]:
    """Requirement ids and capabilities of every conformance test, from a
    collect-only child run."""
    out = Path(os.environ.get("TMPDIR", "/tmp")) / f"qbt-collect-{os.getpid()}.json"
    env = {**os.environ, "QBT_COLLECT_OUT": str(out)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(data_dir("conformance")), "--collect-only",
         "-q", "-p", "tests.requirement_collector", "-p", "no:randomly"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    data: dict[str, dict[str, list[str]]] = json.loads(out.read_text(encoding="utf-8"))
    out.unlink()
    return data


def collected() -> dict[str, list[str]]:
    """Requirement ids of every conformance test."""
    return {node: d["requirements"] for node, d in declarations().items()}


def test_every_requirement_is_checked_by_at_least_one_conformance_test() -> None:
    named = {rid for ids in collected().values() for rid in ids}
    unchecked = sorted(set(load_catalogue().requirements) - named)
    assert not unchecked, f"requirements with no test: {unchecked}"


def test_every_conformance_test_names_a_known_requirement() -> None:
    known = set(load_catalogue().requirements)
    bare = sorted(node for node, ids in collected().items() if not ids)
    unknown = sorted({rid for ids in collected().values() for rid in ids} - known)
    assert not bare, f"conformance tests naming no requirement: {bare[:10]}"
    assert not unknown, f"unknown requirement ids: {unknown}"
