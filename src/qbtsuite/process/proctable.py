"""This machine's processes as ``/proc`` shows them (proc(5)): parent and process group.

Used to find what a process started when its own bookkeeping cannot say: pytest-xdist's
workers (started by execnet, in the caller's process group) and the children of a child
that must be killed whole. Where there is no ``/proc``, nothing is found.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ProcessEntry", "descendants", "is_alive", "processes"]

_PROC = Path("/proc")


@dataclass(frozen=True, slots=True)
class ProcessEntry:
    """One live process: its id, its parent's and its process group's."""

    pid: int
    ppid: int
    pgid: int


def _entry(pid: int) -> ProcessEntry | None:
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # Field 2, the command name, is in parentheses and may hold spaces or ')'.
    fields = text[text.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X"):  # a zombie has exited; only its parent can reap it
        return None
    return ProcessEntry(pid, int(fields[1]), int(fields[2]))


def processes() -> list[ProcessEntry]:
    """Every live process this user can see."""
    try:
        names = os.listdir(_PROC)
    except OSError:
        return []
    found = (_entry(int(name)) for name in names if name.isdigit())
    return [entry for entry in found if entry is not None]


def descendants(root: int) -> list[ProcessEntry]:
    """The live processes that descend from ``root`` by parent id (not ``root``)."""
    table = processes()
    children: dict[int, list[ProcessEntry]] = {}
    for entry in table:
        children.setdefault(entry.ppid, []).append(entry)
    found: list[ProcessEntry] = []
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child.pid != root and child not in found:
                found.append(child)
                todo.append(child.pid)
    return found


def is_alive(pid: int) -> bool:
    """``pid`` runs and has not exited (a zombie counts as gone)."""
    return _entry(pid) is not None
