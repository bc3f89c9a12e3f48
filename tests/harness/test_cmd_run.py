"""``qbtsuite run`` end to end, as a user runs it: real processes, real exit codes.

Runs that need tests use a tiny suite of their own (the real ``conformance/`` is
swapped for it through ``qbtsuite.harness.invoke.data_dir``), so these tests do not depend on
which conformance tests exist.
"""

from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from qbtsuite.results.store import read_results
from qbtsuite.schemas import validate
from qbtsuite.target.embedded import EmbeddedServer, ServerTarget

# Each case is a qbtsuite run in a child process, most of them against a server.
pytestmark = pytest.mark.slow

CANARY = "qbt_canary_run_5f0e9d8c7b6a5f4e3d2c1b0a"

_WRAPPER = """
import sys
from pathlib import Path
import qbtsuite.harness.invoke as runner
suite = Path(sys.argv[1])
runner.data_dir = lambda name: suite
from qbtsuite.cli import main
sys.exit(main(sys.argv[2:]))
"""

_SUITE = """
import pytest
from qbtsuite.errors import CheckFailure


@pytest.mark.smoke
@pytest.mark.spend(requests=1)
@pytest.mark.requirement("AUTH-001")
def test_missing_key_is_rejected_with_401(api):
    exchange = api.request("GET", "models", key=None)
    if exchange.status_code != 401:
        raise CheckFailure(
            title="a request without a key is rejected",
            received=str(exchange.status_code),
            expected="401 invalid_api_key",
        )


@pytest.mark.spend(requests=1, tokens=0)
@pytest.mark.requirement("MODEL-001")
def test_models_are_listed_with_the_main_key(api, record):
    exchange = api.request("GET", "models")
    with record.check("MODEL-001"):
        if exchange.status_code != 200:
            raise CheckFailure(title="listing", received=str(exchange.status_code), expected="200")
"""

_LEAKY = """
import pytest


@pytest.mark.requirement("MODEL-002")
def test_that_tries_to_leak_the_key(api, target_config, record):
    key = target_config.key("main").reveal()
    record.note(f"the key is {key}")
    print(f"stdout sees {key}")
    api.request("GET", "models?api_key=" + key, key=None)
    assert key == "something else"
"""


def _env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("QBTSUITE_", "QUBITTRON_"))
    }
    env.update(extra)
    return env


def _qbtsuite(
    *args: str,
    suite: Path | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "qbtsuite", *args]
    if suite is not None:
        command = [sys.executable, "-c", _WRAPPER, str(suite), *args]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=300, env=env or _env(), cwd=cwd
    )


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    folder = tmp_path / "suite"
    folder.mkdir()
    (folder / "conftest.py").write_text(
        'pytest_plugins = ["qbtsuite.harness.plugin"]\n'
    )
    (folder / "test_auth.py").write_text(_SUITE)
    return folder


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def canary_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerTarget]:
    """A reference server whose main key is the canary."""
    folder = tmp_path_factory.mktemp("canary")
    keys = folder / "keys.toml"
    keys.write_text(
        f'[[keys]]\nrole = "main"\nkey = "{CANARY}"\nrpm = 100000\nbalance = 1e12\n'
    )
    with EmbeddedServer(args=["--keys", str(keys)]) as target:
        yield target


class TestExitCodes:
    def test_a_bad_base_url_exits_2_with_one_line(self, tmp_path: Path) -> None:
        done = _qbtsuite(
            "run", "--base-url", "ftp://nowhere/v1", "--reports-dir", str(tmp_path)
        )
        assert done.returncode == 2
        assert done.stderr.strip().count("\n") == 0
        assert "scheme must be https:// or http://" in done.stderr
        assert "Traceback" not in done.stderr + done.stdout

    def test_an_unreachable_target_exits_3_with_one_line_and_no_key(
        self, tmp_path: Path
    ) -> None:
        url = f"https://127.0.0.1:{_free_port()}/v1"
        env = _env(QUBITTRON_API_KEY=CANARY)
        done = _qbtsuite(
            "run", "--base-url", url, "--reports-dir", str(tmp_path), env=env
        )
        assert done.returncode == 3
        assert done.stderr.startswith(
            "error: target unreachable: cannot reach 127.0.0.1"
        )
        assert done.stderr.strip().count("\n") == 0
        assert CANARY not in done.stdout + done.stderr

    def test_a_tls_failure_exits_3_and_suggests_the_ca_bundle(
        self, tmp_path: Path, canary_server: ServerTarget
    ) -> None:
        env = _env(QUBITTRON_API_KEY=CANARY)
        done = _qbtsuite("run", "--base-url", canary_server.https_url,
                         "--reports-dir", str(tmp_path), env=env)  # fmt: skip
        assert done.returncode == 3
        assert "TLS" in done.stderr and "--ca-bundle" in done.stderr

    def test_certify_without_declared_capabilities_exits_2(
        self, tmp_path: Path
    ) -> None:
        done = _qbtsuite("run", "--profile", "certify", "--reports-dir", str(tmp_path))
        assert done.returncode == 2
        assert "capabilities declared up front" in done.stderr
        assert not list(tmp_path.iterdir())  # refused before anything started

    def test_an_unknown_area_or_requirement_exits_2(self, tmp_path: Path) -> None:
        done = _qbtsuite("run", "--area", "nonsense", "--reports-dir", str(tmp_path))
        assert done.returncode == 2 and "unknown area(s): nonsense" in done.stderr
        done = _qbtsuite(
            "run", "--requirement", "AUTH-999", "--reports-dir", str(tmp_path)
        )
        assert done.returncode == 2 and "AUTH-999" in done.stderr

    def test_an_unknown_fault_or_a_bad_pytest_expression_exits_2(
        self, tmp_path: Path, suite: Path
    ) -> None:
        done = _qbtsuite(
            "run", "--fault", "no.such_fault", "--output", str(tmp_path / "a")
        )
        assert done.returncode == 2 and "unknown fault(s): no.such_fault" in done.stderr
        done = _qbtsuite(
            "run", "-k", "and(", "--output", str(tmp_path / "b"), suite=suite
        )
        assert done.returncode == 2 and "Wrong expression passed to '-k'" in done.stderr
        done = _qbtsuite(
            "run", "-k", "nothing_matches", "--output", str(tmp_path / "c"), suite=suite
        )
        assert done.returncode == 2 and "no tests match the selection" in done.stderr
        assert not (tmp_path / "c" / "report.html").exists()

    def test_a_broken_config_file_exits_2(self, tmp_path: Path) -> None:
        config = tmp_path / "target.toml"
        config.write_text("retries = 9\n")
        done = _qbtsuite("run", "--config", str(config), "--reports-dir", str(tmp_path))
        assert done.returncode == 2
        assert done.stderr.startswith(f"error: config file {config}: retries:")

    def test_a_clean_embedded_run_exits_0_and_leaves_its_reports(
        self, tmp_path: Path, suite: Path
    ) -> None:
        done = _qbtsuite(
            "run", "--reports-dir", str(tmp_path / "reports"), suite=suite, cwd=tmp_path
        )
        assert done.returncode == 0, done.stdout + done.stderr
        found = list((tmp_path / "reports").iterdir())
        run_dirs = [p for p in found if not p.name.startswith(".")]
        assert len(run_dirs) == 1 and run_dirs[0].name.endswith("-full")
        # beside the run folders, only pytest's cache (for --lf/--ff)
        assert [p.name for p in found if p not in run_dirs] == [".pytest_cache"]
        names = {p.name for p in run_dirs[0].iterdir()}
        assert {
            "results.json",
            "junit.xml",
            "junit-requirements.xml",
            "report.html",
            "summary.md",
            "allure-results",
        } <= names
        assert "✓ auth" in done.stdout and "verdict  conformant" in done.stdout
        results = json.loads((run_dirs[0] / "results.json").read_text())
        assert validate("results.schema", results) == []
        assert f"report   {run_dirs[0] / 'report.html'}" in done.stdout

    def test_a_run_against_a_fault_exits_1_with_the_failing_row_and_its_transcript(
        self, tmp_path: Path, suite: Path
    ) -> None:
        out = tmp_path / "run"
        done = _qbtsuite("run", "--fault", "auth.forbidden_instead_of_401",
                         "--output", str(out), suite=suite)  # fmt: skip
        assert done.returncode == 1, done.stdout + done.stderr
        results = json.loads((out / "results.json").read_text())
        assert validate("results.schema", results) == []
        assert read_results(out).to_json() == results
        assert results["requirements"]["AUTH-001"]["outcome"] == "fail"
        assert results["requirements"]["MODEL-001"]["outcome"] == "pass"
        test = results["tests"]["test_auth.py::test_missing_key_is_rejected_with_401"]
        assert "< HTTP/1.1 403 Forbidden" in test["transcripts"][0]
        assert "fail  AUTH-001" in done.stdout
        assert "AUTH-001" in (out / "report.html").read_text()


def test_a_dry_run_prints_the_spend_and_starts_nothing(
    tmp_path: Path, suite: Path
) -> None:
    done = _qbtsuite("run", "--dry-run", "--output", str(tmp_path / "run"), suite=suite)
    assert done.returncode == 0, done.stderr
    assert "nothing was sent" in done.stdout
    assert "target" not in done.stdout.splitlines()[0]
    total = next(line for line in done.stdout.splitlines() if line.startswith("total"))
    assert total.split()[1:3] == ["2", "2"]  # 2 tests, 2 requests


def test_two_workers_give_the_same_verdicts_as_one(tmp_path: Path, suite: Path) -> None:
    serial = _qbtsuite("run", "--output", str(tmp_path / "serial"), suite=suite)
    parallel = _qbtsuite(
        "run", "-n", "2", "--output", str(tmp_path / "parallel"), suite=suite
    )
    assert serial.returncode == parallel.returncode == 0, (
        parallel.stdout + parallel.stderr
    )
    one = json.loads((tmp_path / "serial" / "results.json").read_text())
    two = json.loads((tmp_path / "parallel" / "results.json").read_text())
    assert sorted(two["workers"]) == ["gw0", "gw1"]
    assert {k: v["outcome"] for k, v in one["requirements"].items()} == {
        k: v["outcome"] for k, v in two["requirements"].items()
    }
    assert one["verdict"] == two["verdict"]


def test_a_canary_key_appears_in_no_file_and_no_output(
    tmp_path: Path, suite: Path, canary_server: ServerTarget
) -> None:
    (suite / "test_leaky.py").write_text(_LEAKY)
    out = tmp_path / "run"
    env = _env(QUBITTRON_API_KEY=CANARY)
    done = _qbtsuite("run", "--base-url", canary_server.https_url, "--ca-bundle", canary_server.ca,
                     "--output", str(out), env=env, suite=suite)  # fmt: skip
    assert done.returncode == 4  # the leaky test errors: the run is incomplete
    assert CANARY not in done.stdout + done.stderr
    files = [p for p in out.rglob("*") if p.is_file()]
    assert len(files) > 6
    fragments = [CANARY, CANARY[-12:], CANARY[4:16]]  # truncated reprs show the ends
    for path in files:
        data = path.read_bytes()
        assert not [f for f in fragments if f.encode() in data], path
    assert not [f for f in fragments if f in done.stdout + done.stderr]
    results = json.loads((out / "results.json").read_text())
    assert results["requirements"]["AUTH-001"]["outcome"] == "pass"
    assert results["requirements"]["MODEL-002"]["outcome"] == "error"


class _Counting(http.server.BaseHTTPRequestHandler):
    """Counts every request; answers like a gateway with one model."""

    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.seen.append(self.path)
        body = b'{"object": "list", "data": [{"id": "m", "object": "model"}]}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def counting_gateway() -> Iterator[tuple[str, list[str]]]:
    """A plain-HTTP gateway on loopback that counts the requests it gets."""
    _Counting.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Counting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", _Counting.seen
    finally:
        server.shutdown()
        server.server_close()


class TestConfigurationErrors:
    """A run that could judge nothing stops before it starts: exit 2, one line."""

    def test_a_request_budget_below_the_plan_exits_2_and_sends_nothing(
        self, tmp_path: Path, suite: Path, counting_gateway: tuple[str, list[str]]
    ) -> None:
        url, seen = counting_gateway
        done = _qbtsuite("run", "--base-url", url, "--request-budget", "1",
                         "--output", str(tmp_path / "run"),
                         env=_env(QUBITTRON_API_KEY=CANARY), suite=suite)  # fmt: skip
        assert done.returncode == 2, done.stdout + done.stderr
        assert done.stderr.strip().count("\n") == 0
        assert "the selection plans 2 requests but the request budget is 1" in (
            done.stderr
        )
        assert seen == []  # not even the reachability probe

    def test_a_refused_main_key_exits_2_naming_the_variable(
        self, tmp_path: Path, suite: Path, canary_server: ServerTarget
    ) -> None:
        env = _env(QUBITTRON_API_KEY="qbt_not_the_key_0123456789abcdef")
        done = _qbtsuite("run", "--base-url", canary_server.https_url,
                         "--ca-bundle", canary_server.ca, "--output", str(tmp_path / "run"),
                         env=env, suite=suite)  # fmt: skip
        assert done.returncode == 2, done.stdout + done.stderr
        assert done.stderr == (
            "error: the target refused the main key (401 invalid_api_key): "
            "check QUBITTRON_API_KEY\n"
        )

    def test_a_base_url_without_v1_exits_2_naming_the_fix(
        self, tmp_path: Path, suite: Path, canary_server: ServerTarget
    ) -> None:
        base = canary_server.https_url.removesuffix("/v1")
        done = _qbtsuite("run", "--base-url", base, "--ca-bundle", canary_server.ca,
                         "--output", str(tmp_path / "run"),
                         env=_env(QUBITTRON_API_KEY=CANARY), suite=suite)  # fmt: skip
        assert done.returncode == 2, done.stdout + done.stderr
        assert done.stderr.strip().count("\n") == 0
        assert f"set it to {base}/v1" in done.stderr


def test_a_main_key_throttled_past_the_wait_bound_exits_4_saying_what_to_set(
    tmp_path: Path, suite: Path
) -> None:
    out = tmp_path / "run"
    done = _qbtsuite("run", "--fault", "rate.throttle_everything",
                     "--output", str(out), suite=suite)  # fmt: skip
    assert done.returncode == 4, done.stdout + done.stderr
    results = json.loads((out / "results.json").read_text())
    assert results["requirements"]["AUTH-001"]["outcome"] == "pass"  # no key: evidence
    assert results["requirements"]["MODEL-001"]["outcome"] == "error"
    progress = [ln for ln in done.stdout.splitlines() if " tests  " in ln]
    assert any("models" in ln and "1 error" in ln for ln in progress), progress
    assert not any("failed" in ln for ln in progress), progress  # an error, no fail
    line = next(ln for ln in done.stdout.splitlines() if ln.startswith("throttled"))
    assert "the main key answered 429" in line
    assert "QBTSUITE_MAIN_KEY_RPM" in line and "--max-throttle-wait" in line
