"""A simulated target for the limiter scenario: the reference server's own limiter
parts (clean, or with a fault applied) on a virtual clock, with a fixed latency.

It implements the scenario's driver interface, so the scenario and the checks run in
milliseconds with no network; every decision is made by the same classes the
reference server uses.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Sequence

from qbtsuite.loadtest.ratelimit.driver import Arrivals, BudgetExhausted
from qbtsuite.loadtest.samples import Sample, SampleOutcome
from qbtsuite.server.faults import load_faults
from qbtsuite.server.keys import Account, KeyStore, Pricing
from qbtsuite.server.parts import Parts, build_parts
from qbtsuite.server.settings import ServerSettings

__all__ = ["BREAKS", "ENVELOPE", "SimDriver"]

# Fault → the checks that must fail (sorted). The others must not fail; some cannot be
# judged under a fault (e.g. Retry-After honesty needs integer seconds: under a
# Retry-After format fault the "rejections" check is the one that fails, and
# "recovery" says it could not judge the wait).
BREAKS: dict[str, tuple[str, ...]] = {
    "rate.limit_doubled": ("limit",),
    "rate.no_retry_after": ("rejections",),
    "rate.retry_after_http_date": ("rejections",),
    "rate.retry_after_float": ("rejections",),
    "rate.retry_after_too_short": ("recovery",),
    "rate.retry_after_too_long": ("recovery",),
    # thousands of seconds: a wait the limit never needs (the key is free long before)
    "rate.retry_after_in_milliseconds": ("recovery",),
    "rate.never_clears": ("recovery",),
    "rate.fixed_window_burst": ("boundary",),
    "rate.per_ip": ("isolation",),
}

ENVELOPE: dict[str, str | bool | None] = {
    "json": True,
    "error_object": True,
    "message": True,
    "type": "rate_limit_error",
    "code": "rate_limit_exceeded",
}


class SimDriver:
    """Virtual time; each request is decided ``half_rtt`` (+ up to ``jitter``) after
    it is sent and answered as long after. Clients have distinct addresses per key unless
    ``one_address`` (then a per-IP limiter mixes them, as on loopback)."""

    def __init__(
        self,
        window: float,
        limits: dict[str, int],
        fault: str | None = None,
        start: float = 1_000_000.37,
        half_rtt: float = 0.001,
        jitter: float = 0.0,
        seed: int = 0,
        cap: int = 100_000,
    ) -> None:
        settings = ServerSettings(rate_window=window)
        keys = KeyStore(
            [Account(f"qbt_{r}", r, rpm, 1e12) for r, rpm in limits.items()],
            Pricing(),
        )
        self.parts: Parts = build_parts(settings, keys)
        if fault is not None:
            load_faults()[fault]().apply(self.parts)
        self.clock = start
        self.parts.limiter.clock = lambda: self.clock  # type: ignore[attr-defined]
        self.limits = limits
        self.half_rtt = half_rtt
        self.jitter = jitter
        self.rng = random.Random(seed)
        self.samples: list[Sample] = []
        self.cap = cap

    # --- the driver interface --------------------------------------------------

    def now(self) -> float:
        return self.clock

    def sleep_until(self, when: float) -> None:
        self.clock = max(self.clock, when)

    def send(self, role: str, phase: str, subject: str) -> Sample:
        sample = self._decide(role, phase, subject, self.clock, None)
        self.clock = sample["end"]
        return sample

    def burst(self, role: str, phase: str, subject: str, count: int) -> list[Sample]:
        start = self.clock
        out = [
            self._decide(role, phase, subject, start + i * 0.0002, None)
            for i in range(count)
        ]
        self.clock = max(x["end"] for x in out)
        return out

    def arrivals(self, streams: Sequence[Arrivals], subject: str) -> list[Sample]:
        due: list[tuple[float, int, Arrivals]] = []
        for i, st in enumerate(streams):
            k = 0
            while st.start + k / st.rate < st.end:
                heapq.heappush(due, (st.start + k / st.rate, i, st))
                k += 1
        out: list[Sample] = []
        while due:
            t, _, st = heapq.heappop(due)
            out.append(self._decide(st.role, st.phase, subject, t, t))
        self.clock = max([self.clock, *(x["end"] for x in out)])
        return out

    def warm(self, count: int) -> None:
        """Connections cost nothing here."""

    # --- the simulated server ----------------------------------------------------

    def _decide(
        self, role: str, phase: str, subject: str, sent: float, due: float | None
    ) -> Sample:
        if len(self.samples) >= self.cap:
            raise BudgetExhausted
        at = sent + self.half_rtt + self.rng.uniform(0, self.jitter)
        self.clock, before = at, self.clock
        decision = self.parts.limiter.check(
            f"qbt_{role}", self.limits[role], "127.0.0.1"
        )
        self.clock = before
        end = at + self.half_rtt + self.rng.uniform(0, self.jitter)
        sample: Sample = {
            "kind": "sample",
            "name": "embeddings",
            "key": role,
            "t": sent,
            "end": end,
            "e2e": end - sent,
            "due": due,
            "phase": phase,
            "subject": subject,
            "status": 200 if decision.admitted else 429,
            "outcome": (
                SampleOutcome.OK if decision.admitted else SampleOutcome.RATE_LIMITED
            ),
        }
        if not decision.admitted:
            headers = self.parts.retry_after(decision.retry_after)
            sample["retry_after"] = headers.get("Retry-After")
            sample["envelope"] = dict(ENVELOPE)
        self.samples.append(sample)
        return sample
