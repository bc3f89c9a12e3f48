"""The hostile server as a child process, found through the ``--info`` file it writes.

A separate process keeps the server's own work (a 1 GiB body, a flood) off the
measuring process, and out of the measured tree.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

__all__ = ["ServerChild", "ServerLocation"]

_REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True, slots=True)
class ServerLocation:
    """Where the child listens, from its info file."""

    mode: str
    url: str
    http_url: str
    ca: str | None
    pid: int


class ServerChild:
    """``with ServerChild("trickle", folder) as where: …`` — started, then stopped."""

    def __init__(
        self, mode: str, folder: Path, *, plain: bool = False, scope: str = "endpoints"
    ) -> None:
        self.mode = mode
        self.folder = folder
        self.plain = plain
        self.scope = scope
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> ServerLocation:
        self.folder.mkdir(parents=True, exist_ok=True)
        info = self.folder / "server.json"
        info.unlink(missing_ok=True)
        argv = [sys.executable, "-m", "tests.hostile.server", "--mode", self.mode]
        argv += ["--port", "0", "--info", str(info), "--scope", self.scope]
        if self.plain:
            argv.append("--plain")
        log = (self.folder / "server.log").open("wb")
        self.process = subprocess.Popen(
            argv,
            cwd=_REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while not info.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"hostile server {self.mode!r} did not start; see {self.folder / 'server.log'}"
                )
            time.sleep(0.05)
        data = json.loads(info.read_text(encoding="utf-8"))
        return ServerLocation(
            data["mode"], data["url"], data["http_url"], data["ca"], data["pid"]
        )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(10.0)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10.0)

    def __enter__(self) -> ServerLocation:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()
