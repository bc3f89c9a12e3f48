"""The checks of one key alone: ``limit`` (not more than declared per window),
``rejections`` (every 429 well formed) and ``boundary`` (no burst across a window
boundary). See :mod:`.criteria` for the words and :mod:`.verdict` for the verdicts.

Each limiter bug fails one check: twice the limit admitted → ``limit``; a malformed
429 or Retry-After → ``rejections``; a Retry-After that lies or a window that never
clears → ``recovery`` (:mod:`.recovery`); a burst across a window boundary →
``boundary``; one key throttling another → ``isolation`` (:mod:`.isolation`). The
split follows the requirements (RATE-006 / RATE-001–002 / RATE-003–004 / RATE-006 /
RATE-007): ``limit`` holds the upper bound of the admitted rate and ``recovery`` the
lower one ("the key is admitted its limit again, every window"), so that a window
that never clears is one finding, not two.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from qbtsuite.loadtest.ratelimit.driver import (
    BOUNDARY_AFTER,
    BOUNDARY_BEFORE,
    BOUNDARY_LOCATE,
)
from qbtsuite.loadtest.ratelimit.keyview import KeyView, steady
from qbtsuite.loadtest.ratelimit.scenario import drive_grid
from qbtsuite.loadtest.ratelimit.settings import RateLimitSettings
from qbtsuite.loadtest.ratelimit.verdict import Check
from qbtsuite.loadtest.ratelimit.windows import (
    admitted,
    admitted_times,
    envelope_problems,
    fewest_per_window,
    most_within,
    sent_between,
)

__all__ = ["boundary_check", "limit_check", "rejections_check"]


def limit_check(key: KeyView, s: RateLimitSettings) -> Check:
    check = Check("limit")
    drive, start, end = steady(key, s)
    if end <= start:
        check.add("rate", None, "no drive was sent (the run stopped early)")
        return check
    total = sent_between(drive, start, end)
    allowed = s.windows * s.declared_limit + 1
    in_span = [x for x in drive if start <= x["t"] < end]
    grid = drive_grid(drive)
    check.figures = {
        "declared_limit": s.declared_limit,
        "window_s": s.window,
        "windows": s.windows,
        "drive_rate_per_s": round(grid[1], 3) if grid else None,
        "admitted": total,
        "admitted_per_window": round(total / s.windows, 3),
        "allowed_at_most": allowed,
        "fewest_in_one_window": fewest_per_window(drive, start, end, s.window),
        "most_within_one_window": most_within(admitted_times(in_span), s.window)[0],
        "refused": sum(1 for x in in_span if x.get("status") == 429),
    }
    check.add(
        "rate",
        total <= allowed,
        f"admitted {total} in {s.windows} windows of {s.window:g} s "
        f"({total / s.windows:.1f} per window) against a declared "
        f"{s.declared_limit}; at most {allowed} allowed",
    )
    return check


def rejections_check(key: KeyView) -> Check:
    check = Check("rejections")
    limited = [x for x in key.all if x.get("status") == 429]
    problems: Counter[str] = Counter()
    examples: list[dict[str, Any]] = []
    for x in limited:
        found = envelope_problems(x)
        problems.update(found)
        if found and len(examples) < 5:
            examples.append(
                {
                    "key": x.get("key"),
                    "phase": x.get("phase"),
                    "retry_after": x.get("retry_after"),
                    "problems": found,
                }
            )
    other = Counter(
        x["status"] for x in key.own if x.get("status", 0) >= 300 and x["status"] != 429
    )
    values = Counter(str(x.get("retry_after")) for x in limited)
    check.figures = {
        "rate_limited": len(limited),
        "problems": dict(problems.most_common()),
        "examples": examples,
        "retry_after_values": dict(values.most_common(10)),
        "other_refusals": {str(k): v for k, v in sorted(other.items())},
        "no_answer": sum(1 for x in key.own if x.get("status", 0) == 0),
    }
    if not limited:
        check.add("format", None, "no 429 was answered (the limit check judges why)")
    else:
        bad = sum(1 for x in limited if envelope_problems(x))
        summary = "; ".join(f"{n}× {p}" for p, n in problems.most_common(3))
        check.add(
            "format",
            bad == 0,
            f"{bad} of {len(limited)} 429 answers malformed: {summary}"
            if bad
            else f"all {len(limited)} 429 answers carry the envelope, "
            "rate_limit_exceeded and an integer Retry-After",
        )
    if other:
        listed = ", ".join(f"{n}× {status}" for status, n in sorted(other.items()))
        check.add("status", False, f"refused with another status: {listed}")
    elif limited:
        check.add("status", True, "every refusal of the key was a 429")
    return check


def boundary_check(key: KeyView, s: RateLimitSettings, capacity: int) -> Check:
    check = Check("boundary")
    first = key.phase(BOUNDARY_BEFORE)
    second = key.phase(BOUNDARY_AFTER)
    locate = [x for x in key.phase(BOUNDARY_LOCATE) if admitted(x)]
    check.figures = {"own_rate_per_window": capacity, "burst_size": len(first)}
    if not first or not second:
        why = (
            "the key was not admitted again within a window and a second (the "
            "recovery check judges it)"
            if not locate
            else "the bursts were not sent (the run stopped early)"
        )
        check.add("probe", None, why)
    else:
        both = admitted_times(first + second)
        count, begin, finish = most_within(both, s.window)
        check.figures |= {
            "admitted_before": sum(map(admitted, first)),
            "admitted_after": sum(map(admitted, second)),
            "bursts_span_s": round(second[-1]["end"] - first[0]["t"], 3),
        }
        check.add(
            "probe",
            count <= capacity,
            f"{check.figures['admitted_before']} + {check.figures['admitted_after']} "
            f"admitted by the bursts around the located boundary; {count} within "
            f"{finish - begin:.2f} s; the limiter's own rate is {capacity} per "
            f"{s.window:g} s",
        )
    count, begin, finish = most_within(admitted_times(key.own), s.window)
    check.figures["most_within_one_window"] = count
    check.add(
        "sliding",
        count <= capacity if count else None,
        f"at most {count} admitted requests of the key within one window "
        f"({finish - begin:.2f} s from first sent to last answered); its own rate "
        f"is {capacity} per {s.window:g} s"
        if count
        else "no request of the key was admitted",
    )
    return check
