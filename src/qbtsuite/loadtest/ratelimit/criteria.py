"""What each limiter check requires, in words and with the run's numbers.

Printed in ``load.json`` and in every report, so a reader can tell what a verdict
means without reading code.
"""

from __future__ import annotations

import math

from qbtsuite.loadtest.ratelimit.settings import RateLimitSettings

__all__ = ["criteria"]


def criteria(s: RateLimitSettings) -> dict[str, str]:
    """What each check requires, with this run's numbers (printed in every report)."""
    limit, k = s.declared_limit, s.windows
    return {
        "limit": (
            f"RATE-006. The key is driven open loop at {s.overdrive:g}× its rate for "
            f"{k} + ¾ windows of {s.window:g} s; the last {k} are measured (the first "
            "¾ lets every limiter reach its periodic regime and puts the span's edges "
            "where a sliding window admits nothing). Admitted requests, counted by "
            f"sending time over that span, must be at most {k} × {limit} + 1 = "
            f"{k * limit + 1} (one request of slack for a fixed window's boundary "
            "arrival)."
        ),
        "rejections": (
            "RATE-001, RATE-002. Every 429 of the run has the error envelope "
            '({"error": {"message", "type", "code"}}) with code rate_limit_exceeded '
            "and a Retry-After of integer seconds >= 1; a key over its limit is "
            "answered 429, not another error status."
        ),
        "recovery": (
            "RATE-003, RATE-004. From a fresh start, requests one after another until "
            f"the first 429, with Retry-After R: R <= {math.ceil(s.window)} s (a "
            f"{s.window:g} s window never needs longer); a request sent "
            f"R − 1 − {s.early_margin:g} s after the refused request was sent is "
            "refused (Retry-After is the exact wait w rounded up, so w > R − 1, and "
            "the limiter decided after the request left: nothing frees before R − 1 "
            f"s; {s.early_margin:g} s covers the transit; R − 0.5 s would not do, "
            "since w may be just above R − 1; needs R >= 2, as with R = 1 w may be "
            f"a millisecond); a request sent {s.late_margin:g} s after R has elapsed "
            "since the 429 arrived is admitted (the limiter decided before the answer "
            "left, so w has elapsed); and while driven the key is admitted at least "
            f"{k} × {limit} − 1 = {k * limit - 1} in the measured windows (the window "
            "clears). Retry-Afters above two windows are not waited for."
        ),
        "boundary": (
            "RATE-006. The limiter's own rate (its steady-state admissions per "
            "window, at least the declared limit) is never exceeded within one "
            "window's length: not by the two bursts sent "
            f"{s.boundary_before:g} s before and {s.boundary_after:g} s after the "
            "located window boundary (where a refused key is first admitted again), "
            "and not by any admitted requests of the key (counted certainly within "
            "one window: first sent → last answered shorter than the window)."
        ),
        "isolation": (
            "RATE-007. While the key is saturated (refused, and driven above its "
            "limit), every request of the witness keys is admitted, and each "
            f"witness's p50 latency is at most {s.latency_factor:g} × its p50 "
            f"without the load + {s.latency_slack_ms:g} ms (witnesses send "
            f"{s.witness_rate:g} requests/s each, half the declared rate)."
        ),
        "latency": (
            "Reported, not judged: e2e of 429 answers against admitted ones "
            "(p50/p95) while the key is driven."
        ),
    }
