"""What the ``ratelimit`` profile measures and how: keys, declared limit, window, pace.

A :class:`RateLimitSettings` travels inside the plan (``Plan.ratelimit``) to the Locust
process that runs the scenario, and back to the judge that reads the samples, so both
sides use the same numbers. Everything derived from them (drive rate, poll interval,
the steady-state span) is a method here, never recomputed elsewhere.

Spec/getting-started.txt: "Limits are per API key, evaluated per minute … A 429
response includes a Retry-After header in seconds". ``window`` is that minute (60 s
against a real gateway; the embedded reference server takes ``--rate-window`` so a
run lasts seconds), and ``declared_limit`` is the per-window limit of every key under
test.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, fields, replace
from typing import Any

from qbtsuite.errors import ConfigError
from qbtsuite.loadtest.durations import parse_duration

__all__ = [
    "DEFAULT_WITNESS",
    "RateLimitSettings",
    "embedded_keys_toml",
    "finite_number",
    "parse_settings",
    "validated",
]

DEFAULT_WITNESS = "second"  # a key with a high limit, never saturated by the run
_ROLE = re.compile(r"[A-Za-z0-9_]{1,40}")
_MIN_WINDOW = 2.0  # Retry-After is whole seconds: "just before" needs R >= 2
_SETTLE = 0.75  # windows of a drive before its measured span
# Settings that are durations (``6s``, ``1m``, ``300ms``; a plain number is seconds).
_DURATIONS = frozenset(
    {
        "window",
        "early_margin",
        "late_margin",
        "boundary_before",
        "boundary_after",
        "isolation_seconds",
    }
)


@dataclass(frozen=True, slots=True)
class RateLimitSettings:
    """The limiter scenario's parameters (seconds unless said otherwise)."""

    declared_limit: int = 30  # requests admitted per window, per key
    window: float = 6.0  # the limit's window (60 = per minute)
    windows: int = 2  # steady-state windows measured by the drive
    keys: tuple[str, ...] = ("low_limit", "low_limit_2")  # key roles under test
    witnesses: tuple[str, ...] = ()  # () = "second" plus the other keys under test
    overdrive: float = 2.0  # drive rate as a multiple of the declared rate
    endpoint: str = "embeddings"  # cheap, and rate-limited like any inference call
    early_margin: float = 0.2  # "just before" leaves this much for the transit
    late_margin: float = 0.1  # "just after" waits this much past Retry-After
    boundary_before: float = 0.3  # burst 1 starts this long before the boundary
    boundary_after: float = 0.1  # burst 2 starts this long after it
    isolation_seconds: float = 0.0  # each isolation phase; 0 = derived from the pace
    latency_factor: float = 2.0  # witness p50 under load <= factor * p50 without
    latency_slack_ms: float = 10.0  # … plus this much (loopback noise)

    # ----- derived figures ------------------------------------------------------

    @property
    def drive_rate(self) -> float:
        """Arrivals per second while driving a key at its declared limit's pace."""
        return self.overdrive * self.declared_limit / self.window

    @property
    def drive_seconds(self) -> float:
        """Three quarters of a window to settle, then ``windows`` measured windows."""
        return (self.windows + _SETTLE) * self.window

    def steady_span(self, drive_start: float) -> tuple[float, float]:
        """The measured span of a drive that started at ``drive_start``: ``windows``
        windows from three quarters of a window after the start.

        Driven at twice its rate from (nearly) fresh, a sliding-window limiter admits
        in the first half of every window-long period counted from the start, and
        nothing in the second half; the span's edges sit in that quiet quarter, so
        every admitted slot counts exactly ``windows`` times and an arrival a few
        milliseconds early or late moves nothing across an edge. A fixed window's
        first boundary may come later, but its admissions before it lie in the first
        half too, and from its boundary on it is periodic, so any span of whole
        windows holds ``windows × limit`` (± one request at a boundary).
        """
        start = drive_start + _SETTLE * self.window
        return start, start + self.windows * self.window

    @property
    def poll_interval(self) -> float:
        """How often the boundary probe asks while it waits to be admitted again."""
        return min(0.5, max(0.015, self.window / 120))

    @property
    def max_wait(self) -> float:
        """The longest Retry-After the scenario waits for (two windows)."""
        return 2 * self.window

    @property
    def witness_rate(self) -> float:
        """Each witness key's arrivals per second: half the declared rate."""
        return 0.5 * self.declared_limit / self.window

    @property
    def isolation_phase(self) -> float:
        """Seconds of each isolation phase (baseline, then under load)."""
        if self.isolation_seconds > 0:
            return self.isolation_seconds
        return min(max(1.5, 10 / self.witness_rate), 2 * self.window)

    def witnesses_for(self, subject: str) -> tuple[str, ...]:
        """The keys whose answers must not change while ``subject`` is saturated."""
        if self.witnesses:
            return tuple(w for w in self.witnesses if w != subject)
        others = [k for k in self.keys if k != subject]
        if DEFAULT_WITNESS != subject and DEFAULT_WITNESS not in others:
            others.append(DEFAULT_WITNESS)
        return tuple(others)

    @property
    def roles(self) -> tuple[str, ...]:
        """Every key role the run needs (keys under test, then witnesses)."""
        seen: dict[str, None] = dict.fromkeys(self.keys)
        for key in self.keys:
            seen.update(dict.fromkeys(self.witnesses_for(key)))
        return tuple(seen)

    def estimated_seconds(self) -> float:
        """An upper bound of the scenario's length, for the run's deadline."""
        w = self.window
        per_key = (
            (2 * w + 5)  # recovery: fill, Retry-After, maybe once more from fresh
            + (w + self.max_wait + 2)
            + self.drive_seconds
            + (self.max_wait + w + 3)  # boundary: saturate, locate, bursts
            + 2 * self.isolation_phase
            + 2
        )
        return per_key * len(self.keys)

    def request_cap(self) -> int:
        """A hard cap on requests, far above what the scenario sends."""
        limit = self.declared_limit
        per_key = (
            2 * (3 * limit + 10)
            + math.ceil(self.drive_rate * self.drive_seconds * (3 + 10 / limit))
            + math.ceil(self.max_wait / self.poll_interval)
            + 2 * (4 * limit + 10)
            + math.ceil(self.isolation_phase * self.drive_rate * 4)
            + math.ceil(2 * self.isolation_phase * self.witness_rate) * 4
        )
        return 2 * per_key * len(self.keys) + 100


def finite_number(value: Any, where: str) -> float:
    """``value`` as a float: a finite int or float (not a bool), else a ConfigError."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{where}: expected a number, got {value!r}")
    if not math.isfinite(value):
        raise ConfigError(f"{where}: expected a finite number, got {value!r}")
    return float(value)


def parse_settings(table: Any, where: str) -> RateLimitSettings:
    """``[ratelimit]`` of a profile, checked (ConfigError: one clear line)."""
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: [ratelimit] must be a table")
    known = {f.name for f in fields(RateLimitSettings)}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(
            f"{where}: unknown [ratelimit] setting(s) {', '.join(unknown)}"
        )
    values: dict[str, Any] = {}
    for name, value in table.items():
        at = f"{where}: ratelimit.{name}"
        if name in ("keys", "witnesses"):
            if not isinstance(value, list) or not all(
                isinstance(v, str) and v for v in value
            ):
                raise ConfigError(f"{at} must be a list of key roles")
            values[name] = tuple(value)
        elif name == "endpoint":
            if not isinstance(value, str):
                raise ConfigError(f"{at} must be an endpoint name")
            values[name] = value
        elif name in ("declared_limit", "windows"):
            if isinstance(value, bool) or not isinstance(value, int):
                raise ConfigError(f"{at} must be an integer")
            values[name] = value
        elif name in _DURATIONS:
            values[name] = parse_duration(value, at)
        elif name == "latency_slack_ms":  # a plain number is milliseconds, as named
            values[name] = parse_duration(value, at, plain=0.001) * 1000
        else:
            values[name] = finite_number(value, at)
    return validated(replace(RateLimitSettings(), **values), where)


def validated(s: RateLimitSettings, where: str = "ratelimit") -> RateLimitSettings:
    """``s`` if its values make a meaningful scenario, else ConfigError."""
    if s.declared_limit < 2:
        raise ConfigError(f"{where}: the declared limit must be at least 2")
    if s.window < _MIN_WINDOW:
        raise ConfigError(
            f"{where}: the window must be at least {_MIN_WINDOW:g} s (Retry-After is "
            "whole seconds: a retry just before it needs Retry-After >= 2)"
        )
    if s.windows < 2:
        raise ConfigError(f"{where}: measure at least 2 windows (--windows)")
    if not s.keys:
        raise ConfigError(f"{where}: name at least one key role under test (--keys)")
    bad = [r for r in (*s.keys, *s.witnesses) if not _ROLE.fullmatch(r)]
    if bad:
        raise ConfigError(f"{where}: bad key role {bad[0]!r} (letters, digits, _)")
    if len(set(s.keys)) < len(s.keys):
        raise ConfigError(f"{where}: a key role is named twice in --keys")
    if s.overdrive <= 1:
        raise ConfigError(f"{where}: overdrive must be above 1 (drive above the limit)")
    for name in ("early_margin", "late_margin", "boundary_before", "boundary_after"):
        if getattr(s, name) <= 0:
            raise ConfigError(f"{where}: {name} must be > 0")
    if s.boundary_before + s.boundary_after >= s.window / 2:
        raise ConfigError(f"{where}: the boundary bursts must fit in half a window")
    if s.latency_factor < 1 or s.latency_slack_ms < 0 or s.isolation_seconds < 0:
        raise ConfigError(f"{where}: latency_factor >= 1, slack and phase >= 0")
    return s


def embedded_keys_toml(s: RateLimitSettings) -> str:
    """A keys file for the embedded reference server (no key values: it makes them).

    The usual roles, and every key under test (or witness) not among them with the
    declared limit; ``low_limit`` gets the declared limit too.
    """
    roles = {
        "main": 100_000,
        DEFAULT_WITNESS: 100_000,
        "zero_balance": 600,
        "low_limit": s.declared_limit,
    }
    for role in s.roles:
        roles.setdefault(role, s.declared_limit)
    for role in s.keys:
        roles[role] = s.declared_limit
    lines = ["# keys of the ratelimit profile's embedded server (values generated)"]
    for role, rpm in roles.items():
        balance = 0.0 if role == "zero_balance" else 1e12
        lines += [
            "[[keys]]",
            f'role = "{role}"',
            f"rpm = {rpm}",
            f"balance = {balance}",
        ]
    return "\n".join(lines) + "\n"
