"""The ``ratelimit`` profile's Locust user: runs the limiter scenario once.

The scenario itself (:mod:`qbtsuite.loadtest.ratelimit.scenario`) is plain Python; this
module gives it a driver made of gevent and the user's ``FastHttpSession``: one
request, a burst (greenlets at once), and open-loop arrivals (one greenlet per
stream schedules, one greenlet per request sends). Every request is an ordinary
sample (``QbtSender.send_one``) tagged with its phase and the key under test, counted
against the run's request cap. The run ends when the script does (a single local
process quits at once; otherwise the load shape ends it at its next tick).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import gevent
from locust import task
from locust.runners import LocalRunner

from qbtlocust.users import QbtSender, record
from qbtsuite.loadtest.ratelimit.driver import Arrivals, BudgetExhausted
from qbtsuite.loadtest.ratelimit.scenario import run_scenario
from qbtsuite.loadtest.samples import Sample

__all__ = ["GeventDriver", "RateLimitUser"]

_IDLE_PAUSE = 0.1


class GeventDriver:
    """The scenario's driver on one Locust user (see the module doc)."""

    def __init__(self, user: RateLimitUser, endpoint: str) -> None:
        self.user = user
        self.ctx = user.ctx
        self.request = self.ctx.requests[endpoint]

    def now(self) -> float:
        return self.ctx.epoch(time.perf_counter())

    def sleep_until(self, when: float) -> None:
        delay = when - self.now()
        if delay > 0:
            gevent.sleep(delay)

    def _one(
        self, role: str, phase: str, subject: str, due: float | None
    ) -> Sample | None:
        go, _ = self.ctx.claim()
        if not go:
            return None
        sample = self.user.send_one(self.request, None, 0, role=role)
        sample |= {"phase": phase, "subject": subject}
        if due is not None:
            sample["due"] = due
        record(sample)
        return sample  # type: ignore[return-value]

    def send(self, role: str, phase: str, subject: str) -> Sample:
        sample = self._one(role, phase, subject, None)
        if sample is None:
            raise BudgetExhausted
        return sample

    def burst(self, role: str, phase: str, subject: str, count: int) -> list[Sample]:
        jobs = [
            gevent.spawn(self._one, role, phase, subject, None) for _ in range(count)
        ]
        gevent.joinall(jobs)
        return self._values(jobs)

    def arrivals(self, streams: Sequence[Arrivals], subject: str) -> list[Sample]:
        schedulers = [gevent.spawn(self._stream, st, subject) for st in streams]
        gevent.joinall(schedulers)
        out: list[Sample] = []
        for job in schedulers:
            out += self._values(job.value or [])
        return out

    def _stream(self, st: Arrivals, subject: str) -> list[gevent.Greenlet]:
        """Spawn one request per due time (never waiting for answers); then join."""
        jobs: list[gevent.Greenlet] = []
        k = 0
        while (due := st.start + k / st.rate) < st.end:
            self.sleep_until(due)
            jobs.append(gevent.spawn(self._one, st.role, st.phase, subject, due))
            k += 1
        gevent.joinall(jobs)
        return jobs

    def warm(self, count: int) -> None:
        """``count`` concurrent ``GET /models`` without a key: refused before any
        limiter, they leave open keep-alive connections for the next burst."""
        jobs = [gevent.spawn(self._warm_one) for _ in range(count)]
        gevent.joinall(jobs)

    def _warm_one(self) -> None:
        with self.user.client.get(
            "/models", name="connection warm-up (no key)", catch_response=True
        ) as resp:
            resp.success()

    @staticmethod
    def _values(jobs: Sequence[gevent.Greenlet]) -> list[Sample]:
        values = [job.value for job in jobs]
        if any(v is None for v in values):
            raise BudgetExhausted
        return values


class RateLimitUser(QbtSender):
    """One user per run: it runs the scenario of ``plan.ratelimit`` once."""

    concurrency = 64  # bursts and open-loop arrivals overlap

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        settings = self.ctx.plan.ratelimit
        if settings is None:
            raise RuntimeError("the ratelimit user needs plan.ratelimit")
        self.settings = settings

    @task
    def script(self) -> None:
        ctx = self.ctx
        if ctx.finished:
            gevent.sleep(_IDLE_PAUSE)
            return
        try:
            run_scenario(GeventDriver(self, self.settings.endpoint), self.settings)
        finally:
            ctx.finished = True
            runner = self.environment.runner
            if isinstance(runner, LocalRunner):
                # End now rather than at the shape's next tick (once a second);
                # from another greenlet, as stopping kills this user's.
                gevent.spawn(runner.quit)
