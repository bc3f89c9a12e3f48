"""``--web`` and ``--slo-abort`` on tiny bounded runs against the reference server.

The web UI is Locust's, bound to 127.0.0.1, and the run still ends by itself; an
SLO that can no longer be met ends the run early with exit code 5.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest

from qbtsuite.cli import main
from qbtsuite.loadtest.plan import Plan, Stage
from qbtsuite.loadtest.processes import WebUI, locust_command


def _plan() -> Plan:
    return Plan(profile="t", base_url="https://127.0.0.1:1/v1", stages=(Stage(2.0, 1),))


def test_headless_is_the_default_and_the_web_ui_listens_on_loopback_only(
    tmp_path: Path,
) -> None:
    headless = locust_command(_plan(), tmp_path)
    assert "--headless" in headless
    assert not [a for a in headless if a.startswith(("--web", "--autostart"))]
    web = locust_command(_plan(), tmp_path, WebUI(port=8123))
    assert "--headless" not in web
    assert {"--autostart", "--web-host=127.0.0.1", "--web-port=8123"} <= set(web)
    assert any(a.startswith("--autoquit=") for a in web), "the UI must close by itself"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["smoke", "--web-port", "70000"], "--web-port 70000: a port is 1-65535"),
        (["--analyse", "x", "--web"], "--web apply to a load run, not to --analyse"),
        (["--analyse", "x", "--slo-abort"], "--slo-abort apply to a load run"),
        (["ratelimit", "--slo-abort"], "--slo-abort does not apply to the ratelimit"),
    ],
)
def test_web_and_abort_options_out_of_place_are_one_line_and_exit_code_2(
    args: list[str],
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["load", *args, "--reports-dir", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith(f"error: {message}"), err
    assert err.count("\n") == 1 and not (tmp_path / "r").exists()


def test_a_web_port_in_use_is_refused_before_anything_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code = main(
            ["load", "smoke", "--web-port", str(port), "--output", str(tmp_path / "r")]
        )
    err = capsys.readouterr().err
    assert code == 2 and err.startswith(f"error: --web-port {port}: cannot listen"), err
    assert not (tmp_path / "r").exists()


def _listeners(port: int) -> set[str]:
    """Local addresses (hex, as /proc/net/tcp writes them) listening on ``port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, _, hexport = local.rpartition(":")
            if state == "0A" and int(hexport, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


@pytest.mark.slow
def test_the_web_ui_serves_on_127_0_0_1_and_the_run_still_ends_and_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = _free_port()
    run_dir = tmp_path / "web-run"
    codes: list[int] = []
    args = [
        "load",
        "smoke",
        "--web-port",
        str(port),
        "-t",
        "3s",
        "--output",
        str(run_dir),
    ]
    runner = threading.Thread(target=lambda: codes.append(main(args)), daemon=True)
    started = time.monotonic()
    runner.start()
    seen, listening = None, set()
    while runner.is_alive() and seen is None and time.monotonic() - started < 60:
        try:
            seen = httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code
            listening = _listeners(port)
        except httpx.TransportError:
            time.sleep(0.2)
    runner.join(timeout=120)
    assert not runner.is_alive(), "the run with --web did not end by itself"
    out = capsys.readouterr().out
    assert seen == 200, "Locust's web UI did not answer while the run went"
    if Path("/proc/net/tcp").exists():
        assert listening == {"0100007F"}, (
            f"listening on {listening}, not 127.0.0.1 only"
        )
    assert codes == [0], out
    assert f"web UI: http://127.0.0.1:{port}" in out
    report = json.loads((run_dir / "load.json").read_text())
    assert report["generator"]["web_ui"] == f"http://127.0.0.1:{port}"
    assert report["endpoints"]["all"]["outcomes"]["ok"] > 0
    for name in ("report.html", "junit.xml", "locust.html", "summary.md"):
        assert (run_dir / name).stat().st_size > 0, name


_FAILING = """
user = "embeddings"
keys = ["zero_balance"]
warmup = "2s"
drain = "2s"
think_time = ["20ms", "50ms"]
max_requests = 200
slo = ["error_rate<1%"]
[[stages]]
duration = "40s"
users = 2
"""


@pytest.mark.slow
def test_an_slo_beyond_recovery_aborts_the_run_after_the_warm_up_with_exit_code_5(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A key with no balance: every request is refused with 402, a failed request.
    # With at most 200 requests, two failures already make error_rate >= 1%.
    profile = tmp_path / "failing.toml"
    profile.write_text(_FAILING)
    run_dir = tmp_path / "aborted"
    started = time.monotonic()
    code = main(["load", str(profile), "--slo-abort", "--output", str(run_dir)])
    elapsed = time.monotonic() - started
    out, err = capsys.readouterr()
    report = json.loads((run_dir / "load.json").read_text())
    aborted = report["aborted"]
    assert code == 5 and report["verdict"] == "slo-breached", err
    assert elapsed < 35, f"the 40 s profile took {elapsed:.0f} s: it was not aborted"
    assert 2.0 <= aborted["at_s"] < 20, aborted  # never during the warm-up
    assert aborted["slo"] == "error_rate<1%" and aborted["planned_s"] == 40
    assert aborted["reason"].startswith("error_rate<1% can no longer be met: ")
    assert "of at most 200 in the window" in aborted["reason"]
    assert err.startswith(f"aborted at {aborted['at_s']:.1f} s of 40 s: error_rate<1%")
    assert err.rstrip().endswith("; SLO breached: error_rate<1%")
    assert "✗ error_rate < 1%" in out and "aborted at" in out
    every = report["endpoints"]["all"]
    assert every["outcomes"]["failed"] == every["requests"] > 0
    # the window ends where the run was aborted
    assert report["window"]["measured_s"] == pytest.approx(
        aborted["at_s"] - 2.0, abs=0.01
    )
    suite = ET.parse(run_dir / "junit.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "1"
    failure = suite.find("testcase/failure")
    assert failure is not None
    message = failure.get("message", "")
    assert message.startswith(
        "Received: error_rate = 100.00%. Expected: error_rate < 1%"
    )
    assert "run aborted at" in message
    assert not (run_dir / ".stop").exists()
    page = (run_dir / "report.html").read_text()
    assert "<b>Aborted</b> at" in page and "SLO breached</h1>" in page
