"""``qbtsuite load ratelimit`` end to end: the clean reference server passes every
limiter check, and each limiter fault fails the one check it breaks, and no other.

Every test starts its own reference server with a 2 s window (the low-limit keys
admit 30 per window) and runs the whole scenario through Locust, so each takes
seconds; the fault runs are independent tests that xdist spreads over workers. They
mostly wait (a few dozen requests per second), so ``-n 4`` on two cores halves the
file's time.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from qbtsuite.cli import main
from qbtsuite.loadtest.ratelimit.settings import RateLimitSettings, embedded_keys_toml
from qbtsuite.loadtest.ratelimit.verdict import CHECKS, CheckVerdict
from qbtsuite.server.faults import load_faults
from qbtsuite.target.embedded import EmbeddedServer
from tests.load.ratelimit_sim import BREAKS

PNG = b"\x89PNG\r\n\x1a\n"
WINDOW = 2.0
LIMIT = 30

# One key under test; the second low-limit key and "second" are its witnesses.
PROFILE = """
user = "ratelimit"
[ratelimit]
keys = ["low_limit"]
witnesses = ["low_limit_2", "second"]
[request]
embedding_input = "Hi"
"""


def _verdicts(report: dict[str, Any], subject: str) -> dict[str, str]:
    checks = report["ratelimit"]["keys"][subject]["checks"]
    return {name: check["verdict"] for name, check in checks.items()}


def _run_dir(run_dir: Path) -> tuple[Path, dict[str, Any]]:
    """``--output`` is the run folder itself."""
    return run_dir, json.loads((run_dir / "load.json").read_text())


def _junit_cases(run_dir: Path) -> dict[tuple[str, str], ET.Element]:
    suite = ET.parse(run_dir / "junit.xml").getroot().find("testsuite")
    assert suite is not None
    return {
        (c.get("classname", ""), c.get("name", "")): c for c in suite.iter("testcase")
    }


def test_every_limiter_fault_of_the_catalogue_is_covered_here() -> None:
    # A fault that leaves nothing to judge throttles the main key, which the
    # ratelimit profile does not drive.
    limiter = {
        n
        for n, f in load_faults().items()
        if n.startswith("rate.") and f.expects == "failures"
    }
    assert limiter == set(BREAKS)


@pytest.mark.slow  # a ratelimit profile run: a server and Locust, windows long
def test_the_clean_server_passes_every_limiter_check_at_the_declared_rate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The embedded server, as `qbtsuite load ratelimit` starts it: both low-limit
    # keys under test, each the other's witness with "second".
    code = main(
        [
            "load",
            "ratelimit",
            "--window",
            str(WINDOW),
            "--output",
            str(tmp_path / "run"),
        ]
    )
    out = capsys.readouterr()
    run_dir, report = _run_dir(tmp_path / "run")
    section = report["ratelimit"]
    assert code == 0, (out.err, section["failed"])
    assert report["verdict"] == "pass" and section["verdict"] == CheckVerdict.PASS
    assert report["target"]["embedded"] is True
    assert list(section["keys"]) == ["low_limit", "low_limit_2"]
    for subject, key in section["keys"].items():
        verdicts = _verdicts(report, subject)
        assert verdicts == {
            c: CheckVerdict.INFO if c == "latency" else CheckVerdict.PASS
            for c in CHECKS
        }, (
            subject,
            verdicts,
        )
        assert set(key["witnesses"]) == {"second"} | {"low_limit", "low_limit_2"} - {
            subject
        }
        limit = key["checks"]["limit"]["figures"]
        # The measured admitted rate is the declared one: 2 windows × 30, ± 1.
        assert abs(limit["admitted"] - 2 * LIMIT) <= 1, limit
        assert limit["most_within_one_window"] <= LIMIT
        recovery = key["checks"]["recovery"]["figures"]
        assert recovery["fresh_start_admitted"] == LIMIT
        assert recovery["retry_after"] == "2"
        latency = key["checks"]["latency"]["figures"]
        assert latency["rate_limited_ms"]["count"] > 0
        assert latency["admitted_ms"]["count"] > 0
        assert (run_dir / key["plot"]).read_bytes().startswith(PNG)
    summary = (run_dir / "summary.md").read_text()
    page = (run_dir / "report.html").read_text()
    assert "### Rate limiter" in summary and "#### Key low_limit_2" in summary
    assert "Rate limiter" in page and "data:image/png;base64," in page
    assert re.search(r"rate limit low_limit: \d+\.\d admitted per window", out.out)
    cases = _junit_cases(run_dir)
    judged = [c for c in CHECKS if c != "latency"]
    expected = {
        (f"load.ratelimit.ratelimit.{key}", check)
        for key in ("low_limit", "low_limit_2")
        for check in judged
    }
    assert set(cases) == expected, sorted(cases)
    assert all(len(case) == 0 for case in cases.values()), "every check passed"


@pytest.mark.slow  # a ratelimit profile run per fault
@pytest.mark.parametrize("fault", sorted(BREAKS))
def test_a_limiter_fault_fails_the_check_it_breaks_and_no_other(
    fault: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = RateLimitSettings(
        keys=("low_limit",), witnesses=("low_limit_2", "second")
    )
    keys = tmp_path / "keys.toml"
    keys.write_text(embedded_keys_toml(settings))
    profile = tmp_path / "limiter.toml"
    profile.write_text(PROFILE)
    output = tmp_path / "out"
    args = ["--rate-window", str(WINDOW), "--keys", str(keys)]
    with EmbeddedServer(faults=[fault], args=args) as server:
        for role in ("low_limit", "low_limit_2", "second"):
            monkeypatch.setenv(f"QBTSUITE_{role.upper()}_KEY", server.keys[role])
        code = main(
            [
                "load",
                str(profile),
                "--base-url",
                server.https_url,
                "--ca",
                server.ca,
                "--declared-limit",
                str(LIMIT),
                "--window",
                str(WINDOW),
                "--output",
                str(output),
            ]
        )
    err = capsys.readouterr().err
    _, report = _run_dir(output)
    verdicts = _verdicts(report, "low_limit")
    failed = sorted(
        name for name, verdict in verdicts.items() if verdict == CheckVerdict.FAIL
    )
    assert failed == list(BREAKS[fault]), verdicts
    assert code == 6 and report["verdict"] == "ratelimit-failed"
    for check in BREAKS[fault]:
        assert f"low_limit: {check}" in err, err
    cases = _junit_cases(output)
    failing = sorted(
        name for (_, name), c in cases.items() if c.find("failure") is not None
    )
    assert failing == list(BREAKS[fault]), failing
