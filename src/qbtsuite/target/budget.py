"""The per-run request budget: the target is metered, so every run has a ceiling.

:class:`RequestBudget` counts in memory (one process). :class:`SharedBudget` counts in
a small file under a lock so all pytest-xdist workers of one run share one ceiling.
Exceeding it raises :class:`RequestBudgetExhausted`: the test ends as "error" (the
suite stopped itself), never as a verdict about the target.
"""

from __future__ import annotations

import threading
from pathlib import Path

from qbtsuite.errors import RequestBudgetExhausted
from qbtsuite.target.shared import lock_beside

__all__ = ["RequestBudget", "SharedBudget"]


class RequestBudget:
    """A request counter with a ceiling, for one process."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._used = 0
        self._lock = threading.Lock()

    @property
    def used(self) -> int:
        return self._used

    def take(self) -> None:
        """Count one request, or raise :class:`RequestBudgetExhausted`."""
        with self._lock:
            if self._used >= self.limit:
                raise RequestBudgetExhausted(limit=self.limit)
            self._used += 1


class SharedBudget(RequestBudget):
    """A request counter shared by processes through ``path`` (a number in a file)."""

    def __init__(self, limit: int, path: Path) -> None:
        super().__init__(limit)
        self._path = path
        self._file_lock = lock_beside(path)

    @property
    def used(self) -> int:
        with self._file_lock:
            return self._read()

    def _read(self) -> int:
        try:
            return int(self._path.read_text(encoding="ascii") or 0)
        except FileNotFoundError:
            return 0

    def take(self) -> None:
        with self._file_lock:
            used = self._read()
            if used >= self.limit:
                raise RequestBudgetExhausted(limit=self.limit)
            self._path.write_text(str(used + 1), encoding="ascii")
