"""The circuit breaker: a run stops sending to a target that stopped answering.

Each exchange ends answered (a status line arrived) or not (it timed out before
completing, the connection failed, or it closed with nothing sent back). After
``limit`` unanswered exchanges in a row the breaker trips: from then on every
request raises :class:`~qbtsuite.errors.TargetNotAnswering` before anything is
sent, so the remaining tests end quickly as ``error`` and the run exits 3 instead of
spending a deadline on each of them. A limit of 0 never trips.

:class:`Breaker` counts in memory (one process). :class:`SharedBreaker` keeps the
count in a small JSON file under a lock, so the pytest-xdist workers of one run
share it (like :class:`~qbtsuite.target.budget.SharedBudget`); ``qbtsuite run``
reads the file (:func:`tripped`) to choose its exit code.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

from qbtsuite.errors import TargetNotAnswering
from qbtsuite.target.shared import lock_beside

__all__ = ["Breaker", "BreakerState", "SharedBreaker", "breaker_file", "tripped"]


@dataclass(frozen=True, slots=True)
class BreakerState:
    """Unanswered exchanges in a row, whether the breaker tripped, the last reason."""

    limit: int
    in_a_row: int = 0
    tripped: bool = False
    last: str = ""


def breaker_file(results_dir: Path) -> Path:
    """Where a run's shared breaker lives (beside the request budget)."""
    return results_dir / "records" / "breaker.json"


class Breaker:
    """Counts unanswered exchanges in a row, for one process."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._state = BreakerState(limit)
        self._lock = threading.Lock()

    @property
    def state(self) -> BreakerState:
        return self._state

    def admit(self) -> None:
        """Raise :class:`TargetNotAnswering` once the breaker has tripped."""
        state = self.state
        if state.tripped:
            raise TargetNotAnswering(limit=state.limit, last=state.last)

    def answered(self) -> None:
        """An answer arrived: the count starts again (a tripped breaker stays so)."""
        with self._lock:
            state = self._load()
            if state.in_a_row and not state.tripped:
                self._store(BreakerState(self.limit))

    def unanswered(self, reason: str) -> None:
        """No answer in time; trips the breaker at the limit."""
        with self._lock:
            state = self._load()
            count = state.in_a_row + 1
            trip = state.tripped or (self.limit > 0 and count >= self.limit)
            self._store(BreakerState(self.limit, count, trip, reason))

    def _load(self) -> BreakerState:
        return self._state

    def _store(self, state: BreakerState) -> None:
        self._state = state


class SharedBreaker(Breaker):
    """A breaker shared by processes through ``path`` (a JSON file)."""

    def __init__(self, limit: int, path: Path) -> None:
        super().__init__(limit)
        self._path = path
        self._file_lock = lock_beside(path)

    @property
    def state(self) -> BreakerState:
        with self._file_lock:
            return self._load()

    def answered(self) -> None:
        with self._file_lock:
            super().answered()

    def unanswered(self, reason: str) -> None:
        with self._file_lock:
            super().unanswered(reason)

    def _load(self) -> BreakerState:
        return _read(self._path) or BreakerState(self.limit)

    def _store(self, state: BreakerState) -> None:
        self._path.write_text(json.dumps(asdict(state)), encoding="utf-8")


def _read(path: Path) -> BreakerState | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return BreakerState(
            limit=int(data["limit"]),
            in_a_row=int(data["in_a_row"]),
            tripped=bool(data["tripped"]),
            last=str(data["last"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def tripped(results_dir: Path) -> BreakerState | None:
    """The state of a run's breaker if it tripped, else None."""
    state = _read(breaker_file(results_dir))
    return state if state is not None and state.tripped else None
