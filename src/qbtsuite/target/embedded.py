"""Start the reference server in a child process and learn how to reach it.

Used by ``qbtsuite run`` when no base URL is given, by the load command, and by the
project's own tests. The child writes ``server.json`` once both listeners are up.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from qbtsuite.errors import ServerStartError

__all__ = ["EmbeddedServer", "ServerTarget"]


@dataclass(frozen=True, slots=True)
class ServerTarget:
    """A running server as a client sees it (from ``server.json``)."""

    https_url: str
    http_url: str
    ca: str
    keys: dict[str, str]
    faults: list[str]
    rate_window: float
    upload_cap: int
    latency: dict[str, float]

    @classmethod
    def from_file(cls, path: Path) -> ServerTarget:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        data.pop("pid", None)
        return cls(**data)


class EmbeddedServer:
    """Context manager: a reference server child process, stopped on exit."""

    def __init__(
        self,
        *,
        faults: Sequence[str] = (),
        args: Sequence[str] = (),
        state_dir: Path | None = None,
        start_timeout: float = 60.0,
    ) -> None:
        self._faults = list(faults)
        self._args = list(args)
        self._state_dir = state_dir
        self._timeout = start_timeout
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ServerTarget:
        """Start the child and wait until it serves."""
        if self._state_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="qbtsuite-server-")
            self._state_dir = Path(self._tmp.name)
        self._state_dir.mkdir(parents=True, exist_ok=True)
        info = self._state_dir / "server.json"
        info.unlink(missing_ok=True)
        command = [
            sys.executable,
            "-m",
            "qbtsuite",
            "serve",
            "--quiet",
            "--state-dir",
            str(self._state_dir),
            *self._args,
        ]
        for name in self._faults:
            command += ["--fault", name]
        log = (self._state_dir / "server.log").open("wb")
        with log:  # the child holds its own descriptor
            self._proc = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + self._timeout
        while not info.exists():
            if self._proc.poll() is not None:
                raise ServerStartError(self._failure("exited", log.name))
            if time.monotonic() > deadline:
                self.stop()
                raise ServerStartError(self._failure("did not start in time", log.name))
            time.sleep(0.02)
        return ServerTarget.from_file(info)

    def _failure(self, what: str, log_path: str) -> str:
        tail = Path(log_path).read_text(errors="replace").strip().splitlines()[-5:]
        return f"reference server {what}: " + (" | ".join(tail) or "no output")

    def stop(self) -> None:
        """Stop the child (SIGTERM, then SIGKILL after 5 s) and remove temp files."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> ServerTarget:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
