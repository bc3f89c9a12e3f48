"""Files the processes of one run share (the controller and its xdist workers): the
lock beside each, so every shared counter locks the same way."""

from __future__ import annotations

from pathlib import Path

from filelock import FileLock

__all__ = ["lock_beside"]


def lock_beside(path: Path, timeout: float = 30) -> FileLock:
    """The lock of the shared file ``path`` (``path.lock``); its folder is made."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(str(path) + ".lock", timeout=timeout)
