"""The folder of one ``qbtsuite run``: claimed once the run is sure to start.

- a folder that already holds a run is refused (exit 2) unless ``--overwrite``,
  which clears that run's files first (Allure results included; anything else in
  the folder, e.g. a ``load/`` run beside it, is left alone);
- while the run goes the folder is locked (``.qbtsuite.lock``, an OS lock released
  when the process ends, however it ends; ``.qbtsuite.pid`` names the holder): a
  second run on the same folder is refused with one line naming that process;
- a run refused before it started leaves no folder behind (:meth:`discard`).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from types import TracebackType

from filelock import FileLock, Timeout

from qbtsuite.errors import ConfigError
from qbtsuite.rundir import fresh_run_dir

__all__ = ["LOCK_FILE", "PID_FILE", "RUN_FILES", "RunFolder", "claim"]

LOCK_FILE = ".qbtsuite.lock"
PID_FILE = ".qbtsuite.pid"
# What a conformance run writes into its folder (the store's files, the reports,
# pytest's own): their presence means the folder holds a run.
RUN_FILES = (
    "results.json",
    "plan.json",
    "records",
    "report.html",
    "summary.md",
    "junit.xml",
    "junit-requirements.xml",
    "certificate.json",
    "allure-results",
    "pytest.ini",
    "pytest.log",
    "exchanges",
    "transcripts.har",
    "reproduce",
)
_SHOWS_A_RUN = ("results.json", "plan.json", "records", "allure-results", "junit.xml")


class RunFolder:
    """A claimed, locked run folder; release it with :meth:`release` (or ``with``)."""

    def __init__(self, path: Path, created: bool, lock: FileLock) -> None:
        self.path = path
        self._created = created
        self._lock = lock

    def release(self) -> None:
        """Unlock the folder and remove the lock files."""
        if self._lock.is_locked:
            (self.path / PID_FILE).unlink(missing_ok=True)
            self._lock.release()
            (self.path / LOCK_FILE).unlink(missing_ok=True)

    def discard(self) -> None:
        """Unlock, and remove what this run put there (the folder, if it made it)."""
        self.release()
        if self._created:
            shutil.rmtree(self.path, ignore_errors=True)
        else:
            _clear(self.path)

    def __enter__(self) -> RunFolder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def _holds_a_run(folder: Path) -> bool:
    return any((folder / name).exists() for name in _SHOWS_A_RUN)


def _clear(folder: Path) -> None:
    for name in RUN_FILES:
        path = folder / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


def _lock(folder: Path) -> FileLock:
    lock = FileLock(str(folder / LOCK_FILE), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        try:
            holder = (folder / PID_FILE).read_text(encoding="utf-8").strip()
        except OSError:
            holder = ""
        who = f"another run (PID {holder})" if holder else "another run"
        raise ConfigError(
            f"the run folder {folder} is in use by {who}; wait for it or choose "
            "another --output"
        ) from None
    (folder / PID_FILE).write_text(f"{os.getpid()}\n", encoding="utf-8")
    return lock


def claim(
    output: Path | None, reports_dir: Path, label: str, *, overwrite: bool = False
) -> RunFolder:
    """The run folder: ``output`` exactly, or a fresh ``<UTC time>-<label>`` under
    ``reports_dir``; locked, and cleared of an earlier run only with ``overwrite``."""
    if output is None:
        folder = fresh_run_dir(reports_dir, label)
        return RunFolder(folder, True, _lock(folder))
    created = not output.exists()
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot create the run folder {output}: {exc.strerror}"
        ) from None
    folder = output.resolve()
    lock = _lock(folder)
    if _holds_a_run(folder):
        if not overwrite:
            _unlock(lock, folder)
            raise ConfigError(
                f"{folder} already holds a run; choose another --output, or "
                "--overwrite to replace it"
            )
        _clear(folder)
    return RunFolder(folder, created, lock)


def _unlock(lock: FileLock, folder: Path) -> None:
    (folder / PID_FILE).unlink(missing_ok=True)
    lock.release()
    (folder / LOCK_FILE).unlink(missing_ok=True)
