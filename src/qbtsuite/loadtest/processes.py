"""Run Locust headless in child processes: one local process, or a master and N workers.

Locust monkey-patches the standard library for gevent as soon as it is imported, so
it never runs inside this process (nor inside a pytest run): it runs as
``python -m locust`` children. The plan travels in ``QBTSUITE_LOAD_PLAN`` and the keys
in ``QBTSUITE_LOAD_KEYS`` (environment, never the command line, which ``ps`` shows).
Every child is bounded in time: past the deadline the master gets SIGTERM (Locust then
still writes its reports), and anything left gets SIGKILL.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from qbtsuite.loadtest.plan import USER_CLASSES, Plan
from qbtsuite.resources import data_dir

__all__ = ["LocustRun", "run_locust"]

_STARTUP_GRACE = 45.0  # seconds for Locust (and its workers) to start and connect
_TERM_GRACE = 10.0


@dataclass(frozen=True, slots=True)
class LocustRun:
    """How the Locust processes ended."""

    exit_code: int  # the master's (or the local process's)
    timed_out: bool
    seconds: float
    worker_exit_codes: tuple[int, ...]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _base_command(plan: Plan) -> list[str]:
    return [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(data_dir("load") / "locustfile.py"),
        "--headless",
        "--loglevel=INFO",
        USER_CLASSES[plan.user],
    ]


def _spawn(
    command: list[str], env: Mapping[str, str], out: Path
) -> subprocess.Popen[bytes]:
    with out.open("wb") as log:
        return subprocess.Popen(
            command,
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def _stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass


def _wait(proc: subprocess.Popen[bytes], timeout: float) -> bool:
    try:
        proc.wait(timeout=max(timeout, 0.0))
        return True
    except subprocess.TimeoutExpired:
        return False


def _end(proc: subprocess.Popen[bytes], patience: float) -> None:
    """Let ``proc`` finish within ``patience`` s, then SIGTERM (Locust still writes its
    reports), then SIGKILL."""
    if _wait(proc, patience):
        return
    _stop(proc)
    if not _wait(proc, _TERM_GRACE):
        _stop(proc, signal.SIGKILL)
        proc.wait()


def run_locust(
    plan: Plan, keys: Mapping[str, str], run_dir: Path, workers: int = 0
) -> LocustRun:
    """Run the plan; Locust's CSV and HTML land in ``run_dir``. Blocks until done."""
    env = dict(os.environ)
    env["QBTSUITE_LOAD_PLAN"] = plan.to_json()
    env["QBTSUITE_LOAD_KEYS"] = json.dumps({r: keys[r] for r in plan.keys})
    env.pop("PYTEST_CURRENT_TEST", None)
    master = [
        *_base_command(plan),
        "--csv",
        str(run_dir / "locust"),
        "--html",
        str(run_dir / "locust.html"),
        "--logfile",
        str(run_dir / "locust.log"),
        "--stop-timeout",
        str(max(1, int(plan.timeout))),
    ]
    worker_procs: list[subprocess.Popen[bytes]] = []
    if workers:
        port = _free_port()
        master += [
            "--master",
            "--master-bind-host=127.0.0.1",
            f"--master-bind-port={port}",
            f"--expect-workers={workers}",
            f"--expect-workers-max-wait={int(_STARTUP_GRACE)}",
        ]
    started = time.monotonic()
    main = _spawn(master, env, run_dir / "locust-master.out")
    try:
        for i in range(workers):
            command = [
                *_base_command(plan),
                "--worker",
                "--master-host=127.0.0.1",
                f"--master-port={port}",
            ]
            out = run_dir / f"locust-worker-{i}.out"
            worker_procs.append(_spawn(command, env, out))
        deadline = plan.duration + plan.drain + _STARTUP_GRACE
        timed_out = not _wait(main, deadline)
    finally:  # whatever happens here (even ^C), no child outlives the run
        _end(main, 0.0)  # still running here only after a timeout or an interrupt
        for proc in worker_procs:
            _end(proc, _TERM_GRACE)  # workers quit when the master does
    codes = tuple(proc.returncode for proc in worker_procs)
    return LocustRun(
        exit_code=main.returncode,
        timed_out=timed_out,
        seconds=time.monotonic() - started,
        worker_exit_codes=codes,
    )
