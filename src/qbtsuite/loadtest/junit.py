"""``junit.xml`` of a load run: one testcase per SLO and per limiter check.

For CI test tabs, like the conformance run's. An SLO is a testcase of
``load.<profile>.slo``: it fails when breached, with what was measured against the
bound ("Received: ttft_p95 = 912 ms. Expected: ttft_p95 < 800 ms"). A limiter check
(``ratelimit`` profile) is a testcase of ``load.<profile>.ratelimit.<key>``: it fails
with its failed parts, and is skipped (with the reason) when it could not be judged
or only in part; informative figures are not testcases. A load generator that
failed is one testcase in error; so is an interrupted run, whose SLOs and checks are
then skipped (not judged). The record holds key roles, never keys.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from qbtsuite.loadtest.interrupted import interruption_text
from qbtsuite.loadtest.ratelimit.verdict import CheckVerdict
from qbtsuite.loadtest.slo import format_measured

__all__ = ["junit_xml", "write_junit"]


def _objective(v: dict[str, Any]) -> str:
    name = v["metric"] if v["endpoint"] == "all" else f"{v['endpoint']}.{v['metric']}"
    return f"{name} {v['op']} {v.get('bound') or v['threshold']}"


def _slo_case(
    suite: ET.Element, classname: str, v: dict[str, Any], report: dict[str, Any]
) -> None:
    case = ET.SubElement(
        suite, "testcase", classname=classname, name=v["slo"], time="0"
    )
    if v["passed"]:
        return
    name = _objective(v).split(" ", 1)[0]
    measured = format_measured(v["unit"], v["value"])
    received = (
        "no data (no such requests in the window)"
        if v["value"] is None
        else f"{name} = {measured}"
    )
    message = f"Received: {received}. Expected: {_objective(v)}"
    aborted = report.get("aborted")
    if aborted is not None and aborted["slo"] == v["slo"]:
        message += f" (run aborted at {aborted['at_s']:.1f} s: {aborted['reason']})"
    failure = ET.SubElement(case, "failure", message=message, type="slo-breached")
    failure.text = message


def _limiter_cases(suite: ET.Element, classname: str, limiter: dict[str, Any]) -> None:
    for subject, key in limiter["keys"].items():
        for check, data in key["checks"].items():
            verdict = data["verdict"]
            if verdict == CheckVerdict.INFO:
                continue
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"{classname}.ratelimit.{subject}",
                name=check,
                time="0",
            )
            parts = data["parts"]
            if verdict == CheckVerdict.FAIL:
                failed = [p for p in parts if p["verdict"] == CheckVerdict.FAIL]
                message = "; ".join(f"{p['name']}: {p['detail']}" for p in failed)
                failure = ET.SubElement(
                    case, "failure", message=message, type="ratelimit"
                )
                failure.text = "\n".join(
                    f"{p['name']} {p['verdict']}: {p['detail']}" for p in parts
                )
            elif verdict in (CheckVerdict.NOT_JUDGED, CheckVerdict.INCOMPLETE):
                open_ = [p for p in parts if p["verdict"] == CheckVerdict.NOT_JUDGED]
                why = "; ".join(f"{p['name']}: {p['detail']}" for p in open_)
                ET.SubElement(case, "skipped", message=f"{verdict}: {why}")


def _not_judged(suite: ET.Element) -> None:
    """An interrupted run judges nothing: every SLO and check case is skipped."""
    for case in suite.findall("testcase"):
        if case.get("name") == "load run":
            continue
        for verdict in [*case.findall("failure"), *case.findall("skipped")]:
            case.remove(verdict)
        ET.SubElement(case, "skipped", message="not judged: the run was interrupted")


def junit_xml(report: dict[str, Any]) -> str:
    """The JUnit XML text of a ``load.json`` record."""
    classname = f"load.{report['profile']}"
    suites = ET.Element("testsuites")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=f"qbtsuite load {report['profile']}",
        timestamp=str(report.get("started", "")),
        time=f"{report['window']['measured_s']:.3f}",
    )
    props = ET.SubElement(suite, "properties")
    for name, value in (
        ("target", report["target"]["base_url"]),
        ("verdict", report["verdict"]),
        ("exit_code", str(report["exit_code"])),
    ):
        ET.SubElement(props, "property", name=name, value=value)
    gen = report["generator"]
    stopped = report.get("interrupted")
    if stopped:
        case = ET.SubElement(suite, "testcase", classname=classname, name="load run")
        message = f"interrupted {interruption_text(report)}"
        ET.SubElement(case, "error", message=message, type="interrupted")
    elif gen["locust_exit_code"] != 0 or gen["timed_out"]:
        case = ET.SubElement(
            suite, "testcase", classname=classname, name="load generator"
        )
        why = (
            "did not finish in time and was stopped"
            if gen["timed_out"]
            else f"Locust exited with code {gen['locust_exit_code']}"
        )
        ET.SubElement(
            case, "error", message=f"the load generator {why}", type="internal"
        )
    for v in report["slo"]:
        _slo_case(suite, f"{classname}.slo", v, report)
    if report.get("ratelimit"):
        _limiter_cases(suite, classname, report["ratelimit"])
    if stopped:
        _not_judged(suite)
    cases = suite.findall("testcase")
    suite.set("tests", str(len(cases)))
    for tag, attr in (
        ("failure", "failures"),
        ("error", "errors"),
        ("skipped", "skipped"),
    ):
        suite.set(attr, str(sum(1 for c in cases if c.find(tag) is not None)))
    ET.indent(suites)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        + ET.tostring(suites, encoding="unicode")
        + "\n"
    )


def write_junit(run_dir: Path, report: dict[str, Any]) -> None:
    (run_dir / "junit.xml").write_text(junit_xml(report), encoding="utf-8")
