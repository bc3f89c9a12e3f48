"""Counting admitted requests in windows, and reading what a 429 said.

Client clocks only: a request's ``t`` is when it was sent, ``end`` when its answer was
complete; the server decided somewhere in between. Two ways of counting follow:

- *certainly within one window* (:func:`most_within`): requests whose span from the
  first one's sending to the last one's answer is shorter than the window were
  certainly decided within less than one window, whatever the network did; a correct
  sliding-window limiter never has more than its limit in such a group;
- *sent within a span* (:func:`sent_between`, :func:`fewest_per_window`): counted by
  sending time, for rates over spans whose edges no request sits on.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence

from qbtsuite.loadtest.samples import Sample

__all__ = [
    "ERROR_CODE",
    "admitted",
    "admitted_times",
    "envelope_problems",
    "fewest_per_window",
    "integer_retry_after",
    "most_within",
    "sent_between",
]

ERROR_CODE = "rate_limit_exceeded"  # spec/getting-started.txt, the 429 row
_DIGITS = re.compile(r"[0-9]{1,9}")


def admitted(sample: Sample) -> bool:
    """Answered 2xx (anything else, 429 included, is not admitted)."""
    return 200 <= sample.get("status", 0) <= 299


def admitted_times(samples: Iterable[Sample]) -> list[tuple[float, float]]:
    """``(sent, answered)`` of the admitted samples, in sending order."""
    return sorted((s["t"], s["end"]) for s in samples if admitted(s))


def integer_retry_after(value: str | None) -> int | None:
    """Retry-After as delta-seconds (digits only, RFC 9110 §10.2.3), else None."""
    if value is None:
        return None
    text = value.strip()
    return int(text) if _DIGITS.fullmatch(text) else None


def sent_between(samples: Iterable[Sample], start: float, end: float) -> int:
    """Admitted samples sent in ``[start, end)``."""
    return sum(1 for s in samples if admitted(s) and start <= s["t"] < end)


def most_within(
    times: Sequence[tuple[float, float]], window: float
) -> tuple[int, float, float]:
    """The largest group certainly decided within less than ``window`` seconds.

    Returns ``(count, first sent, last answered)`` (``(0, 0, 0)`` when empty).
    ``times`` are ``(sent, answered)`` in sending order.
    """
    best = (0, 0.0, 0.0)
    end = 0
    for start, (first_sent, _) in enumerate(times):
        end = max(end, start)
        while end + 1 < len(times) and times[end + 1][1] - first_sent < window:
            end += 1
        count = end - start + 1
        if count > best[0]:
            best = (count, first_sent, times[end][1])
    return best


def fewest_per_window(
    samples: Iterable[Sample], start: float, end: float, window: float
) -> int | None:
    """The fewest admitted requests sent in any ``[x, x + window)`` inside the span.

    The minimum is reached with ``x`` at the span's start or just after an admitted
    request, so those are the only starts tried. None when the span is shorter than
    one window.
    """
    if end - start < window:
        return None
    sent = sorted(s["t"] for s in samples if admitted(s) and start <= s["t"] < end)
    fewest = bisect_left(sent, start + window)  # [start, start + window)
    for t in sent:
        if t + window >= end:
            break
        # (t, t + window]: the span that starts just after this request
        fewest = min(fewest, bisect_right(sent, t + window) - bisect_right(sent, t))
    return fewest


def envelope_problems(sample: Sample) -> list[str]:
    """What a 429 answer lacks: the error envelope, its code, an integer Retry-After.

    Spec/getting-started.txt: errors are ``{"error": {"message", "type", "code"}}``,
    a limited key gets ``rate_limit_exceeded``, and "A 429 response includes a
    Retry-After header in seconds" (RATE-001, RATE-002).
    """
    problems: list[str] = []
    facts = sample.get("envelope") or {}
    if not facts.get("json"):
        problems.append("body is not JSON")
    elif not facts.get("error_object"):
        problems.append("no error object")
    else:
        if not facts.get("message"):
            problems.append("error.message missing")
        if not isinstance(facts.get("type"), str):
            problems.append("error.type missing")
        if facts.get("code") != ERROR_CODE:
            problems.append(f"error.code {facts.get('code')!r}, not {ERROR_CODE!r}")
    raw = sample.get("retry_after")
    if raw is None:
        problems.append("no Retry-After header")
    else:
        seconds = integer_retry_after(raw)
        if seconds is None:
            problems.append(f"Retry-After {raw!r} is not integer seconds")
        elif seconds < 1:
            problems.append(f"Retry-After {raw!r} is below 1 s")
    return problems
