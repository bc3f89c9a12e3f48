"""The processes one command started, read from /proc (proc(5)), and their memory.

A process belongs to the command's tree if it descends from the root by parent id, or
if its environment carries the marker variable the root was started with — which
finds children that were reparented to PID 1 once their parent died. Every member is
remembered by pid *and* start time, so a recycled pid is never mistaken for it.
Only processes of this user that started no earlier than the root are examined.
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Member", "ProcessTree", "available_memory", "read_stat"]

_PROC = Path("/proc")
_PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True, slots=True)
class Stat:
    """The fields of /proc/PID/stat this module needs."""

    pid: int
    state: str
    ppid: int
    start: int  # clock ticks after boot (field 22)


@dataclass(frozen=True, slots=True)
class Member:
    """One process of the tree: identity and what it ran."""

    pid: int
    start: int
    command: str


def read_stat(pid: int) -> Stat | None:
    """/proc/PID/stat, or None if the process is gone."""
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name (field 2) is in parentheses and may hold spaces or ')'.
    rest = text[text.rindex(")") + 2 :].split()
    return Stat(pid, rest[0], int(rest[1]), int(rest[19]))


def _rss(pid: int) -> int:
    try:
        fields = (_PROC / str(pid) / "statm").read_text().split()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return 0
    return int(fields[1]) * _PAGE


def _command(pid: int) -> str:
    try:
        raw = (_PROC / str(pid) / "cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return "?"
    return raw.replace(b"\0", b" ").decode("utf-8", "replace").strip()[:200] or "?"


def _has_marker(pid: int, marker: bytes) -> bool:
    try:
        return marker in (_PROC / str(pid) / "environ").read_bytes().split(b"\0")
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return False


def available_memory() -> int:
    """MemAvailable of /proc/meminfo, bytes."""
    for line in (_PROC / "meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return 0


def _own_pids(uid: int) -> list[int]:
    pids = []
    for entry in os.scandir(_PROC):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    pids.append(int(entry.name))
            except FileNotFoundError:
                continue
    return pids


class ProcessTree:
    """Everything one root process started, as seen by repeated :meth:`scan` calls."""

    def __init__(self, root: int, marker: str) -> None:
        stat = read_stat(root)
        self.root = root
        self._since = stat.start if stat else 0
        self._marker = marker.encode()
        self._uid = os.getuid()
        self.seen: dict[tuple[int, int], Member] = {}

    def scan(self) -> int:
        """Find the tree's live members now; their summed resident memory, bytes."""
        stats: dict[int, Stat] = {}
        for pid in _own_pids(self._uid):
            stat = read_stat(pid)
            if stat is not None and stat.start >= self._since and stat.state != "Z":
                stats[pid] = stat
        members = {
            pid
            for pid, stat in stats.items()
            if pid == self.root
            or (pid, stat.start) in self.seen
            or _has_marker(pid, self._marker)
        }
        grew = True
        while grew:  # add descendants by parent id until nothing changes
            more = {
                p for p, s in stats.items() if s.ppid in members and p not in members
            }
            members |= more
            grew = bool(more)
        total = 0
        for pid in members:
            key = (pid, stats[pid].start)
            if key not in self.seen:
                self.seen[key] = Member(pid, stats[pid].start, _command(pid))
            total += _rss(pid)
        return total

    def alive(self) -> list[Member]:
        """Members seen so far that still run (same pid and start time, not zombies)."""
        living = []
        for (pid, start), member in self.seen.items():
            stat = read_stat(pid)
            if stat is not None and stat.start == start and stat.state != "Z":
                living.append(member)
        return living

    def signal_all(self, signum: signal.Signals) -> None:
        """Send ``signum`` to every live member."""
        for member in self.alive():
            try:
                os.kill(member.pid, signum)
            except (ProcessLookupError, PermissionError):
                continue
