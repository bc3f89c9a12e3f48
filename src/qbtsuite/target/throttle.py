"""Throttle answers on keys a test does not mean to exhaust: waited out, never evidence.

getting-started.txt: "Limits are per API key, evaluated per minute ... A 429 response
includes a Retry-After header in seconds; back off and retry." A 429, a 402 (no credit
left) or a 5xx carrying ``Retry-After`` on a key the test is not about says the run is
over the target's limits; it proves nothing about the requirement under test. So:

- before each request of the main key, :class:`MainKeyPacer` spaces the run's requests
  when the key's limit is declared (``QBTSUITE_MAIN_KEY_RPM``), so it is never reached;
- after such an answer, :meth:`Throttle.after` waits the announced ``Retry-After`` and
  tells the client to send the request again, while the run's wait allowance
  (``--max-throttle-wait``, shared by every process of the run) lasts;
- otherwise the event is unresolved: the client raises
  :class:`~qbtsuite.errors.Throttled` and the test ends as an error.

Which answers a test *means* to provoke is its :class:`ThrottlePolicy`: every answer
of a key the test spends (marker ``spends``: the rate-limit scenario), and the
zero-balance key's 402. Those reach the test as they came. Every wait is a
:class:`ThrottleEvent` for the test's record: never hidden, never a retry of the 5xx
policy.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from qbtsuite.target.shared import lock_beside

if TYPE_CHECKING:
    from qbtsuite.target.config import Secret, TargetConfig

__all__ = [
    "MIN_WAIT",
    "PACE_WINDOW",
    "THROTTLE_STATUSES",
    "MainKeyPacer",
    "PaceTicket",
    "SharedWaitAllowance",
    "Throttle",
    "ThrottleAnswer",
    "ThrottleEvent",
    "ThrottleGate",
    "ThrottlePolicy",
    "WaitAllowance",
    "may_be_throttled",
    "pace_file",
    "pacer_for",
    "retry_after_seconds",
    "role_of",
    "throttle_answer",
    "throttle_for",
    "who",
]

THROTTLE_STATUSES = frozenset({402, 429})
MIN_WAIT = 1.0  # seconds counted for every wait, even "Retry-After: 0": no tight loop
PACE_WINDOW = 60.0  # seconds: "Limits are per API key, evaluated per minute"
PACE_MARGIN = 1.0  # seconds between slots beyond the window: the target sees us late


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value, whatever the case of its name."""
    value = headers.get(name)
    if value is not None:
        return value
    return next((v for k, v in headers.items() if k.lower() == name), None)


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds from now: delta-seconds or an HTTP-date (RFC 9110
    §10.2.3); None when absent or unreadable. Fractions are kept: we only wait."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def may_be_throttled(status: int, headers: Mapping[str, str]) -> bool:
    """A 429, a 402, or a 5xx that says when to come back: the answers worth reading."""
    if status in THROTTLE_STATUSES:
        return True
    return status >= 500 and _header(headers, "retry-after") is not None


def _error_code(body: bytes) -> str | None:
    try:
        error = json.loads(body).get("error")
    except (ValueError, AttributeError):
        return None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) and code else None


@dataclass(frozen=True, slots=True)
class ThrottleAnswer:
    """What a throttling answer said: its status, error code and Retry-After."""

    status: int
    code: str | None
    retry_after: float | None  # seconds; None: no usable Retry-After

    def describe(self) -> str:
        text = f"{self.status} {self.code}" if self.code else str(self.status)
        if self.retry_after is None:
            return f"{text}, no Retry-After"
        return f"{text}, Retry-After {self.retry_after:g} s"


def throttle_answer(
    status: int, headers: Mapping[str, str], body: bytes
) -> ThrottleAnswer | None:
    """The throttle ``status``/``headers``/``body`` describe, or None if it is none."""
    if not may_be_throttled(status, headers):
        return None
    retry_after = retry_after_seconds(_header(headers, "retry-after"))
    return ThrottleAnswer(status, _error_code(body), retry_after)


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    """Which throttling answers a test means to provoke: those are its evidence.

    ``spends``: the key roles the test uses up on purpose (marker ``spends``); every
    answer of theirs is left as it is. The zero-balance key exists for its 402.
    """

    spends: frozenset[str] = frozenset()

    def meant(self, role: str | None, status: int) -> bool:
        if role is not None and role in self.spends:
            return True
        return role == "zero_balance" and status == 402


def who(role: str | None) -> str:
    """The key a role names, as a sentence says it."""
    if role is None:
        return "a request without a configured key"
    return f"the {role.replace('_', '-')} key"


@dataclass(frozen=True, slots=True)
class ThrottleEvent:
    """One throttling answer on a key the test did not mean to exhaust.

    ``resolved``: its Retry-After was waited (``waited`` seconds) and the request is
    sent again; otherwise ``reason`` says why not, and the test has no evidence.
    """

    role: str | None
    method: str
    url: str
    answer: ThrottleAnswer
    waited: float
    resolved: bool
    reason: str = ""

    @property
    def path(self) -> str:
        return urlsplit(self.url).path or "/"

    @property
    def message(self) -> str:
        """One line for the test's record and the user."""
        what = f"{who(self.role)} was throttled ({self.answer.describe()})"
        where = f"on {self.method} {self.path}"
        if self.resolved:
            return f"throttled: waited {self.waited:.0f} s, {what} {where}"
        return f"throttled: {what} {where} and not waited out: {self.reason}"


class WaitAllowance:
    """The seconds one run may spend waiting out throttles, for one process."""

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self._used = 0.0
        self._lock = threading.Lock()

    @property
    def used(self) -> float:
        return self._used

    def left(self) -> float:
        return max(0.0, self.limit - self.used)

    def take(self, seconds: float) -> bool:
        """Count ``seconds`` of waiting if the allowance holds them; False if not."""
        with self._lock:
            if self._used + seconds > self.limit + 1e-9:
                return False
            self._used += seconds
            return True


class SharedWaitAllowance(WaitAllowance):
    """The allowance shared by the processes of one run through ``path``, as
    :class:`~qbtsuite.target.budget.SharedBudget` shares the request budget."""

    def __init__(self, limit: float, path: Path) -> None:
        super().__init__(limit)
        self._path = path
        self._file_lock = lock_beside(path)

    def _read(self) -> float:
        try:
            return float(self._path.read_text(encoding="ascii") or 0)
        except (FileNotFoundError, ValueError):
            return 0.0

    @property
    def used(self) -> float:
        with self._file_lock:
            return self._read()

    def take(self, seconds: float) -> bool:
        with self._file_lock:
            used = self._read()
            if used + seconds > self.limit + 1e-9:
                return False
            self._path.write_text(f"{used + seconds:.3f}", encoding="ascii")
            return True


def pace_file(base_url: str, key: str) -> Path:
    """Where the send times of one key at one target are kept, for every process.

    Named by a digest (the key never appears), in a folder of this user's only; a
    run started right after another, and the resolution's own model listing, count
    against the same minute.
    """
    digest = hashlib.sha256(f"qbtsuite-pace\0{base_url}\0{key}".encode()).hexdigest()
    uid = os.getuid() if hasattr(os, "getuid") else 0
    folder = Path(tempfile.gettempdir()) / f"qbtsuite-pace-{uid}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder / digest[:32]


@dataclass(frozen=True, slots=True)
class PaceTicket:
    """A reserved send time of the main key (wall clock), and the wait for it."""

    slot: float
    waited: float


class MainKeyPacer:
    """Reserves send times so at most ``rpm`` requests fall in any ``window`` seconds.

    The reserved times live in a file under a lock: every process reserving there
    (pytest-xdist workers) shares one sliding log, so the key's declared limit is
    never reached whatever the distribution of tests. Once the answer has begun to
    arrive, :meth:`confirm` moves the entry to that time: the target saw the request
    no later, so the log holds upper bounds of the target's own times (a slow
    connection or a long upload cannot make the next request early).
    """

    def __init__(
        self,
        rpm: int,
        path: Path,
        *,
        window: float = PACE_WINDOW,
        margin: float = PACE_MARGIN,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.rpm = rpm
        self.window = window
        self.margin = margin
        self._path = path
        self._clock = clock
        self._lock = lock_beside(path, timeout=60)

    def _read(self) -> list[float]:
        try:
            text = self._path.read_text(encoding="ascii")
        except FileNotFoundError:
            return []
        times = []
        for line in text.split():
            try:
                times.append(float(line))
            except ValueError:
                continue
        return times

    def _write(self, times: list[float]) -> None:
        text = "".join(f"{t:.3f}\n" for t in sorted(times))
        self._path.write_text(text, encoding="ascii")

    def reserve(self) -> PaceTicket:
        """Reserve the next free send time."""
        with self._lock:
            now = self._clock()
            span = self.window + self.margin
            times = sorted(t for t in self._read() if t > now - span)
            slot = now
            if len(times) >= self.rpm:
                slot = max(now, times[-self.rpm] + span)
            slot = round(slot, 3)
            self._write([*times, slot])
        return PaceTicket(slot, max(0.0, slot - now))

    def confirm(self, ticket: PaceTicket) -> None:
        """The answer to the request of ``ticket`` has begun to arrive: now."""
        with self._lock:
            times = self._read()
            at = round(max(self._clock(), ticket.slot), 3)
            for i, t in enumerate(times):
                if abs(t - ticket.slot) < 0.0015:
                    times[i] = at
                    break
            self._write(times)


class Throttle:
    """The client's hook: pace the main key before sending, judge a throttle after.

    ``with_policy`` gives the same allowance and pacer under another test's policy.
    """

    def __init__(
        self,
        allowance: WaitAllowance,
        pacer: MainKeyPacer | None = None,
        policy: ThrottlePolicy | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.allowance = allowance
        self.pacer = pacer
        self.policy = policy or ThrottlePolicy()
        self._sleep = sleep

    def with_policy(self, policy: ThrottlePolicy) -> Throttle:
        return Throttle(self.allowance, self.pacer, policy, sleep=self._sleep)

    def pace(self, role: str | None) -> PaceTicket | None:
        """Wait for the main key's next free slot, if its limit is declared."""
        if role != "main" or self.pacer is None:
            return None
        ticket = self.pacer.reserve()
        if ticket.waited > 0:
            self._sleep(ticket.waited)
        return ticket

    def answered(self, ticket: PaceTicket | None) -> None:
        """The answer to a paced request has begun to arrive (see :class:`MainKeyPacer`)."""
        if ticket is not None and self.pacer is not None:
            self.pacer.confirm(ticket)

    def after(
        self,
        role: str | None,
        method: str,
        url: str,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
        *,
        resendable: bool = True,
    ) -> ThrottleEvent | None:
        """None: the answer stands (no throttle, or one the test means to provoke).

        Else the event: resolved once its Retry-After has been waited (send the
        request again), unresolved with the reason it could not be.
        """
        if self.policy.meant(role, status):
            return None
        answer = throttle_answer(status, headers, body)
        if answer is None:
            return None

        def event(waited: float, reason: str = "") -> ThrottleEvent:
            return ThrottleEvent(role, method, url, answer, waited, not reason, reason)

        if answer.retry_after is None:
            if status == 402:
                return event(0.0, "the account has no credit left to wait for")
            return event(0.0, "the answer says no Retry-After to wait for")
        if not resendable:
            return event(0.0, "the request's body cannot be sent a second time")
        wait = max(answer.retry_after, MIN_WAIT)
        if not self.allowance.take(wait):
            left = self.allowance.left()
            return event(
                0.0,
                f"Retry-After {answer.retry_after:g} s is more than the "
                f"{left:.0f} s left of --max-throttle-wait {self.allowance.limit:g} s",
            )
        self._sleep(wait)
        return event(wait)


def pacer_for(config: TargetConfig) -> MainKeyPacer | None:
    """The main key's pacer when its limit is declared (``main_key_rpm``), else None."""
    key = config.key("main")
    if not config.main_key_rpm or key is None:
        return None
    return MainKeyPacer(config.main_key_rpm, pace_file(config.base_url, key.reveal()))


def throttle_for(
    config: TargetConfig,
    allowance: WaitAllowance | None = None,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> Throttle:
    """The hook for ``config``: its wait allowance (one process's unless given) and
    the main key's pacer."""
    if allowance is None:
        allowance = WaitAllowance(config.max_throttle_wait)
    return Throttle(allowance, pacer_for(config), sleep=sleep)


def role_of(keys: Mapping[str, Secret], authorization: str | None) -> str | None:
    """The key role whose key an ``Authorization`` value carries (even malformed: a
    lenient target counts it against that key), or None."""
    if not authorization:
        return None
    for role, secret in keys.items():
        if secret.reveal() in authorization:
            return role
    return None


class ThrottleGate:
    """One client's hook into the run's throttling: pace before, judge after.

    It keeps the ticket of the paced request awaiting its answer (the pacer learns
    when the answer came) and reports each pacing wait to ``on_pace`` and each
    throttle answer to ``on_throttle`` (the test's record).
    """

    def __init__(
        self,
        throttle: Throttle,
        on_throttle: Callable[[ThrottleEvent], None] | None = None,
        on_pace: Callable[[float], None] | None = None,
    ) -> None:
        self.throttle = throttle
        self.on_throttle = on_throttle
        self.on_pace = on_pace
        self._ticket: PaceTicket | None = None

    def before(self, role: str | None) -> None:
        """Before sending a request of ``role``: wait for its slot if it is paced."""
        self.answered()  # a ticket left open by a request that raised
        self._ticket = ticket = self.throttle.pace(role)
        if ticket is not None and ticket.waited > 0 and self.on_pace is not None:
            self.on_pace(ticket.waited)

    def answered(self) -> None:
        """The answer to the last request has begun to arrive (or it failed)."""
        ticket, self._ticket = self._ticket, None
        self.throttle.answered(ticket)

    def judge(
        self,
        role: str | None,
        method: str,
        url: str,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
        *,
        resendable: bool = True,
    ) -> ThrottleEvent | None:
        """:meth:`Throttle.after` for this answer, reported; None: it stands."""
        self.answered()
        event = self.throttle.after(
            role, method, url, status, headers, body, resendable=resendable
        )
        if event is not None and self.on_throttle is not None:
            self.on_throttle(event)
        return event
