"""What one Locust process shares between its users: plan, keys, clock, budget, schedule.

Gevent runs every user of a process in one thread, so plain counters are safe here.
Each sending process owns an even share of the request cap and, in open loop, an
interleaved share of the arrival schedule (:class:`qbtsuite.loadtest.plan.ArrivalSchedule`).
"""

from __future__ import annotations

import json
import os
import random
import time

from qbtsuite.loadtest.bodies import PreparedRequest, prepare
from qbtsuite.loadtest.plan import ENDPOINTS, ArrivalSchedule, Plan

__all__ = ["KEYS_ENV", "PLAN_ENV", "RunContext", "read_keys"]

PLAN_ENV = "QBTSUITE_LOAD_PLAN"  # the plan as JSON (also the --qbt-plan option)
KEYS_ENV = "QBTSUITE_LOAD_KEYS"  # {"role": "key", ...}; never on a command line


def read_keys() -> dict[str, str]:
    """The keys by role from the environment (empty when unset or unreadable)."""
    try:
        keys = json.loads(os.environ.get(KEYS_ENV, "{}"))
    except json.JSONDecodeError:
        return {}
    return {str(k): str(v) for k, v in keys.items()} if isinstance(keys, dict) else {}


class RunContext:
    """State of one sending process for one test run."""

    def __init__(
        self,
        plan: Plan,
        keys: dict[str, str],
        proc: int,
        count: int,
        t0: float | None = None,
    ):
        """``t0``: the test start (epoch) shared by all processes; default now."""
        self.plan = plan
        self.keys = keys
        self.proc = proc
        self.count = count
        now_epoch, now_perf = time.time(), time.perf_counter()
        self.t0_epoch = now_epoch if t0 is None else t0
        self.t0_perf = now_perf - (now_epoch - self.t0_epoch)
        share, extra = divmod(plan.max_requests, count)
        self.budget = share + (1 if proc < extra else 0)
        self.schedule = (
            ArrivalSchedule(plan.stages, proc, count) if plan.open_loop else None
        )
        self.sent = 0  # first attempts started (retries are not new arrivals)
        self.in_flight = 0
        self.finished = False  # a scripted user (ratelimit) has run its script
        self._duration = plan.duration  # a sum over the stages: asked every request
        self._users = 0
        seed = plan.seed if plan.seed is not None else time.time_ns()
        self.rng = random.Random(seed * 1000 + proc)
        self.requests: dict[str, PreparedRequest] = {
            name: prepare(name, plan.request) for name in ENDPOINTS
        }
        names = [n for n, w in plan.mix.items() if w > 0]
        self._mix_names = names
        self._mix_weights = [plan.mix[n] for n in names]

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0_perf

    def epoch(self, perf: float) -> float:
        """Wall-clock seconds of a perf_counter reading of this process."""
        return self.t0_epoch + (perf - self.t0_perf)

    def next_role(self) -> str:
        """Key roles go to users in turn."""
        role = self.plan.keys[self._users % len(self.plan.keys)]
        self._users += 1
        return role

    def pick_mixed(self) -> str:
        return self.rng.choices(self._mix_names, self._mix_weights)[0]

    def think(self) -> float:
        low, high = self.plan.think_time
        return self.rng.uniform(low, high) if high > 0 else 0.0

    @property
    def stopped_sending(self) -> bool:
        """Past the timeline or the budget: no new requests from this process."""
        return (
            self.finished
            or self.sent >= self.budget
            or self.elapsed() >= self._duration
        )

    @property
    def idle(self) -> bool:
        """Stopped sending and nothing in flight: this process is finished."""
        return self.stopped_sending and self.in_flight == 0

    def claim(self) -> tuple[bool, float | None]:
        """May a user send now? Returns (go, due perf_counter time or None).

        Closed loop: go unless stopped. Open loop: the next due time of this process's
        schedule, however late it already is (lateness is recorded, never skipped).
        """
        if self.stopped_sending:
            return False, None
        if self.schedule is None:
            self.sent += 1
            return True, None
        offset = self.schedule.claim()
        if offset is None:
            return False, None
        self.sent += 1
        return True, self.t0_perf + offset
