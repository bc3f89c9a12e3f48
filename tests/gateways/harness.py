"""Start a reference server (``qbtsuite serve``) and an emulator in front of it, as
child processes on free loopback ports, and stop both on the way out.

Only the command line of ``qbtsuite`` is used: the server is black-box here.
"""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import httpx

from tests.gateways.options import GatewayOptions, options_argv
from tests.gateways.upstream import UpstreamInfo, UpstreamInfoError, read_upstream_info

__all__ = [
    "GatewayStartError",
    "RunningGateway",
    "gateway",
    "reference_and_gateway",
    "reference_server",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


class GatewayStartError(RuntimeError):
    """A child process did not come up (the reason is its last stderr line)."""


@dataclass(frozen=True)
class RunningGateway:
    """An emulator as its clients see it, with the upstream's keys by role."""

    base_url: str
    http_url: str | None
    ca: str | None
    keys: Mapping[str, str]
    upstream: UpstreamInfo
    upstream_info: Path

    def __repr__(self) -> str:  # keys stay out of every log line
        return f"RunningGateway({self.base_url!r})"

    def client(self, role: str | None = "main") -> httpx.Client:
        """An httpx client of the API, trusting the emulator's CA, as ``role``."""
        headers = {} if role is None else {"Authorization": f"Bearer {self.keys[role]}"}
        verify: ssl.SSLContext | bool = (
            ssl.create_default_context(cafile=self.ca) if self.ca else True
        )
        return httpx.Client(
            base_url=self.base_url + "/",
            verify=verify,
            headers=headers,
            timeout=httpx.Timeout(30.0, connect=5.0),
            trust_env=False,
        )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT)


def _last_line(log: Path) -> str:
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return "no output"
    return lines[-1] if lines else "no output"


def _wait_for(path: Path, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not path.exists():
        if process.poll() is not None:
            raise GatewayStartError(f"exited {process.returncode}: {_last_line(log)}")
        if time.monotonic() > deadline:
            raise GatewayStartError(
                f"not up after {START_TIMEOUT:g} s: {_last_line(log)}"
            )
        time.sleep(0.05)


@contextmanager
def _child(argv: Sequence[str], ready: Path, log: Path) -> Iterator[None]:
    with log.open("wb") as sink:
        process = subprocess.Popen(
            list(argv),
            cwd=REPO_ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=os.environ.copy(),
        )
    try:
        _wait_for(ready, process, log)
        yield
    finally:
        _stop(process)


@contextmanager
def reference_server(state_dir: Path, args: Sequence[str] = ()) -> Iterator[Path]:
    """``qbtsuite serve`` in ``state_dir``; yields the path of its ``server.json``."""
    state_dir.mkdir(parents=True, exist_ok=True)
    info = state_dir / "server.json"
    argv = [
        sys.executable,
        "-m",
        "qbtsuite",
        "serve",
        "--quiet",
        "--state-dir",
        str(state_dir),
        *args,
    ]
    with _child(argv, info, state_dir / "serve.log"):
        yield info


@contextmanager
def gateway(
    upstream_info: Path, options: GatewayOptions, state_dir: Path
) -> Iterator[RunningGateway]:
    """The emulator with ``options`` in front of the server ``upstream_info`` names."""
    state_dir.mkdir(parents=True, exist_ok=True)
    info_path = state_dir / "gateway.json"
    argv = [
        sys.executable,
        "-m",
        "tests.gateways.emulator",
        "--upstream-info",
        str(upstream_info),
        "--state-dir",
        str(state_dir),
        *options_argv(options),
    ]
    with _child(argv, info_path, state_dir / "emulator.log"):
        try:
            upstream = read_upstream_info(upstream_info)
        except UpstreamInfoError as exc:
            raise GatewayStartError(str(exc)) from None
        raw = json.loads(info_path.read_text(encoding="utf-8"))
        yield RunningGateway(
            base_url=str(raw["base_url"]),
            http_url=raw["http_url"],
            ca=raw["ca"],
            keys=MappingProxyType(dict(upstream.keys)),
            upstream=upstream,
            upstream_info=upstream_info,
        )


@contextmanager
def reference_and_gateway(
    options: GatewayOptions, state_dir: Path, server_args: Sequence[str] = ()
) -> Iterator[RunningGateway]:
    """A fresh reference server and the emulator with ``options`` in front of it."""
    with (
        reference_server(state_dir / "upstream", server_args) as info,
        gateway(info, options, state_dir / "gateway") as running,
    ):
        yield running
