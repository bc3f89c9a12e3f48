"""``qbtsuite serve``: options, refusals with exit 2, the keys file and server.json.

Configuration errors are one clear line on stderr and exit code 2 (README.md, 'Exit codes'),
never a traceback; the server binds loopback only; ``server.json`` tells a client
everything it needs (URLs, CA, keys by role).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from qbtsuite.cli import main
from qbtsuite.server.faults import load_faults
from qbtsuite.server.keys import generate_key
from qbtsuite.target.embedded import EmbeddedServer
from tests.conftest import client_for
from tests.server.apicheck import expect_error, expect_ok

# Each case starts qbtsuite serve in a child process.
pytestmark = pytest.mark.slow


def serve(*args: str, state_dir: Path) -> subprocess.CompletedProcess[str]:
    """Run ``qbtsuite serve`` in a child process (every case here ends by itself)."""
    command = [sys.executable, "-m", "qbtsuite", "serve", "--state-dir", str(state_dir)]
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, timeout=60, check=False
    )


def serve_here(
    capsys: pytest.CaptureFixture[str], *args: str, state_dir: Path
) -> subprocess.CompletedProcess[str]:
    """Run ``qbtsuite serve`` in this process (faster; for the refusal variants)."""
    code = main(["serve", "--quiet", "--state-dir", str(state_dir), *args])
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(["qbtsuite", "serve"], code, out, err)


def _expect_refusal(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 2, (
        f"Received: exit {result.returncode}, stderr {result.stderr[-500:]!r} / "
        "Expected: exit 2"
    )
    assert "Traceback" not in result.stderr, f"Received: {result.stderr[-800:]}"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, f"Received: {lines} / Expected: one line"
    assert lines[0].startswith("error: "), f"Received: {lines[0]!r}"
    for word in words:
        assert word in lines[0], f"Received: {lines[0]!r} / Expected: it names {word!r}"


def test_list_faults_prints_the_catalogue_and_exits_0(tmp_path: Path) -> None:
    result = serve("--list-faults", state_dir=tmp_path)
    assert result.returncode == 0, f"Received: {result.returncode} {result.stderr}"
    listed = [line.split()[0] for line in result.stdout.splitlines() if line.strip()]
    assert sorted(listed) == sorted(load_faults()), f"Received: {listed}"


def test_an_unknown_fault_exits_2_with_one_clear_line(tmp_path: Path) -> None:
    result = serve("--fault", "no.such_fault", state_dir=tmp_path)
    _expect_refusal(result, "unknown fault", "no.such_fault", "--list-faults")
    assert not (tmp_path / "server.json").exists()


def test_a_non_loopback_host_exits_2_with_one_clear_line(tmp_path: Path) -> None:
    _expect_refusal(
        serve("--host", "0.0.0.0", state_dir=tmp_path), "loopback", "0.0.0.0"
    )


@pytest.mark.parametrize("host", ["::", "192.168.1.10", "example.com", "128.0.0.1"])
def test_any_non_loopback_host_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, host: str
) -> None:
    _expect_refusal(serve_here(capsys, "--host", host, state_dir=tmp_path), host)


def test_a_missing_keys_file_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "absent.toml"
    result = serve_here(capsys, "--keys", str(missing), state_dir=tmp_path)
    _expect_refusal(result, "keys file", str(missing))


def test_a_malformed_keys_file_exits_2_with_one_clear_line(tmp_path: Path) -> None:
    keys = tmp_path / "keys.toml"
    keys.write_text("keys = 5\n", encoding="utf-8")  # once a TypeError traceback
    result = serve("--keys", str(keys), state_dir=tmp_path / "state")
    _expect_refusal(result, str(keys), "array of tables")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("keys = [\n", ("not valid TOML",)),
        ('[[keys]]\nkey = "sk-1"\n', ("keys[0].key", "qbt_")),
        ("title = 'no keys'\n", ("no [[keys]]",)),
        ("[[keys]]\nrpm = -1\n", ("keys[0].rpm",)),
    ],
)
def test_every_kind_of_bad_keys_file_is_one_clear_line(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    text: str,
    words: tuple[str, ...],
) -> None:
    keys = tmp_path / "keys.toml"
    keys.write_text(text, encoding="utf-8")
    result = serve_here(capsys, "--keys", str(keys), state_dir=tmp_path / "state")
    _expect_refusal(result, str(keys), *words)


def test_a_port_in_use_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = serve_here(capsys, "--https-port", str(port), state_dir=tmp_path)
    _expect_refusal(result, "cannot start the server")


def test_an_unknown_option_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    result = serve_here(capsys, "--no-such-option", state_dir=tmp_path)
    assert result.returncode == 2
    assert "--no-such-option" in result.stderr


def test_server_json_names_urls_ca_and_keys_by_role(tmp_path: Path) -> None:
    with EmbeddedServer(state_dir=tmp_path) as target:
        info = json.loads((tmp_path / "server.json").read_text(encoding="utf-8"))
        with client_for(target) as client:
            expect_ok(client.get("models"))
    assert info["https_url"].startswith("https://127.0.0.1:")
    assert info["https_url"].endswith("/v1")
    assert info["http_url"].startswith("http://127.0.0.1:")
    assert info["http_url"].endswith("/v1")
    assert info["https_url"].split(":")[2] != info["http_url"].split(":")[2]
    ca = Path(info["ca"])
    assert ca.is_absolute()
    assert ca.read_text(encoding="ascii").startswith("-----BEGIN CERTIFICATE-----")
    assert set(info["keys"]) == {"main", "second", "zero_balance", "low_limit"}
    assert all(k.startswith("qbt_") for k in info["keys"].values())
    assert info["faults"] == []
    assert info["rate_window"] == 60.0
    assert set(info["latency"]) == {"ttft", "itl"}
    assert isinstance(info["pid"], int)


def test_a_keys_file_with_custom_keys_and_limits_is_served(tmp_path: Path) -> None:
    main, tight = generate_key(), generate_key()
    keys = tmp_path / "keys.toml"
    keys.write_text(
        f'[[keys]]\nrole = "main"\nkey = "{main}"\n\n'
        f'[[keys]]\nrole = "tight"\nkey = "{tight}"\nrpm = 2\n\n'
        f'[[keys]]\nrole = "broke"\nkey = "{generate_key()}"\nbalance = 0\n',
        encoding="utf-8",
    )
    with EmbeddedServer(args=["--keys", str(keys)]) as target:
        assert target.keys["main"] == main and target.keys["tight"] == tight
        assert set(target.keys) == {"main", "tight", "broke"}
        with client_for(target, "tight") as client:
            expect_ok(client.get("models"))
            expect_ok(client.get("models"))
            expect_error(client.get("models"), 429, "rate_limit_exceeded")
        with client_for(target, "broke") as client:
            chat = {
                "model": "gpt-oss-20b",
                "messages": [{"role": "user", "content": "x"}],
            }
            expect_error(
                client.post("chat/completions", json=chat), 402, "insufficient_funds"
            )
        with client_for(target, "main") as client:
            expect_ok(client.get("models"))
        # The generated default keys are not valid when a keys file is given.
        with client_for(target, "main") as client:
            client.headers["Authorization"] = f"Bearer {generate_key()}"
            expect_error(client.get("models"), 401, "invalid_api_key")
