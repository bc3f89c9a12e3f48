"""The ``recovery`` check: Retry-After is honest and the key recovers.

After a fresh start's first 429 with Retry-After R: R is at most the window; the
request sent R − 1 − early_margin s after the refused one is refused; the one sent
R + late_margin s after the answer is admitted; and the driven key is admitted its
limit again in every measured window (the lower bound of the admitted rate).
"""

from __future__ import annotations

import math

from qbtsuite.loadtest.ratelimit.driver import (
    RECOVERY_AFTER,
    RECOVERY_BEFORE,
    RECOVERY_FILL,
)
from qbtsuite.loadtest.ratelimit.keyview import KeyView, steady
from qbtsuite.loadtest.ratelimit.settings import RateLimitSettings
from qbtsuite.loadtest.ratelimit.verdict import Check
from qbtsuite.loadtest.ratelimit.windows import (
    admitted,
    integer_retry_after,
    sent_between,
)
from qbtsuite.loadtest.samples import Sample

__all__ = ["recovery_check"]


def _first_limited(key: KeyView) -> tuple[Sample | None, int]:
    """The last fill's 429 and how many that fill admitted before it."""
    fill = key.phase(RECOVERY_FILL)
    for i in range(len(fill) - 1, -1, -1):
        if fill[i].get("status") == 429:
            start = i
            while start > 0 and fill[start - 1].get("status") != 429:
                start -= 1
            return fill[i], sum(1 for x in fill[start:i] if admitted(x))
    return None, sum(1 for x in fill if admitted(x))


def recovery_check(key: KeyView, s: RateLimitSettings) -> Check:
    check = Check("recovery")
    limited, fresh = _first_limited(key)
    check.figures = {"fresh_start_admitted": fresh}
    _retry_after_parts(check, key, s, limited)
    drive, start, end = steady(key, s)
    if end <= start:
        check.add("sustained", None, "no drive was sent (the run stopped early)")
        return check
    total = sent_between(drive, start, end)
    least = s.windows * s.declared_limit - 1
    check.figures["admitted_in_measured_windows"] = total
    check.add(
        "sustained",
        total >= least,
        f"admitted {total} in {s.windows} windows while driven; at least {least} "
        "expected (the window clears)",
    )
    return check


def _retry_after_parts(
    check: Check, key: KeyView, s: RateLimitSettings, limited: Sample | None
) -> None:
    if limited is None:
        why = "the key was never refused from a fresh start (the limit check judges it)"
        for part in ("bound", "before", "after"):
            check.add(part, None, why)
        return
    raw = limited.get("retry_after")
    wait = integer_retry_after(raw)
    check.figures["retry_after"] = raw
    if wait is None:
        why = f"Retry-After {raw!r} is not integer seconds (the rejections check fails it)"
        for part in ("bound", "before", "after"):
            check.add(part, None, why)
        return
    ceiling = math.ceil(s.window)
    check.add(
        "bound",
        wait <= ceiling,
        f"Retry-After {wait} s; a {s.window:g} s window frees a slot within "
        f"{ceiling} s",
    )
    if wait > s.max_wait:
        why = f"Retry-After {wait} s is longer than the {s.max_wait:g} s waited for"
        check.add("before", None, why)
        check.add("after", None, why)
        return
    before = key.phase(RECOVERY_BEFORE)
    if wait < 2:
        check.add(
            "before", None, "Retry-After 1 s: no instant before it is certainly refused"
        )
    elif not before:
        check.add("before", None, "not sent (the run stopped early)")
    else:
        x = before[0]
        offset = x["t"] - limited["t"]
        check.figures["before_sent_after_s"] = round(offset, 3)
        detail = (
            f"sent {offset:.2f} s after the refused request (Retry-After {wait} s): "
            f"answered {x.get('status')}, expected 429"
        )
        if x.get("status") == 429:
            check.add("before", True, detail)
        elif x["end"] - limited["t"] <= wait - 1:
            check.add("before", False, detail)  # decided before R − 1: certainly early
        else:  # sent late (a busy client): it may have arrived after R − 1
            check.add(
                "before",
                None,
                f"{detail}; answered {x['end'] - limited['t']:.2f} s after, past "
                f"R − 1 = {wait - 1} s, so it may have arrived when a slot was free",
            )
    after = key.phase(RECOVERY_AFTER)
    if not after:
        check.add("after", None, "not sent (the run stopped early)")
        return
    x = after[0]
    offset = x["t"] - limited["end"]
    check.figures["after_sent_after_s"] = round(offset, 3)
    check.add(
        "after",
        admitted(x),
        f"sent {offset:.2f} s after the 429 arrived (Retry-After {wait} s): "
        f"answered {x.get('status')}, expected 2xx",
    )
