"""Start a command, wait until it is under way, signal it, and measure how it stopped.

The command runs in a session of its own with a private ``TMPDIR`` and a marker
variable in its environment (:class:`tests.hostile.proctree.ProcessTree` finds every
process carrying it, also those reparented to PID 1 once their parent died). What is
measured: the exit code, how long after the signal every other process of the tree was
gone and the command itself had exited, what was still alive when it exited, what it
left in its ``TMPDIR``, and the state folders its embedded servers were given.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from tests.hostile.proctree import Member, ProcessTree

__all__ = ["Command", "Stopped", "jsonl_lines"]

REPO = Path(__file__).resolve().parents[2]
HANG = 60.0  # seconds after the signal: past this the command is killed and failed


@dataclass(frozen=True, slots=True)
class Stopped:
    """How the command ended after the signal."""

    exit_code: int
    children_gone_after: (
        float  # seconds from the signal until only the command was left
    )
    exited_after: float  # seconds from the signal until the command had exited
    left_alive: tuple[Member, ...]  # processes of the tree alive once it had exited
    left_in_tmp: tuple[str, ...]  # entries of its private TMPDIR
    state_dirs: tuple[Path, ...]  # every temporary --state-dir of a server it started
    stdout: str
    stderr: str

    def describe(self) -> str:
        return (
            f"exit {self.exit_code}; children gone after {self.children_gone_after:.2f} s, "
            f"exited after {self.exited_after:.2f} s; left alive: "
            f"{[m.command for m in self.left_alive]}; left in TMPDIR: {self.left_in_tmp}"
        )


def jsonl_lines(folder: Path, pattern: str) -> int:
    """Complete lines of every file matching ``pattern`` under ``folder``."""
    total = 0
    for path in folder.glob(pattern):
        try:
            total += path.read_bytes().count(b"\n")
        except OSError:
            continue
    return total


def _state_dir(command: str) -> Path | None:
    words = command.split()
    if "serve" in words and "--state-dir" in words:
        return Path(words[words.index("--state-dir") + 1])
    return None


class Command:
    """``with Command(["run", ...], tmp_path) as cmd: cmd.wait_until(...); cmd.stop(...)``."""

    def __init__(self, args: Sequence[str], folder: Path) -> None:
        self.args = [sys.executable, "-m", "qbtsuite", *args]
        self.folder = folder
        self.tmp = folder / "tmp"
        self.marker = f"QBT_SIGNAL_TEST={uuid.uuid4().hex}"
        self.process: subprocess.Popen[bytes] | None = None
        self.tree: ProcessTree | None = None

    def start(self) -> Command:
        self.tmp.mkdir(parents=True, exist_ok=True)
        name, _, value = self.marker.partition("=")
        env = {**os.environ, "TMPDIR": str(self.tmp), name: value}
        env.pop("PYTEST_XDIST_WORKER", None)
        with (
            (self.folder / "stdout").open("wb") as out,
            (self.folder / "stderr").open("wb") as err,
        ):
            self.process = subprocess.Popen(
                self.args,
                cwd=self.folder,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        self.tree = ProcessTree(self.process.pid, self.marker)
        return self

    def _running(self) -> tuple[subprocess.Popen[bytes], ProcessTree]:
        assert self.process is not None and self.tree is not None, "not started"
        return self.process, self.tree

    def output(self) -> str:
        return (self.folder / "stdout").read_text(errors="replace") + (
            self.folder / "stderr"
        ).read_text(errors="replace")

    def wait_until(
        self, ready: Callable[[], bool], what: str, timeout: float = 240.0
    ) -> None:
        """Until ``ready()`` (the command is under way); fails if it ends first."""
        process, tree = self._running()
        deadline = time.monotonic() + timeout
        while not ready():
            tree.scan()
            if process.poll() is not None:
                raise AssertionError(
                    f"Received: the command ended (exit {process.returncode}) before "
                    f"{what}\nExpected: still running\n{self.output()[-2000:]}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"Received: no {what} within {timeout:.0f} s")
            time.sleep(0.1)
        tree.scan()

    def signal(self, signum: int) -> None:
        process, _ = self._running()
        process.send_signal(signum)

    def stop(self, signum: int, *, then: int | None = None) -> Stopped:
        """Send ``signum`` (and ``then`` once every child is gone); measure the stop."""
        process, tree = self._running()
        tree.scan()
        dirs = {_state_dir(m.command) for m in tree.seen.values()}
        sent = time.monotonic()
        process.send_signal(signum)
        children_gone: float | None = None
        while process.poll() is None:
            tree.scan()
            others = [m for m in tree.alive() if m.pid != process.pid]
            if not others and children_gone is None:
                children_gone = time.monotonic() - sent
                if then is not None:
                    process.send_signal(then)
            if time.monotonic() - sent > HANG:
                self.kill()
                raise AssertionError(
                    f"Received: still running {HANG:.0f} s after {signal.Signals(signum).name}"
                    "\nExpected: stopped within 5 s"
                )
            time.sleep(0.02)
        exited = time.monotonic() - sent
        tree.scan()
        left = tuple(m for m in tree.alive() if m.pid != process.pid)
        tree.signal_all(signal.SIGKILL)  # measured: now nothing may stay
        dirs |= {_state_dir(m.command) for m in tree.seen.values()}
        return Stopped(
            exit_code=int(process.returncode),
            children_gone_after=exited if children_gone is None else children_gone,
            exited_after=exited,
            left_alive=left,
            left_in_tmp=tuple(sorted(os.listdir(self.tmp))),
            state_dirs=tuple(
                sorted(d for d in dirs if d is not None and d.is_relative_to(self.tmp))
            ),
            stdout=(self.folder / "stdout").read_text(errors="replace"),
            stderr=(self.folder / "stderr").read_text(errors="replace"),
        )

    def kill(self) -> None:
        if self.tree is not None:
            self.tree.scan()
            self.tree.signal_all(signal.SIGKILL)
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> Command:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.kill()
