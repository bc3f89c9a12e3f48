"""Exact samples from every process into one file, beside Locust's own statistics.

Locust's statistics round response times into buckets (147 ms becomes 150 ms), so
the figures we report come from our own samples instead. A process turns each
sample into its JSON line as it is recorded (orjson; the dict is freed at once) and
flushes the lines every quarter second: a worker sends them to the master with
``runner.send_message`` as one block of bytes (so workers on other machines work
too); the master, or the single local process, appends them to ``samples.jsonl``
as they came. Each batch also says
whether the process is idle (stopped sending, nothing in flight), which lets the load
shape end the run as soon as every answer is in.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import gevent
import orjson
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from qbtlocust.context import RunContext

__all__ = ["MESSAGE", "Collector"]

MESSAGE = "qbt_samples"
_FLUSH_EVERY = 0.25  # seconds
_LINE = orjson.OPT_APPEND_NEWLINE


class Collector:
    """One per process; see the module docstring."""

    def __init__(self, environment: Environment) -> None:
        self.environment = environment
        self.buffer: list[bytes] = []  # JSON lines not flushed yet
        self.context: RunContext | None = None
        self._file: IO[bytes] | None = None
        self._loop: gevent.Greenlet | None = None
        self._idle: dict[int, bool] = {}  # master: last idle flag of each worker
        self._expected = 1

    @property
    def is_worker(self) -> bool:
        return isinstance(self.environment.runner, WorkerRunner)

    @property
    def is_master(self) -> bool:
        return isinstance(self.environment.runner, MasterRunner)

    def register(self) -> None:
        """Master: accept sample batches from workers."""
        runner = self.environment.runner
        if self.is_master and runner is not None:
            runner.register_message(MESSAGE, self._on_batch)

    def open(self, path: str, expected: int, t0: float) -> None:
        """Master/local: start the samples file with the test's t0."""
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._file = open(path, "ab")  # closed in close()
        self._expected = expected
        self._idle = {}
        self._write(_line({"kind": "start", "t0": t0, "processes": expected}))

    def start(self, context: RunContext | None) -> None:
        """Begin a run: flush periodically from now on."""
        self.context = context
        if self._loop is None:
            self._loop = gevent.spawn(self._flush_loop)

    def record(self, sample: Mapping[str, Any]) -> None:
        """Keep ``sample`` as its JSON line (later changes to the dict are not kept)."""
        self.buffer.append(orjson.dumps(sample, option=_LINE))

    def all_idle(self) -> bool:
        """Every sending process has stopped and has nothing in flight."""
        if self.is_master:
            return len(self._idle) >= self._expected and all(self._idle.values())
        return self.context is not None and self.context.idle

    def stop(self) -> None:
        """End of the run: final flush (with this process's done marker)."""
        if self._loop is not None:
            self._loop.kill(block=False)
            self._loop = None
        if self.context is not None:
            self.flush(final=True)
            self.context = None

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def flush(self, final: bool = False) -> None:
        lines, self.buffer = self.buffer, []
        ctx = self.context
        if ctx is None:
            return
        if final:
            lines.append(_line({"kind": "done", "proc": ctx.proc, "sent": ctx.sent}))
        block = b"".join(lines)
        runner = self.environment.runner
        if self.is_worker and runner is not None:
            data = {"proc": ctx.proc, "idle": ctx.idle, "lines": block}
            runner.send_message(MESSAGE, data)
        else:
            self._write(block)

    def _flush_loop(self) -> None:
        while True:
            gevent.sleep(_FLUSH_EVERY)
            self.flush()

    def _on_batch(self, environment: Environment, msg: Any, **_: Any) -> None:
        data = msg.data or {}
        self._idle[int(data.get("proc", -1))] = bool(data.get("idle"))
        block = data.get("lines", b"")
        self._write(block if isinstance(block, bytes) else b"")

    def _write(self, block: bytes) -> None:
        if self._file is None or not block:
            return
        self._file.write(block)
        self._file.flush()


def _line(record: Mapping[str, Any]) -> bytes:
    """One record as a line of ``samples.jsonl``.

    orjson: about a tenth of ``json.dumps``'s time per sample, and the same values read
    back (UTF-8, shortest round-trip floats), only without blanks.
    """
    return orjson.dumps(record, option=_LINE)
