"""Start the reference server in a child process and learn how to reach it.

Used by ``qbtsuite run`` when no base URL is given, by the load command, and by the
project's own tests. The child writes ``server.json`` once both listeners are up.

The child runs in a process group of its own (:func:`qbtsuite.process.shutdown.spawn`), so a
signal to the command reaches it only through :meth:`EmbeddedServer.stop`. Without a
``state_dir`` its files (TLS key, CA, keys, ``server.json``, and its own temp files:
``TMPDIR`` points inside) live in a private temp folder that goes with it, also when
the command is interrupted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from qbtsuite.errors import ServerStartError
from qbtsuite.process import shutdown

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
        self._tmp: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._info = self._log = Path()
        self._deadline = 0.0

    def start(self) -> ServerTarget:
        """Start the child (unless :meth:`launch` did) and wait until it serves
        (stopped again if that fails)."""
        try:
            self._launch()
            return self._wait()
        except BaseException:  # an interrupt while it starts leaves nothing behind
            self.stop()
            raise

    def launch(self) -> None:
        """Start the child without waiting for it: it boots (imports, TLS files)
        while the caller does other work; :meth:`start` then waits for it."""
        try:
            self._launch()
        except BaseException:
            self.stop()
            raise

    def _launch(self) -> None:
        if self._proc is not None:
            return
        env = dict(os.environ)
        state_dir = self._state_dir
        if state_dir is None:
            state_dir = self._tmp = shutdown.temp_dir("qbtsuite-server-")
            (state_dir / "tmp").mkdir()
            env["TMPDIR"] = str(state_dir / "tmp")  # the server's own temp files too
        state_dir.mkdir(parents=True, exist_ok=True)
        info = state_dir / "server.json"
        info.unlink(missing_ok=True)
        command = [
            sys.executable,
            "-m",
            "qbtsuite",
            "serve",
            "--quiet",
            "--state-dir",
            str(state_dir),
            *self._args,
        ]
        for name in self._faults:
            command += ["--fault", name]
        self._info = info
        self._log = state_dir / "server.log"
        with self._log.open("wb") as log:  # the child holds its own descriptor
            self._proc = shutdown.spawn(
                command, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        self._deadline = time.monotonic() + self._timeout

    def _wait(self) -> ServerTarget:
        proc, info, log = self._proc, self._info, str(self._log)
        assert proc is not None
        while not info.exists():
            if proc.poll() is not None:
                raise ServerStartError(self._failure("exited", log))
            if time.monotonic() > self._deadline:
                raise ServerStartError(self._failure("did not start in time", log))
            time.sleep(0.02)
        return ServerTarget.from_file(info)

    def _failure(self, what: str, log_path: str) -> str:
        tail = Path(log_path).read_text(errors="replace").strip().splitlines()[-5:]
        return f"reference server {what}: " + (" | ".join(tail) or "no output")

    def stop(self) -> None:
        """Stop the child (SIGTERM to its group, SIGKILL after the grace period) and
        remove its temp folder."""
        proc, self._proc = self._proc, None
        if proc is not None:
            shutdown.stop(proc)
        tmp, self._tmp = self._tmp, None
        if tmp is not None:
            shutdown.remove_dir(tmp)

    def __enter__(self) -> ServerTarget:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
