"""Run Locust in child processes: one local process, or a master and N workers.

Headless by default. With a :class:`WebUI` the master (or the local process) serves
Locust's web UI on 127.0.0.1 only and starts the test at once (``--autostart``); the
profile's shape still ends the test, and ``--autoquit`` closes the UI a few seconds
later, so the run ends by itself either way.

Locust monkey-patches the standard library for gevent as soon as it is imported, so
it never runs inside this process (nor inside a pytest run): it runs as
``python -m locust`` children. The plan travels in ``QBTSUITE_LOAD_PLAN`` and the keys
in ``QBTSUITE_LOAD_KEYS`` (environment, never the command line, which ``ps`` shows).
Every child is bounded in time: past the deadline the master gets SIGTERM (Locust then
still writes its reports), and anything left gets SIGKILL.

Each Locust process runs in a process group of its own (:func:`qbtsuite.process.shutdown.spawn`).
When the command gets SIGTERM or SIGINT, every one of them is stopped at once (SIGKILL
after a short grace period) and the run returns with ``interrupted_by`` set: the
samples written so far (every process flushes them four times a second) are reported.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from qbtsuite.loadtest.abort import Abort
from qbtsuite.loadtest.plan import USER_CLASSES, Plan
from qbtsuite.process import shutdown
from qbtsuite.resources import data_dir

__all__ = ["WEB_LINGER", "LocustRun", "WebUI", "locust_command", "run_locust"]

_STARTUP_GRACE = 45.0  # seconds for Locust (and its workers) to start and connect
_TERM_GRACE = 10.0
_WATCH_EVERY = 0.5  # seconds between two looks at the samples (--slo-abort)
WEB_LINGER = 3  # seconds the web UI stays up once the test is over (--autoquit)


@dataclass(frozen=True, slots=True)
class WebUI:
    """Locust's web UI: always on loopback, never on every interface."""

    host: ClassVar[str] = "127.0.0.1"
    port: int = 0  # 0: the run picks a free one before starting Locust

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class LocustRun:
    """How the Locust processes ended."""

    exit_code: int  # the master's (or the local process's)
    timed_out: bool
    seconds: float
    worker_exit_codes: tuple[int, ...]
    web_url: str | None = None  # where the web UI was served (None: headless)
    aborted: Abort | None = None  # --slo-abort: the SLO that ended the run early
    interrupted_by: int | None = None  # the signal (SIGTERM, SIGINT) that ended it
    interrupted_at: float | None = None  # when, epoch seconds


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _base_command(plan: Plan, mode: list[str]) -> list[str]:
    return [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(data_dir("load") / "locustfile.py"),
        *mode,
        "--loglevel=INFO",
        USER_CLASSES[plan.user],
    ]


def _ui_options(web: WebUI | None) -> list[str]:
    """Headless, or the web UI bound to loopback with the test started at once."""
    if web is None:
        return ["--headless"]
    return [
        "--autostart",
        f"--autoquit={WEB_LINGER}",
        f"--web-host={web.host}",
        f"--web-port={web.port}",
    ]


def locust_command(
    plan: Plan, run_dir: Path, web: WebUI | None = None, master_port: int | None = None
) -> list[str]:
    """The master's (or the single process's) command line."""
    command = [
        *_base_command(plan, _ui_options(web)),
        "--csv",
        str(run_dir / "locust"),
        "--html",
        str(run_dir / "locust.html"),
        "--logfile",
        str(run_dir / "locust.log"),
        "--stop-timeout",
        str(max(1, int(plan.timeout))),
    ]
    if master_port is not None:
        command += [
            "--master",
            "--master-bind-host=127.0.0.1",
            f"--master-bind-port={master_port}",
        ]
    return command


def _spawn(
    command: list[str], env: Mapping[str, str], out: Path
) -> subprocess.Popen[bytes]:
    with out.open("wb") as log:
        return shutdown.spawn(command, env=env, stdout=log, stderr=subprocess.STDOUT)


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
        shutdown.stop(proc)  # ended by itself: only forgotten
    else:
        shutdown.stop(proc, grace=_TERM_GRACE)


def run_locust(
    plan: Plan,
    keys: Mapping[str, str],
    run_dir: Path,
    workers: int = 0,
    web: WebUI | None = None,
    watch: Callable[[], Abort | None] | None = None,
) -> LocustRun:
    """Run the plan; Locust's CSV and HTML land in ``run_dir``. Blocks until done.

    ``watch`` is asked every half second while the test runs; when it names an
    SLO, the test is ended early through the plan's stop file (the load shape
    sees it, so Locust stops as it does at the end of a profile).
    """
    env = dict(os.environ)
    env["QBTSUITE_LOAD_PLAN"] = plan.to_json()
    env["QBTSUITE_LOAD_KEYS"] = json.dumps({r: keys[r] for r in plan.keys})
    env.pop("PYTEST_CURRENT_TEST", None)
    port = _free_port() if workers else None
    master = locust_command(plan, run_dir, web, port)
    if workers:
        master += [
            f"--expect-workers={workers}",
            f"--expect-workers-max-wait={int(_STARTUP_GRACE)}",
        ]
    worker_procs: list[subprocess.Popen[bytes]] = []
    linger = WEB_LINGER if web is not None else 0
    started = time.monotonic()
    main = _spawn(master, env, run_dir / "locust-master.out")
    aborted: Abort | None = None
    interrupted: int | None = None
    interrupted_at: float | None = None
    timed_out = False
    try:
        for i in range(workers):
            command = [
                *_base_command(plan, ["--headless"]),
                "--worker",
                "--master-host=127.0.0.1",
                f"--master-port={port}",
            ]
            out = run_dir / f"locust-worker-{i}.out"
            worker_procs.append(_spawn(command, env, out))
        deadline = started + plan.duration + plan.drain + _STARTUP_GRACE + linger
        while not _wait(main, min(deadline - time.monotonic(), _WATCH_EVERY)):
            if time.monotonic() >= deadline:
                timed_out = aborted is None
                break
            if watch is not None and aborted is None:
                aborted = watch()
                if aborted is not None and plan.stop_path:
                    Path(plan.stop_path).touch()
                    # users get the request timeout to finish what is in flight
                    end = time.monotonic() + plan.timeout + _TERM_GRACE + linger
                    deadline = min(deadline, end)
    except KeyboardInterrupt as exc:  # SIGTERM/SIGINT: report the samples so far
        interrupted = (
            exc.signum if isinstance(exc, shutdown.Interrupted) else signal.SIGINT
        )
        interrupted_at = time.time()
    finally:  # whatever happens here, no child outlives the run
        if interrupted is not None or shutdown.received() is not None:
            shutdown.stop(main, *worker_procs)  # all at once, briefly
        _end(main, 0.0)  # still running here only after a timeout
        for proc in worker_procs:
            _end(proc, _TERM_GRACE)  # workers quit when the master does
    codes = tuple(proc.returncode for proc in worker_procs)
    return LocustRun(
        exit_code=main.returncode,
        timed_out=timed_out,
        seconds=time.monotonic() - started,
        worker_exit_codes=codes,
        web_url=None if web is None else web.url,
        aborted=aborted,
        interrupted_by=interrupted,
        interrupted_at=interrupted_at,
    )
