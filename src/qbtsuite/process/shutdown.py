"""Stopping a command on SIGTERM or SIGINT: children gone, temp folders removed, exit 143/130.

:func:`handling_signals` (the command line runs ``run``, ``load``, ``serve`` and
``selftest`` inside it; the pytest plugin, a pytest-xdist worker included, enters it
too) turns the first SIGTERM or SIGINT into :class:`Interrupted`. It is a
``KeyboardInterrupt``, raised in the main thread, so it unwinds through every ``finally``
and context manager exactly as Ctrl-C does: pytest still finishes its session and
writes its reports, an embedded server's ``with`` block stops it, the load run stops
Locust and reports the samples so far. The command then exits 143 (SIGTERM, 128 + 15)
or 130 (SIGINT). A second signal while that cleanup runs means "now": every child is
killed, the temp folders are removed and the process exits at once. ``atexit`` would not
do: SIGTERM's default action ends a process without running it.

Children are started with :func:`spawn`, each in a process group of its own: a
terminal's Ctrl-C then reaches only us (we decide how a child stops), and the group is
killed whole, even once a child's own children were reparented to PID 1. The first
signal is passed on at once, as SIGTERM, to every registered child group and to the
children that share our process group (pytest-xdist's workers, which execnet starts),
so they stop while we clean up. :func:`stop` ends children: SIGTERM to each group,
SIGKILL after a grace period (shorter once interrupted, so that the whole stop stays
within 5 s). Folders made by :func:`temp_dir` are registered too. When a
:func:`handling_signals` block ends, whatever it registered and is still there is
stopped or removed.

Work that must not be cut in half (a line of records, a report) runs inside
:func:`deferred`: a signal that arrives there is raised when the block ends.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any, NoReturn

from qbtsuite.exitcodes import ExitCode
from qbtsuite.process.proctable import descendants, is_alive

__all__ = [
    "HANDLED_SIGNALS",
    "INTERRUPT_GRACE",
    "STOP_GRACE",
    "Interrupted",
    "deferred",
    "exit_code_for",
    "exit_now",
    "handling_signals",
    "received",
    "remove_dir",
    "signal_group_children",
    "spawn",
    "stop",
    "temp_dir",
]

HANDLED_SIGNALS = (signal.SIGTERM, signal.SIGINT)
STOP_GRACE = 5.0  # seconds between SIGTERM and SIGKILL when a child is stopped in a run
INTERRUPT_GRACE = 1.5  # the same once interrupted: the whole stop must fit in 5 s

_Stream = int | IO[bytes] | None
_Handler = Callable[[int, FrameType | None], Any] | int | None


def exit_code_for(signum: int) -> ExitCode:
    """143 for SIGTERM, 130 for SIGINT (and any other signal we are stopped by)."""
    return ExitCode.TERMINATED if signum == signal.SIGTERM else ExitCode.INTERRUPTED


class Interrupted(KeyboardInterrupt):
    """The command got SIGTERM or SIGINT; it unwinds as for Ctrl-C."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(self.signal_name)

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> ExitCode:
        return exit_code_for(self.signum)


@dataclass(slots=True)
class _Child:
    process: subprocess.Popen[bytes]
    grace: float | None  # None: STOP_GRACE, or INTERRUPT_GRACE once interrupted
    told: bool = False  # has had its SIGTERM: a second one would mean "at once"


@dataclass(slots=True)
class _State:
    """Process-wide: signals are delivered to the process, not to a block."""

    depth: int = 0  # nested handling_signals blocks
    kill_on_second: bool = True
    received: int | None = None  # the first signal of the outermost block
    deferring: int = 0  # nested deferred() blocks of the main thread
    pending: bool = False  # a signal arrived inside deferred(): raise at its end
    previous: dict[int, _Handler] = field(default_factory=dict)
    tokens: int = 0  # registration order: a block owns what came after its start
    children: dict[int, _Child] = field(default_factory=dict)
    folders: dict[int, Path] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


_STATE = _State()


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _on_signal(signum: int, frame: FrameType | None) -> None:
    state = _STATE
    if state.received is not None:
        if state.kill_on_second:
            _stop_at_once(state.received)
        return  # a pytest-xdist worker: the controller decides when it goes
    state.received = signum
    _tell_children()
    if state.deferring:
        state.pending = True
        return
    raise Interrupted(signum)


def _tell_children() -> None:
    """SIGTERM to every child at once, so they stop while we clean up (:func:`stop`
    waits for them later). Our own children take SIGTERM and SIGINT alike, and
    SIGTERM is what every other child (Locust) stops gracefully on."""
    state = _STATE
    for child in list(state.children.values()):
        if child.process.returncode is None and not child.told:
            child.told = True
            _signal_group(child.process.pid, signal.SIGTERM)
    if state.kill_on_second:  # not in a pytest-xdist worker: it has no workers
        signal_group_children(signal.SIGTERM)


def received() -> Interrupted | None:
    """The signal that interrupted this command, if one did."""
    signum = _STATE.received
    return None if signum is None else Interrupted(signum)


@contextlib.contextmanager
def handling_signals(*, kill_on_second: bool = True) -> Iterator[None]:
    """Inside: SIGTERM/SIGINT raise :class:`Interrupted`; at the end, what the block
    started and left is stopped, what it made is removed. ``kill_on_second=False``
    (pytest-xdist workers) ignores further signals instead of exiting at once."""
    state = _STATE
    main = _main_thread()  # signals reach the main thread only: elsewhere, a scope
    outermost = main and state.depth == 0
    mark = state.tokens
    if outermost:
        state.received = None
        state.pending = False
        state.kill_on_second = kill_on_second
        state.previous = {
            sig: signal.signal(sig, _on_signal) for sig in HANDLED_SIGNALS
        }
    state.depth += main
    try:
        yield
    finally:
        state.depth -= main
        try:
            with deferred():
                _release(mark, outermost)
        finally:
            if outermost:
                for sig, handler in state.previous.items():
                    signal.signal(sig, handler)
                state.previous = {}


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold a signal until the block ends (main thread; elsewhere nothing to hold)."""
    state = _STATE
    if not _main_thread():
        yield
        return
    state.deferring += 1
    try:
        yield
    finally:
        state.deferring -= 1
        if not state.deferring and state.pending and state.received is not None:
            state.pending = False
            raise Interrupted(state.received)


def _register_child(child: _Child) -> None:
    state = _STATE
    state.tokens += 1
    state.children[state.tokens] = child


def spawn(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    stdin: _Stream = subprocess.DEVNULL,
    stdout: _Stream = None,
    stderr: _Stream = None,
    grace: float | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``argv`` in a process group of its own, registered to be stopped.

    ``grace`` is how long it gets between SIGTERM and SIGKILL when it is stopped
    (default :data:`STOP_GRACE`, :data:`INTERRUPT_GRACE` once interrupted); a child
    that stops children of its own needs more.
    """
    state = _STATE
    with deferred(), state.lock:
        if state.received is not None:  # never start anything while stopping
            raise Interrupted(state.received)
        process = subprocess.Popen(
            list(argv),
            env=None if env is None else dict(env),
            cwd=cwd,
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
        _register_child(_Child(process, grace))
    return process


def _forget(process: subprocess.Popen[bytes]) -> None:
    children = _STATE.children
    for token, child in list(children.items()):
        if child.process is process:
            children.pop(token, None)


def _registered(process: subprocess.Popen[bytes]) -> _Child | None:
    for child in list(_STATE.children.values()):
        if child.process is process:
            return child
    return None


def _grace_of(process: subprocess.Popen[bytes], grace: float | None) -> float:
    child = _registered(process)
    if grace is None and child is not None:
        grace = child.grace
    if grace is None:
        grace = STOP_GRACE if _STATE.received is None else INTERRUPT_GRACE
    return grace


def _tell(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process's group, once: our own commands take a second signal
    as "stop at once"."""
    child = _registered(process)
    if child is None or not child.told:
        if child is not None:
            child.told = True
        _signal_group(process.pid, signal.SIGTERM)


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def _kill_tree(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL ``process``, its group, and everything below it (found before killing:
    once the parent is gone, its children's parent id no longer leads to it)."""
    below = descendants(process.pid)
    _signal_group(process.pid, signal.SIGKILL)
    for entry in below:
        _signal_group(entry.pgid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(entry.pid, signal.SIGKILL)


def stop(*processes: subprocess.Popen[bytes], grace: float | None = None) -> None:
    """End ``processes`` together: SIGTERM to each group, then SIGKILL to whatever is
    left after the grace period (the one given, else each child's own)."""
    running = [p for p in processes if p.poll() is None]
    for process in running:
        _tell(process)
    started = time.monotonic()
    for process in running:
        left = _grace_of(process, grace) - (time.monotonic() - started)
        try:
            process.wait(max(left, 0.0))
        except subprocess.TimeoutExpired:
            _kill_tree(process)
            process.wait()
        # What the leader left in its group (e.g. workers of a pytest run) goes too.
        _signal_group(process.pid, signal.SIGKILL)
    for process in processes:
        _forget(process)


def temp_dir(prefix: str) -> Path:
    """A fresh private folder under the temp dir, removed when the block ends (or at
    once on a second signal) unless :func:`remove_dir` removed it before."""
    state = _STATE
    with deferred(), state.lock:
        path = Path(tempfile.mkdtemp(prefix=prefix))
        state.tokens += 1
        state.folders[state.tokens] = path
    return path


def remove_dir(path: Path) -> None:
    """Remove a folder of :func:`temp_dir` and everything in it."""
    shutil.rmtree(path, ignore_errors=True)
    folders = _STATE.folders
    for token, folder in list(folders.items()):
        if folder == path:
            folders.pop(token, None)


def signal_group_children(signum: int) -> list[int]:
    """Send ``signum`` to our children that share our process group — those started
    by code that gave them no group of their own (pytest-xdist's workers); their pids."""
    me, group = os.getpid(), os.getpgid(0)
    pids = [e.pid for e in descendants(me) if e.ppid == me and e.pgid == group]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signum)
    return pids


def _release(mark: int, outermost: bool) -> None:
    """Stop the children and remove the folders registered since ``mark``; the
    outermost block of an interrupted process also its group's children."""
    state = _STATE
    with state.lock:
        children = [c.process for t, c in list(state.children.items()) if t > mark]
        folders = [p for t, p in list(state.folders.items()) if t > mark]
    stragglers = []
    if state.received is not None and outermost:
        stragglers = signal_group_children(signal.SIGTERM)
    stop(*children)
    deadline = time.monotonic() + INTERRUPT_GRACE
    while any(is_alive(pid) for pid in stragglers) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in stragglers:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    for folder in folders:
        remove_dir(folder)


def exit_now(code: int) -> NoReturn:
    """Exit without tearing the interpreter down (which takes seconds with pytest and
    the openai package loaded): the ``atexit`` handlers run, the output is flushed."""
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def _stop_at_once(first: int) -> NoReturn:
    """The second signal: kill every child and everything below us, remove the
    folders, exit. Runs inside the signal handler: no locks, no buffered output."""
    state = _STATE
    os.write(2, b"second signal: stopping at once\n")
    below = descendants(os.getpid())
    for child in list(state.children.values()):
        _signal_group(child.process.pid, signal.SIGKILL)
    group = os.getpgid(0)
    for entry in below:
        if entry.pgid != group:
            _signal_group(entry.pgid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(entry.pid, signal.SIGKILL)
    for folder in list(state.folders.values()):
        shutil.rmtree(folder, ignore_errors=True)
    os._exit(exit_code_for(first))
