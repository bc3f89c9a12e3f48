"""Load profiles: the TOML files in ``load/profiles/`` and the overrides of the command.

A profile file names the traffic (``user``: one endpoint, or ``mixed`` with a ``[mix]``
of weights), its timeline (``[[stages]]``: duration, users and, for open loop, rate),
the warm-up excluded from figures, the hard request cap, default SLOs, and how the
embedded reference server should behave (``[embedded]``: its latency model). Every
value is checked here, so a typo in a profile is one clear line, not a Locust crash.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from qbtsuite.errors import ConfigError
from qbtsuite.loadtest.durations import parse_duration
from qbtsuite.loadtest.plan import ENDPOINTS, Plan, RequestSettings, Stage, scale_stages
from qbtsuite.loadtest.ratelimit.settings import (
    RateLimitSettings,
    finite_number,
    parse_settings,
    validated,
)
from qbtsuite.resources import data_dir

__all__ = ["Overrides", "Profile", "load_profile", "profile_names", "resolve_plan"]

_TOP = {
    "description",
    "user",
    "warmup",
    "drain",
    "think_time",
    "max_requests",
    "timeout",
    "retries",
    "retry_cap",
    "keys",
    "slo",
    "seed",
    "stages",
    "mix",
    "request",
    "embedded",
    "ratelimit",
}
_EMBEDDED = {"ttft": "--ttft", "itl": "--itl", "rate_window": "--rate-window"}


@dataclass(frozen=True, slots=True)
class Profile:
    """One profile file, read and checked (``plan.base_url`` is not set yet)."""

    name: str
    plan: Plan
    slo: tuple[str, ...]
    embedded_args: tuple[str, ...]  # ``qbtsuite serve`` options for the embedded target


@dataclass(frozen=True, slots=True)
class Overrides:
    """What the command line may change; None keeps the profile's value."""

    users: int | None = None
    rate: float | None = None
    duration: float | None = None
    warmup: float | None = None
    max_requests: int | None = None
    retries: int | None = None
    # the ratelimit profile
    keys: tuple[str, ...] | None = None
    declared_limit: int | None = None
    window: float | None = None
    windows: int | None = None

    @property
    def limiter_options(self) -> list[str]:
        """The ratelimit options given (for a clear error on other profiles)."""
        named = {
            "--keys": self.keys,
            "--declared-limit": self.declared_limit,
            "--window": self.window,
            "--windows": self.windows,
        }
        return [flag for flag, value in named.items() if value is not None]


def profiles_folder() -> Path:
    return data_dir("load") / "profiles"


def profile_names(folder: Path | None = None) -> list[str]:
    """The profiles shipped (file stems), sorted."""
    folder = folder or profiles_folder()
    return sorted(p.stem for p in folder.glob("*.toml"))


def load_profile(name: str, folder: Path | None = None) -> Profile:
    """Read and check profile ``name`` (a shipped name, or a path to a ``.toml``).

    ConfigError with one clear line if it is missing or unusable.
    """
    if name.endswith(".toml"):
        path = Path(name)
        if not path.is_file():
            raise ConfigError(f"profile file not found: {name}")
        name = path.stem
    else:
        folder = folder or profiles_folder()
        path = folder / f"{name}.toml"
        if not name.replace("-", "").replace("_", "").isalnum() or not path.is_file():
            known = ", ".join(profile_names(folder)) or "none"
            raise ConfigError(f"unknown load profile {name!r} (known: {known})")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read profile {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"profile {path.name} is not valid TOML: {exc}") from None
    return _parse(name, data)


def _parse(name: str, data: dict[str, Any]) -> Profile:
    where = f"profile {name!r}"
    unknown = sorted(set(data) - _TOP)
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {', '.join(unknown)}")
    user = _get(data, "user", str, "chat_stream", where)
    if user == "ratelimit":
        return _ratelimit_profile(name, data, where)
    if "ratelimit" in data:
        raise ConfigError(f"{where}: [ratelimit] applies to user = 'ratelimit' only")
    mix = {
        k: finite_number(v, f"{where}: mix.{k}") for k, v in data.get("mix", {}).items()
    }
    if user != "mixed" and user not in ENDPOINTS:
        raise ConfigError(f"{where}: user must be one of {_names()} or 'mixed'")
    if user == "mixed":
        bad = sorted(set(mix) - set(ENDPOINTS))
        if not mix or bad or any(w < 0 for w in mix.values()) or sum(mix.values()) <= 0:
            raise ConfigError(
                f"{where}: a mixed profile needs [mix] weights >= 0 for {_names()}"
            )
    think = data.get("think_time", [0.0, 0.0])
    if not isinstance(think, list) or len(think) != 2:
        raise ConfigError(f"{where}: think_time must be [min, max] (durations)")
    low, high = (parse_duration(t, f"{where}: think_time") for t in think)
    if not 0 <= low <= high:
        raise ConfigError(
            f"{where}: think_time must be [min, max] with 0 <= min <= max"
        )
    plan = Plan(
        profile=name,
        base_url="",
        stages=_stages(data.get("stages"), where),
        user=user,
        mix=mix,
        description=_get(data, "description", str, "", where),
        warmup=_duration(data, "warmup", 1.0, where),
        drain=_duration(data, "drain", 5.0, where),
        think_time=(low, high),
        max_requests=_positive_int(data, "max_requests", 1000, where),
        retries=_positive_int(data, "retries", 0, where, minimum=0),
        retry_cap=_duration(data, "retry_cap", 10.0, where),
        timeout=_duration(data, "timeout", 60.0, where),
        keys=_keys(data, where),
        request=_request(data.get("request", {}), where),
        seed=_get(data, "seed", int, 0, where) if "seed" in data else None,
    )
    slo = _get(data, "slo", list, [], where)
    embedded = data.get("embedded", {})
    bad = sorted(set(embedded) - set(_EMBEDDED))
    if bad:
        raise ConfigError(f"{where}: unknown [embedded] setting(s) {', '.join(bad)}")
    args: list[str] = []
    for key, option in _EMBEDDED.items():
        if key in embedded:
            seconds = parse_duration(embedded[key], f"{where}: embedded.{key}")
            args += [option, f"{seconds:g}"]
    return Profile(name, plan, tuple(str(s) for s in slo), tuple(args))


def _ratelimit_profile(name: str, data: dict[str, Any], where: str) -> Profile:
    """A ``user = "ratelimit"`` profile: its timeline follows from ``[ratelimit]``."""
    allowed = {"description", "user", "timeout", "request", "ratelimit", "seed"}
    extra = sorted(set(data) - allowed)
    if extra:
        raise ConfigError(
            f"{where}: the ratelimit profile derives its timeline from [ratelimit]; "
            f"remove {', '.join(extra)}"
        )
    settings = parse_settings(data.get("ratelimit", {}), where)
    plan = _limiter_plan(
        Plan(
            profile=name,
            base_url="",
            stages=(),
            user="ratelimit",
            description=_get(data, "description", str, "", where),
            warmup=0.0,
            drain=5.0,
            timeout=_duration(data, "timeout", 30.0, where),
            request=_request(data.get("request", {}), where),
            seed=_get(data, "seed", int, 0, where) if "seed" in data else None,
        ),
        settings,
    )
    return Profile(name, plan, (), ())


def _limiter_plan(plan: Plan, settings: RateLimitSettings) -> Plan:
    """``plan`` with the timeline, keys and cap that ``settings`` need."""
    where = f"profile {plan.profile!r}"
    if settings.endpoint not in ENDPOINTS or ENDPOINTS[settings.endpoint][1]:
        raise ConfigError(
            f"{where}: ratelimit.endpoint must be a non-streamed endpoint of {_names()}"
        )
    return replace(
        plan,
        stages=(Stage(duration=settings.estimated_seconds(), users=1),),
        keys=settings.roles,
        max_requests=settings.request_cap(),
        ratelimit=settings,
    )


def _names() -> str:
    return ", ".join(ENDPOINTS)


def _get(data: dict[str, Any], key: str, kind: type, default: Any, where: str) -> Any:
    value = data.get(key, default)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ConfigError(f"{where}: {key} must be of type {kind.__name__}")
    return value


def _positive_int(
    data: dict[str, Any], key: str, default: int, where: str, minimum: int = 1
) -> int:
    value = _get(data, key, int, default, where)
    if value < minimum:
        raise ConfigError(f"{where}: {key} must be >= {minimum}")
    return int(value)


def _duration(data: dict[str, Any], key: str, default: float, where: str) -> float:
    """A duration setting (seconds, or ``90s``, ``1m30s``, ``500ms``), >= 0."""
    value = parse_duration(data.get(key, default), f"{where}: {key}")
    if value < 0:
        raise ConfigError(f"{where}: {key} must be >= 0")
    return value


def _keys(data: dict[str, Any], where: str) -> tuple[str, ...]:
    keys = _get(data, "keys", list, ["main"], where)
    if not keys or not all(isinstance(k, str) and k for k in keys):
        raise ConfigError(f"{where}: keys must be a non-empty list of key roles")
    return tuple(keys)


def _stages(raw: Any, where: str) -> tuple[Stage, ...]:
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{where}: needs at least one [[stages]] entry")
    stages = []
    for i, entry in enumerate(raw):
        at = f"{where}: stages[{i}]"
        if not isinstance(entry, dict) or set(entry) - {
            "duration",
            "users",
            "rate",
            "spawn_rate",
        }:
            raise ConfigError(f"{at} may set duration, users, rate and spawn_rate only")
        duration = parse_duration(entry.get("duration"), f"{at}.duration")
        users = entry.get("users")
        if not isinstance(users, int) or isinstance(users, bool) or users < 1:
            raise ConfigError(f"{at}.users must be a positive integer")
        rate = entry.get("rate")
        spawn = entry.get("spawn_rate")
        stages.append(
            Stage(
                duration=duration,
                users=users,
                rate=None if rate is None else finite_number(rate, f"{at}.rate"),
                spawn_rate=None
                if spawn is None
                else finite_number(spawn, f"{at}.spawn"),
            )
        )
    if any(s.duration <= 0 for s in stages):
        raise ConfigError(f"{where}: every stage needs a duration > 0")
    if len({s.rate is None for s in stages}) > 1:
        raise ConfigError(f"{where}: stages are either all open loop (rate) or none")
    return tuple(stages)


def _request(raw: Any, where: str) -> RequestSettings:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: [request] must be a table")
    known = {f.name: f for f in fields(RequestSettings)}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ConfigError(f"{where}: unknown [request] setting(s) {', '.join(unknown)}")
    defaults = RequestSettings()
    for key, value in raw.items():
        if type(value) is not type(getattr(defaults, key)):
            raise ConfigError(f"{where}: request.{key} has the wrong type")
    return replace(defaults, **raw)


def resolve_plan(profile: Profile, overrides: Overrides) -> Plan:
    """The profile's plan with the command-line overrides applied and checked."""
    plan = profile.plan
    o = overrides
    if plan.ratelimit is not None:
        return _resolve_limiter(plan, plan.ratelimit, o)
    if o.limiter_options:
        raise ConfigError(
            f"{', '.join(o.limiter_options)} apply to the ratelimit profile only"
        )
    if o.rate is not None and not plan.open_loop:
        raise ConfigError(
            f"profile {profile.name!r} is closed loop (users); --rate applies to "
            "open-loop profiles (stages with a rate, e.g. steady, ramp)"
        )
    for label, value in (("--users", o.users), ("--max-requests", o.max_requests)):
        if value is not None and value < 1:
            raise ConfigError(f"{label} must be at least 1")
    for label, num in (("--rate", o.rate), ("--duration", o.duration)):
        if num is not None and not (math.isfinite(num) and num > 0):
            raise ConfigError(f"{label} must be a positive number")
    if o.warmup is not None and not (math.isfinite(o.warmup) and o.warmup >= 0):
        raise ConfigError("--warmup must be >= 0")
    if o.retries is not None and o.retries < 0:
        raise ConfigError("--retries must be >= 0")
    stages = scale_stages(plan.stages, users=o.users, rate=o.rate, duration=o.duration)
    total = sum(s.duration for s in stages)
    warmup = plan.warmup if o.warmup is None else o.warmup
    if o.warmup is None:
        warmup = min(warmup, total / 4)  # a shortened run keeps most of its window
    if warmup >= total:
        raise ConfigError(
            f"--warmup ({warmup:g} s) must be shorter than the run ({total:g} s)"
        )
    cap = o.max_requests
    if cap is None:  # the cap grows with the planned volume, so it stays a safety net
        cap = math.ceil(plan.max_requests * _volume(stages) / _volume(plan.stages))
    return replace(
        plan,
        stages=stages,
        warmup=warmup,
        max_requests=max(1, cap),
        retries=plan.retries if o.retries is None else o.retries,
    )


def _volume(stages: tuple[Stage, ...]) -> float:
    """A measure of planned requests: rate (or users) × seconds, summed."""
    return (
        sum((s.rate if s.rate is not None else s.users) * s.duration for s in stages)
        or 1.0
    )


def _resolve_limiter(plan: Plan, settings: RateLimitSettings, o: Overrides) -> Plan:
    """The ratelimit profile: its own options; the timeline follows the windows."""
    fixed = {
        "--users": o.users,
        "--rate": o.rate,
        "--duration": o.duration,
        "--warmup": o.warmup,
        "--retries": o.retries,
    }
    given = [flag for flag, value in fixed.items() if value is not None]
    if given:
        raise ConfigError(
            f"{', '.join(given)} do not apply to the ratelimit profile: its timeline "
            "follows the window (--window, --windows), it sends no retries"
        )
    changes: dict[str, Any] = {}
    if o.keys is not None:
        changes["keys"] = o.keys
    if o.declared_limit is not None:
        changes["declared_limit"] = o.declared_limit
    if o.window is not None:
        if not math.isfinite(o.window):
            raise ConfigError("--window must be a number of seconds")
        changes["window"] = o.window
    if o.windows is not None:
        changes["windows"] = o.windows
    settings = validated(replace(settings, **changes), "ratelimit")
    plan = _limiter_plan(plan, settings)
    if o.max_requests is not None:
        if o.max_requests < 1:
            raise ConfigError("--max-requests must be at least 1")
        plan = replace(plan, max_requests=o.max_requests)
    return plan
