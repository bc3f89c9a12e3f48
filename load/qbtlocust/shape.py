"""The load shape: the plan's stages, then a short drain, then stop.

Locust asks ``tick()`` about once a second. During the timeline it gets the current
stage's users; afterwards the users stay (sending nothing new) until every process
reports that its answers are in, or the plan's ``drain`` time is over. A run whose
processes are all done earlier (a scripted user finished, or the request cap is
reached) ends then, and so does a run whose plan's stop file appears (``qbtsuite
load --slo-abort`` makes it once an SLO can no longer be met). Returning None ends
the test (headless, or the web UI with ``--autostart``), so every profile finishes
by itself.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from locust import LoadTestShape

from qbtsuite.loadtest.plan import Plan, Stage

__all__ = ["ProfileShape"]


class ProfileShape(LoadTestShape):
    """Follows the plan given by ``plan_source``; set by the locustfile at init."""

    plan_source: Callable[[], Plan | None] = staticmethod(lambda: None)
    idle_source: Callable[[], bool] = staticmethod(lambda: False)

    def tick(self) -> tuple[int, float] | None:
        plan = type(self).plan_source()
        if plan is None or not plan.stages:
            return None
        elapsed = time.perf_counter() - self.start_time
        if type(self).idle_source():
            return None  # every process is done (a script ended, or the cap is hit)
        if plan.stop_path and os.path.exists(plan.stop_path):
            return None  # aborted: an SLO can no longer be met
        stage = plan.stage_at(elapsed)
        if stage is not None:
            return stage.users, _spawn_rate(stage)
        if elapsed >= plan.duration + plan.drain or type(self).idle_source():
            return None
        last = plan.stages[-1]
        return last.users, _spawn_rate(last)


def _spawn_rate(stage: Stage) -> float:
    """Users per second: the stage's own, else all of them within a quarter second."""
    return stage.spawn_rate or max(4.0 * stage.users, 1.0)
