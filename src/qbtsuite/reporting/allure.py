"""What a run adds to its ``allure-results/`` besides allure-pytest's own files.

- ``categories.json``: failures of the target (MUST requirements broken: pytest
  ``failed``), the suite's or the network's errors (``broken``: no verdict), and
  skipped checks (not configured, or an optional capability declined);
- ``environment.properties``: target, profile, suite version, verdict, strict, and
  the faults injected into the embedded server, if any;
- ``allurerc.json``: a configuration for Allure 3 (npm, no Java): the same
  categories and the tree grouped by area → requirement, for
  ``npx allure generate --config allure-results/allurerc.json allure-results``
  (Allure 3 reads ``categories.json`` only into its classic report).

The tests carry the labels that group a report by area → requirement: ``parentSuite``
is the area and ``suite`` the test's first requirement (the default tree of Allure
2's "Suites" and of ``allure awesome``), ``epic``/``feature``/``story`` are
area/endpoint/every requirement id (Allure 2's "Behaviors"; the tree of
``allurerc.json``); see ``harness/plugin.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

from qbtsuite import redact
from qbtsuite.results.model import RunResults

__all__ = [
    "ALLURE3_CONFIG",
    "CATEGORIES",
    "allure3_config",
    "environment_properties",
    "write_allure_extras",
]

ALLURE3_CONFIG = "allurerc.json"

CATEGORIES: tuple[dict[str, object], ...] = (
    {
        "name": "Requirements the target broke (MUST, or SHOULD with --strict)",
        "matchedStatuses": ["failed"],
    },
    {
        "name": "No verdict: the suite or the network failed, not the target",
        "matchedStatuses": ["broken"],
    },
    {
        "name": "Not checked: not configured, or an optional capability declined",
        "matchedStatuses": ["skipped"],
    },
)


def _property(value: str) -> str:
    """A .properties value on one line (``\\`` and line breaks escaped)."""
    text = redact.scrub(value).replace("\\", "\\\\")
    return text.replace("\n", "\\n").replace("\r", "\\r")


def environment_properties(results: RunResults) -> str:
    """``environment.properties`` of the run: one ``key=value`` per line."""
    run = results.run
    target = run.target
    facts = [
        ("target", target.base_url if target else "(none)"),
        ("embedded", str(bool(target and target.embedded)).lower()),
        ("profile", run.profile),
        ("selection", run.selection.describe()),
        ("suite_version", run.suite_version),
        ("verdict", results.verdict.value),
        ("strict", str(results.strict).lower()),
        ("catalogue_sha256", run.digests.catalogue or ""),
    ]
    if target is not None and target.faults:
        facts.append(("faults_injected", ", ".join(target.faults)))
    return "".join(f"{key}={_property(value)}\n" for key, value in facts)


def allure3_config() -> dict[str, object]:
    """Allure 3's configuration: our categories, and the awesome report's tree by
    area (``epic``) → requirement (``story``: a test under each it checks)."""
    return {
        "name": "Qubittron conformance",
        "categories": list(CATEGORIES),
        "plugins": {
            "awesome": {
                "options": {
                    "reportName": "Qubittron conformance",
                    "groupBy": ["epic", "story"],
                }
            }
        },
    }


def _json(data: object) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def write_allure_extras(allure_dir: Path, results: RunResults) -> list[Path]:
    """Write ``categories.json``, ``environment.properties`` and ``allurerc.json``
    into ``allure_dir``."""
    allure_dir.mkdir(parents=True, exist_ok=True)
    files = {
        "categories.json": _json(list(CATEGORIES)),
        "environment.properties": environment_properties(results),
        ALLURE3_CONFIG: _json(allure3_config()),
    }
    written = []
    for name, text in files.items():
        path = allure_dir / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
