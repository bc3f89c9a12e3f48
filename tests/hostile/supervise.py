"""Run one command under hard caps and measure it: exit, wall time, peak memory, leftovers.

The command runs in a session of its own with a marker variable in its environment.
Every 0.2 s the tree's resident memory is summed (:class:`ProcessTree`). Past the wall
cap the root gets SIGTERM — what ``timeout`` and a CI cancel send — and, if it is still
there after the grace period, SIGKILL. Past the memory cap (or when the machine's
available memory runs low) the whole tree gets SIGKILL at once. Once the root has
exited, whatever it started and is still running after ``settle`` seconds is a
leftover: recorded, then killed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.hostile.proctree import Member, ProcessTree, available_memory

__all__ = ["Limits", "Outcome", "supervise"]

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    """The caps of one supervised command."""

    wall: float  # seconds until SIGTERM
    rss: int  # bytes of summed RSS until SIGKILL
    term_grace: float = 10.0  # seconds after SIGTERM until SIGKILL
    settle: float = 5.0  # seconds after the root's exit for its children to go
    sample_every: float = 0.2
    memory_floor: int = (
        3 * 1024 * MIB
    )  # SIGKILL if the machine's MemAvailable drops below


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one supervised command did."""

    exit_code: int  # negative: killed by that signal
    wall: float  # seconds from start to the root's exit
    peak_rss: int  # bytes, the largest summed RSS of the tree seen
    stopped_by: str  # "" if it ended by itself, else why it was stopped
    sigkill_needed: bool  # SIGTERM was not enough
    leftovers: tuple[Member, ...]  # alive `settle` s after the root exited
    processes: int  # how many processes the tree had in all


def _kill_session(root: int, signum: signal.Signals) -> None:
    try:
        os.killpg(root, signum)
    except (ProcessLookupError, PermissionError):
        pass


def supervise(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    stdout: Path,
    stderr: Path,
    limits: Limits,
    marker: str,
    cancel: threading.Event | None = None,
) -> Outcome:
    """Run ``argv`` to its end or its caps (or until ``cancel`` is set); the measurement."""
    name, _, value = marker.partition("=")
    with stdout.open("wb") as out, stderr.open("wb") as err:
        started = time.monotonic()
        process = subprocess.Popen(
            list(argv),
            env={**env, name: value},
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
        tree = ProcessTree(process.pid, marker)
        try:
            return _watch(process, tree, limits, cancel, started)
        except BaseException:
            tree.signal_all(signal.SIGKILL)  # never leave the command behind
            _kill_session(process.pid, signal.SIGKILL)
            raise


def _watch(
    process: subprocess.Popen[bytes],
    tree: ProcessTree,
    limits: Limits,
    cancel: threading.Event | None,
    started: float,
) -> Outcome:
    """Sample until the root exits (stopping it at a cap), then collect leftovers."""
    peak = 0
    stopped_by = ""
    term_at: float | None = None
    sigkill = False
    while process.poll() is None:
        peak = max(peak, tree.scan())
        now = time.monotonic()
        if not stopped_by and peak > limits.rss:
            stopped_by = f"killed at {limits.rss // MIB} MiB RSS"
        elif not stopped_by and available_memory() < limits.memory_floor:
            stopped_by = "killed: machine low on memory"
        elif not stopped_by and cancel is not None and cancel.is_set():
            stopped_by = "killed: measurement cancelled"
        if stopped_by.startswith("killed"):
            tree.signal_all(signal.SIGKILL)
            _kill_session(process.pid, signal.SIGKILL)
        elif term_at is None and now - started > limits.wall:
            stopped_by = f"SIGTERM at {limits.wall:g} s"
            term_at = now
            process.send_signal(signal.SIGTERM)
        elif term_at is not None and not sigkill and now - term_at > limits.term_grace:
            sigkill = True
            process.kill()
        time.sleep(limits.sample_every)
    wall = time.monotonic() - started
    deadline = time.monotonic() + limits.settle
    while time.monotonic() < deadline:
        tree.scan()
        if not tree.alive():
            break
        time.sleep(limits.sample_every)
    leftovers = tuple(tree.alive())
    tree.signal_all(signal.SIGKILL)
    _kill_session(process.pid, signal.SIGKILL)
    return Outcome(
        exit_code=int(process.returncode),
        wall=wall,
        peak_rss=peak,
        stopped_by=stopped_by,
        sigkill_needed=sigkill,
        leftovers=leftovers,
        processes=len(tree.seen),
    )
