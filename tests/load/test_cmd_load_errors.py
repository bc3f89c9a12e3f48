"""Bad input to ``qbtsuite load`` is one clear line and an exit code, before any load.

None of these tests sends a request to a non-loopback host: the refusal happens
before any network use.
"""

from __future__ import annotations

import secrets
import socket
import time
from pathlib import Path

import pytest

from qbtsuite.cli import main
from qbtsuite.errors import ConfigError
from qbtsuite.loadtest.target import check_base_url, is_loopback


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _run(
    args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    code = main(["load", *args, "--reports-dir", str(tmp_path / "reports")])
    out = capsys.readouterr()
    return code, out.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "unknown load profile 'nope'"),
        (["smoke", "--slo", "ttft_p95 800"], "malformed --slo 'ttft_p95 800'"),
        (["smoke", "--slo", "ttft_p95<800"], "a latency needs a unit"),
        (["smoke", "--rate", "10"], "closed loop"),
        (["smoke", "--users", "0"], "--users must be at least 1"),
        (["smoke", "--workers", "-1"], "--workers must be between"),
        (["steady", "--workers", "40"], "exceeds the 32 users of a stage"),
        (["smoke", "--base-url", "ftp://127.0.0.1/v1"], "scheme must be https://"),
        (["smoke", "--base-url", "not a url"], "a URL cannot contain spaces"),
        (["smoke", "--base-url", "https://127.0.0.1:99999/v1"], "port is not a number"),
        (["smoke", "--base-url", "https://[::1"], "not a URL (Invalid IPv6 URL)"),
        (
            ["smoke", "--base-url", "https://staging.example.com/v1"],
            "refusing to load staging.example.com: it is not loopback; repeat the "
            "host with --confirm-target staging.example.com",
        ),
        (
            [
                "smoke",
                "--base-url",
                "https://staging.example.com/v1",
                "--confirm-target",
                "prod.example.com",
            ],
            "refusing to load staging.example.com",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(
    args: list[str],
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QUBITTRON_API_KEY", "qbt_test_" + secrets.token_hex(16))
    code, err = _run(args, tmp_path, capsys)
    assert code == 2, err
    assert err.startswith("error: ") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "reports").exists(), "nothing may run on bad input"


def test_a_ca_file_that_is_not_pem_is_one_line_and_exit_code_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QUBITTRON_API_KEY", "qbt_test_" + secrets.token_hex(16))
    ca = tmp_path / "ca.pem"
    ca.write_text("not a certificate\n")
    url = f"https://127.0.0.1:{_closed_port()}/v1"
    code, err = _run(["smoke", "--base-url", url, "--ca", str(ca)], tmp_path, capsys)
    assert code == 2, err
    assert err.startswith("error: ") and "is not a PEM CA bundle" in err
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("args", [[], ["smoke", "--analyse", "x"]])
def test_a_profile_or_analyse_is_required_but_not_both(
    args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = _run(args, tmp_path, capsys)
    assert code == 2 and "give a PROFILE, or --analyse DIR" in err


def test_analyse_without_a_run_folder_is_a_config_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = _run(["--analyse", str(tmp_path)], tmp_path, capsys)
    assert code == 2 and err.startswith("error: no usable plan.json in ")


def test_a_missing_key_for_a_url_target_names_the_variable(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("QUBITTRON_API_KEY", raising=False)
    code, err = _run(
        ["smoke", "--base-url", f"https://127.0.0.1:{_closed_port()}/v1"],
        tmp_path,
        capsys,
    )
    assert code == 2 and "set QUBITTRON_API_KEY" in err


def test_an_unreachable_target_is_exit_code_3_without_a_hang(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QUBITTRON_API_KEY", "qbt_test_" + secrets.token_hex(16))
    url = f"https://127.0.0.1:{_closed_port()}/v1"
    started = time.monotonic()
    code, err = _run(["smoke", "--base-url", url], tmp_path, capsys)
    assert code == 3, err
    assert err.startswith("error: target unreachable: cannot reach 127.0.0.1")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert time.monotonic() - started < 15
    assert "qbt_test_" not in err


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("localhost", True),
        ("10.0.0.1", False),
        ("api.example.com", False),
        ("localhost.example.com", False),
    ],
)
def test_only_loopback_hosts_are_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_naming_the_host_again_confirms_a_remote_target() -> None:
    url = "https://Staging.Example.com/v1/"
    assert check_base_url(url, "staging.example.com") == url.rstrip("/")
    with pytest.raises(ConfigError, match="confirm-target"):
        check_base_url(url, None)
