"""``junit.xml`` and ``junit-requirements.xml``: the run for CI test tabs.

Both are rendered from the run's results, not by pytest: only the typed records
know a SHOULD warning from a MUST failure and the suite's own errors from the
target's, and the files must tell the same story as the exit code.

- ``junit.xml``: one testcase per test. A test that broke a MUST requirement (or a
  SHOULD one, with ``--strict``) is a ``<failure>``; one whose evidence could not be
  had (the suite or the network failed) is an ``<error>``; a test whose only
  violations are SHOULD requirements passes, carrying each warning as a
  ``<property name="warning">`` and in ``<system-out>``; skipped and unsupported
  tests are ``<skipped message="reason">``.
- ``junit-requirements.xml``: one testcase per checked requirement (classname the
  area, name the id and the statement), by the same rules.

A conformant run's files hold no ``<failure>`` and no ``<error>``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

from qbtsuite import redact
from qbtsuite.results.model import RequirementResult, RunResults, TestRecord
from qbtsuite.results.outcomes import Outcome

__all__ = [
    "JUNIT_FILE",
    "JUNIT_REQUIREMENTS_FILE",
    "junit_kind",
    "render_junit_requirements",
    "render_junit_tests",
]

JUNIT_FILE = "junit.xml"
JUNIT_REQUIREMENTS_FILE = "junit-requirements.xml"

_MESSAGE = 300  # characters of a message attribute: CI tabs show one line
# Characters XML 1.0 cannot carry, even escaped (a transcript may hold them).
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: str) -> str:
    return _NOT_XML.sub("\ufffd", redact.scrub(value))


def _line(value: str) -> str:
    first = value.strip().splitlines()[0] if value.strip() else ""
    return first if len(first) <= _MESSAGE else first[: _MESSAGE - 1] + "…"


def junit_kind(outcomes: Iterable[Outcome], *, strict: bool) -> str:
    """``failure``, ``error``, ``passed`` or ``skipped`` for a testcase whose
    requirements ended so."""
    found = set(outcomes)
    if Outcome.FAIL in found or (strict and Outcome.WARN in found):
        return "failure"
    if Outcome.ERROR in found:
        return "error"
    if found & {Outcome.PASS, Outcome.WARN}:
        return "passed"
    return "skipped"


@dataclass(frozen=True, slots=True)
class _Case:
    classname: str
    name: str
    time: float
    kind: str  # failure | error | passed | skipped
    message: str
    details: str
    properties: tuple[tuple[str, str], ...]
    warnings: tuple[str, ...]
    output: str = ""


def _case_element(case: _Case) -> ET.Element:
    element = ET.Element(
        "testcase",
        {
            "classname": _text(case.classname),
            "name": _text(case.name),
            "time": f"{case.time:.3f}",
        },
    )
    properties = [*case.properties, *(("warning", w) for w in case.warnings)]
    if properties:
        holder = ET.SubElement(element, "properties")
        for name, value in properties:
            ET.SubElement(holder, "property", {"name": name, "value": _text(value)})
    if case.kind in ("failure", "error", "skipped"):
        child = ET.SubElement(element, case.kind, {"message": _text(case.message)})
        if case.kind != "skipped":
            child.set("type", case.kind)
            child.text = _text(case.details)
    out = "\n\n".join(
        [*(f"warning (SHOULD): {w}" for w in case.warnings), case.output]
    ).strip()
    if out:
        ET.SubElement(element, "system-out").text = _text(out)
    return element


def _suite(name: str, cases: list[_Case], results: RunResults) -> ET.Element:
    counts = {
        k: sum(c.kind == k for c in cases) for k in ("failure", "error", "skipped")
    }
    run = results.run
    attributes = {
        "name": name,
        "tests": str(len(cases)),
        "failures": str(counts["failure"]),
        "errors": str(counts["error"]),
        "skipped": str(counts["skipped"]),
        "time": f"{sum(c.time for c in cases):.3f}",
        "timestamp": run.started,
    }
    suites = ET.Element("testsuites", attributes)
    suite = ET.SubElement(suites, "testsuite", attributes)
    facts = [
        ("profile", run.profile),
        ("suite_version", run.suite_version),
        ("verdict", results.verdict.value),
        ("strict", "true" if results.strict else "false"),
    ]
    if run.target is not None:
        facts.insert(0, ("target", run.target.base_url))
        if run.target.faults:
            facts.append(("faults", " ".join(run.target.faults)))
    holder = ET.SubElement(suite, "properties")
    for key, value in facts:
        ET.SubElement(holder, "property", {"name": key, "value": _text(value)})
    suite.extend(_case_element(c) for c in cases)
    return suites


def _serialise(root: ET.Element) -> str:
    ET.indent(root)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        + ET.tostring(root, encoding="unicode")
        + "\n"
    )


# ─── junit.xml ───────────────────────────────────────────────────────────────


def _names(nodeid: str) -> tuple[str, str]:
    """pytest's classname and name: ``a/test_x.py::TestY::test_z[p]`` →
    ``a.test_x.TestY``, ``test_z[p]``."""
    path, *parts = nodeid.split("::")
    module = PurePosixPath(path).with_suffix("").as_posix().replace("/", ".")
    if not parts:
        return module, path
    return ".".join([module, *parts[:-1]]), parts[-1]


def _messages(checks: Mapping[str, Iterable[str]], wanted: Iterable[str]) -> list[str]:
    return [f"[{rid}] {m}" for rid in wanted for m in checks.get(rid, ())]


def _test_case(record: TestRecord, strict: bool) -> _Case:
    checks = record.requirements
    outcomes = [c.outcome for c in checks.values()] or [record.outcome]
    kind = junit_kind(outcomes, strict=strict)
    by_outcome = {rid: c.messages for rid, c in checks.items()}

    def having(*wanted: Outcome) -> list[str]:
        return [rid for rid, c in checks.items() if c.outcome in wanted]

    failing = having(Outcome.FAIL, Outcome.WARN) if strict else having(Outcome.FAIL)
    warned = [] if strict else having(Outcome.WARN)
    details = {
        "failure": _messages(by_outcome, failing),
        "error": _messages(by_outcome, having(Outcome.ERROR)),
    }.get(kind, [])
    message = record.reason or (details[0] if details else kind)
    if kind == "skipped":
        skipped = _messages(by_outcome, having(Outcome.SKIPPED, Outcome.UNSUPPORTED))
        message = record.reason or (skipped[0] if skipped else "skipped")
    classname, name = _names(record.nodeid)
    return _Case(
        classname=classname,
        name=name,
        time=record.duration,
        kind=kind,
        message=_line(message),
        details="\n\n".join(details),
        properties=(
            ("area", record.area),
            ("requirements", " ".join(checks)),
            *(("outcome " + rid, c.outcome.value) for rid, c in checks.items()),
        ),
        warnings=tuple(_messages(by_outcome, warned)),
        output="\n".join(record.notes),
    )


def render_junit_tests(results: RunResults) -> str:
    """``junit.xml``: one testcase per test of the run."""
    cases = [_test_case(r, results.strict) for r in results.tests.values()]
    return _serialise(_suite("qbtsuite", cases, results))


# ─── junit-requirements.xml ──────────────────────────────────────────────────


def _requirement_case(req: RequirementResult, strict: bool) -> _Case:
    kind = junit_kind([req.outcome], strict=strict)
    messages = list(req.messages)
    warned = req.outcome is Outcome.WARN and not strict
    return _Case(
        classname=req.area or "other",
        name=f"{req.id} {req.statement}".strip(),
        time=req.duration,
        kind=kind,
        message=_line(messages[0] if messages else req.outcome.value),
        details="\n\n".join(messages),
        properties=(
            ("level", req.level),
            ("outcome", req.outcome.value),
            ("source", req.source),
            *(("test", t.nodeid) for t in req.tests),
        ),
        warnings=tuple(messages if warned else ()),
    )


def render_junit_requirements(results: RunResults) -> str:
    """``junit-requirements.xml``: one testcase per requirement the run checked."""
    cases = [
        _requirement_case(r, results.strict) for r in results.requirements.values()
    ]
    return _serialise(_suite("qbtsuite requirements", cases, results))
