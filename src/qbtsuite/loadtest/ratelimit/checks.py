"""The limiter's verdicts: one per check and key under test, from the exact samples.

Each check has parts; a part passes, fails, or is *not judged* (with the reason, e.g.
the check that catches what made it impossible). A check fails when a part fails,
is ``incomplete`` when some parts could not be judged and none failed, and passes
when every part passed. Only a failed check fails the run. The criteria (and their
tolerances) are :func:`criteria`, printed in every report.

Each limiter bug fails one check: twice the limit admitted → ``limit``; a malformed
429 or Retry-After → ``rejections``; a Retry-After that lies or a window that never
clears → ``recovery``; a burst across a window boundary → ``boundary``; one key
throttling another → ``isolation``. The split follows the requirements
(RATE-006 / RATE-001–002 / RATE-003–004 / RATE-006 / RATE-007): ``limit`` holds the
upper bound of the admitted rate, ``recovery`` the lower one ("the key is admitted its
limit again, every window"), so that a window that never clears is one finding, not
two.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from qbtsuite.loadtest.ratelimit.scenario import (
    BOUNDARY_AFTER,
    BOUNDARY_BEFORE,
    BOUNDARY_LOCATE,
    DRIVE,
    ISOLATION_BASELINE,
    ISOLATION_LOAD,
    ISOLATION_LOADED,
    PHASES,
    RECOVERY_AFTER,
    RECOVERY_BEFORE,
    RECOVERY_FILL,
    drive_capacity,
    drive_grid,
)
from qbtsuite.loadtest.ratelimit.settings import RateLimitSettings
from qbtsuite.loadtest.ratelimit.windows import (
    admitted,
    admitted_times,
    envelope_problems,
    fewest_per_window,
    integer_retry_after,
    most_within,
    sent_between,
)
from qbtsuite.loadtest.samples import Sample
from qbtsuite.loadtest.stats import distribution

__all__ = [
    "CHECKS",
    "FAIL",
    "INCOMPLETE",
    "INFO",
    "NOT_JUDGED",
    "PASS",
    "Check",
    "Part",
    "criteria",
    "judge",
]

PASS, FAIL, NOT_JUDGED, INCOMPLETE, INFO = (
    "pass",
    "fail",
    "not judged",
    "incomplete",
    "info",
)
CHECKS = ("limit", "rejections", "recovery", "boundary", "isolation", "latency")


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


@dataclass(frozen=True, slots=True)
class Part:
    """One judged statement of a check."""

    name: str
    verdict: str
    detail: str


@dataclass(slots=True)
class Check:
    """One check of one key: its parts and the figures it measured."""

    name: str
    parts: list[Part] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    informative: bool = False

    @property
    def verdict(self) -> str:
        if self.informative:
            return INFO
        verdicts = {p.verdict for p in self.parts}
        if FAIL in verdicts:
            return FAIL
        if not verdicts or verdicts == {NOT_JUDGED}:
            return NOT_JUDGED
        return INCOMPLETE if NOT_JUDGED in verdicts else PASS

    def add(self, name: str, ok: bool | None, detail: str) -> None:
        """A part: ``ok`` None means not judged (``detail`` says why)."""
        verdict = NOT_JUDGED if ok is None else PASS if ok else FAIL
        self.parts.append(Part(name, verdict, detail))

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "parts": [asdict(p) for p in self.parts],
            "figures": self.figures,
        }


class _Key:
    """The samples of one key under test, by phase."""

    def __init__(self, subject: str, samples: Sequence[Sample]) -> None:
        self.subject = subject
        self.all = sorted(
            (x for x in samples if x.get("subject") == subject), key=lambda x: x["t"]
        )
        self.own = [x for x in self.all if x.get("key") == subject]

    def phase(self, phase: str, role: str | None = None) -> list[Sample]:
        role = self.subject if role is None else role
        return [x for x in self.all if x.get("phase") == phase and x.get("key") == role]


def _steady(key: _Key, s: RateLimitSettings) -> tuple[list[Sample], float, float]:
    """The drive's samples and its measured span (0, 0 when there was no drive)."""
    drive = key.phase(DRIVE)
    grid = drive_grid(drive)
    if grid is None:
        return drive, 0.0, 0.0
    start, end = s.steady_span(grid[0])
    return drive, start, end


def _limit(key: _Key, s: RateLimitSettings) -> Check:
    check = Check("limit")
    drive, start, end = _steady(key, s)
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


def _rejections(key: _Key) -> Check:
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


def _first_limited(key: _Key) -> tuple[Sample | None, int]:
    """The last fill's 429 and how many that fill admitted before it."""
    fill = key.phase(RECOVERY_FILL)
    for i in range(len(fill) - 1, -1, -1):
        if fill[i].get("status") == 429:
            start = i
            while start > 0 and fill[start - 1].get("status") != 429:
                start -= 1
            return fill[i], sum(1 for x in fill[start:i] if admitted(x))
    return None, sum(1 for x in fill if admitted(x))


def _recovery(key: _Key, s: RateLimitSettings) -> Check:
    check = Check("recovery")
    limited, fresh = _first_limited(key)
    check.figures = {"fresh_start_admitted": fresh}
    _retry_after_parts(check, key, s, limited)
    drive, start, end = _steady(key, s)
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
    check: Check, key: _Key, s: RateLimitSettings, limited: Sample | None
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


def _boundary(key: _Key, s: RateLimitSettings, capacity: int) -> Check:
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


def _latency_ms(samples: Sequence[Sample]) -> dict[str, float | int]:
    return distribution(x["e2e"] for x in samples if admitted(x))


def _isolation(key: _Key, s: RateLimitSettings) -> Check:
    check = Check("isolation")
    load = key.phase(ISOLATION_LOAD)
    refused = [x["t"] for x in load if x.get("status") == 429]
    witnesses = s.witnesses_for(key.subject)
    if not witnesses:
        check.add("admitted", None, "no witness key (--keys names one key only)")
        return check
    if not refused:
        why = "the key was never refused while driven: it was not saturated"
        check.add("admitted", None, why)
        check.add("latency", None, why)
        return check
    saturated = min(refused)
    threshold = f"{s.latency_factor:g} × baseline p50 + {s.latency_slack_ms:g} ms"
    figures: dict[str, Any] = {"saturated_from": round(saturated, 3)}
    bad: list[str] = []
    slow: list[str] = []
    judged = 0
    for w in witnesses:
        base = key.phase(ISOLATION_BASELINE, w)
        loaded = [x for x in key.phase(ISOLATION_LOADED, w) if x["t"] >= saturated]
        not_ok = [x for x in base + loaded if not admitted(x)]
        if not_ok:
            statuses = Counter(x.get("status") for x in not_ok)
            listed = ", ".join(f"{n}× {st}" for st, n in sorted(statuses.items()))
            bad.append(
                f"{w}: {len(not_ok)} of {len(base) + len(loaded)} refused ({listed})"
            )
        b, u = _latency_ms(base), _latency_ms(loaded)
        entry: dict[str, Any] = {"baseline_ms": b, "loaded_ms": u}
        if b.get("count", 0) >= 5 and u.get("count", 0) >= 5:
            limit = s.latency_factor * float(b["p50"]) + s.latency_slack_ms
            entry["threshold_ms"] = round(limit, 3)
            judged += 1
            if float(u["p50"]) > limit:
                slow.append(f"{w}: p50 {u['p50']:.1f} ms loaded > {limit:.1f} ms")
        figures[w] = entry
    check.figures = figures
    check.add(
        "admitted",
        not bad,
        "; ".join(bad) if bad else f"every request of {', '.join(witnesses)} admitted",
    )
    if not judged:
        check.add("latency", None, "fewer than 5 admitted witness requests per phase")
    else:
        check.add(
            "latency",
            not slow,
            "; ".join(slow) if slow else f"every witness p50 within {threshold}",
        )
    return check


def _rejection_latency(key: _Key) -> Check:
    driven = key.phase(DRIVE) + key.phase(ISOLATION_LOAD)
    limited = distribution(x["e2e"] for x in driven if x.get("status") == 429)
    ok = _latency_ms(driven)
    ratio = (
        round(float(limited["p50"]) / float(ok["p50"]), 3)
        if limited.get("count") and ok.get("count") and ok["p50"]
        else None
    )
    figures = {"rate_limited_ms": limited, "admitted_ms": ok, "p50_ratio": ratio}
    return Check("latency", figures=figures, informative=True)


def _phases(key: _Key, t0: float) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for phase in PHASES:
        xs = [x for x in key.all if x.get("phase") == phase]
        if xs:
            first = min(x["t"] for x in xs) - t0
            last = max(x.get("end", x["t"]) for x in xs) - t0
            out[phase] = [round(first, 3), round(last, 3)]
    return out


def judge(samples: Sequence[Sample], s: RateLimitSettings, t0: float) -> dict[str, Any]:
    """The ``ratelimit`` section of ``load.json`` (see the module doc)."""
    keys: dict[str, Any] = {}
    failed: list[str] = []
    for subject in s.keys:
        key = _Key(subject, samples)
        capacity = drive_capacity(key.phase(DRIVE), s)
        checks = [
            _limit(key, s),
            _rejections(key),
            _recovery(key, s),
            _boundary(key, s, capacity),
            _isolation(key, s),
            _rejection_latency(key),
        ]
        failed += [f"{subject}: {c.name}" for c in checks if c.verdict == FAIL]
        keys[subject] = {
            "witnesses": list(s.witnesses_for(subject)),
            "requests": len(key.all),
            "checks": {c.name: c.to_json() for c in checks},
            "phases": _phases(key, t0),
        }
    return {
        "settings": asdict(s),
        "criteria": criteria(s),
        "keys": keys,
        "failed": failed,
        "verdict": FAIL if failed else PASS,
    }
