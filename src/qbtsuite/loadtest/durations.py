"""Durations as Locust writes them: ``90s``, ``1m30s``, ``2h``, ``500ms``.

One parser for every duration of ``qbtsuite load`` and of a profile file (run time,
warm-up, drain, stage durations, timeouts, the rate-limit window, SLO latency
bounds). A duration is a plain number of seconds (``90``, ``1.5``; a TOML number
too), or one or more ``NUMBER UNIT`` parts with the units ``h``, ``m``, ``s``, ``ms``
and ``us``, largest first and each at most once (``1h30m``, ``1m30.5s``, ``2s500ms``).
Every other text is one error line naming the option and the value.
"""

from __future__ import annotations

import math
import re

from qbtsuite.errors import ConfigError

__all__ = ["EXAMPLES", "format_duration", "parse_duration"]

EXAMPLES = "90s, 1m30s, 2h"
_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)"
_PLAIN = re.compile(rf"[+-]?{_NUMBER}")
_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001, "us": 0.000001}
# Largest unit first, each at most once; "ms" must not be read as "m" then "s".
_PARTS = re.compile(
    "".join(rf"(?:(?P<{u}>{_NUMBER}){u}(?![a-z]))?" for u in _UNITS),
)


def parse_duration(value: object, where: str, plain: float = 1.0) -> float:
    """``value`` in seconds; ``where`` names it in the error (``--duration``,
    ``profile 'smoke': warmup``). A plain number is ``plain`` seconds each (1: seconds).

    ConfigError: ``--duration '1x': expected e.g. 90s, 1m30s, 2h``.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise _bad(where, value)
        return float(value) * plain
    if not isinstance(value, str):
        raise _bad(where, value)
    text = value.strip().lower()
    if _PLAIN.fullmatch(text):
        return float(text) * plain
    match = _PARTS.fullmatch(text)
    if not text or match is None:
        raise _bad(where, value)
    return sum(float(n) * _UNITS[u] for u, n in match.groupdict().items() if n)


def _bad(where: str, value: object) -> ConfigError:
    return ConfigError(f"{where} {value!r}: expected e.g. {EXAMPLES}")


def format_duration(seconds: float) -> str:
    """``90.0`` → ``1m30s``, ``0.25`` → ``250ms``, ``7200`` → ``2h`` (for messages)."""
    if 0 < seconds < 1:
        return f"{seconds * 1000:g}ms"
    whole, frac = divmod(seconds, 1.0)
    hours, rest = divmod(int(whole), 3600)
    minutes, secs = divmod(rest, 60)
    out = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
    tail = secs + frac
    if tail or not out:
        out += f"{round(tail, 3):g}s"
    return out
