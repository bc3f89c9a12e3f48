"""The command line: bad input is one line on stderr and exit 2, never a traceback;
the options survive the trip through the arguments the launcher builds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.gateways.behaviours import RENAMES
from tests.gateways.emulator import _parser, parse_options
from tests.gateways.harness import REPO_ROOT
from tests.gateways.options import GatewayOptions, options_argv


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.gateways.emulator", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("--upstream-info", "/nonexistent/server.json"), "cannot read"),
        (("--upstream-info", "X", "--rename-models", "a"), "expected old=new"),
        (("--upstream-info", "X", "--throttle-rpm", "0"), "at least 1"),
        (("--upstream-info", "X", "--host", "0.0.0.0"), "not a loopback address"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    args: tuple[str, ...], reason: str, upstream_info: Path
) -> None:
    args = tuple(str(upstream_info) if a == "X" else a for a in args)
    done = _run(*args)
    assert done.returncode == 2, f"Received: exit {done.returncode}"
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and reason in lines[0], f"Received: {done.stderr!r}"


def test_options_survive_the_command_line() -> None:
    options = GatewayOptions(
        throttle_rpm=3,
        throttle_window=2.5,
        plain_http=True,
        renames=RENAMES,
        unknown_model_status=404,
        fastapi_errors=True,
        drop_param=True,
        embellish=True,
        image_url_host="example.invalid",
        upstream_timeout=5.0,
    )
    argv = ["--upstream-info", "x", *options_argv(options)]
    assert parse_options(_parser().parse_args(argv)) == options
