"""Rate limits, quick form: one throttling scenario of the low-limit key, judged per requirement.

getting-started.txt: "Limits are per API key, evaluated per minute … A 429 response
includes a Retry-After header in seconds; back off and retry." The scenario needs the
low-limit key and its declared limit (``rate_limit_rpm`` per ``rate_limit_window``,
4 s on the embedded server). It is one test, so it runs once, in one process, whatever
the order of tests or their distribution over workers; each requirement is recorded
on its own (``record.skipped`` when the target never got far enough to check it):

1. from a fresh start, ``rpm`` requests spread over 30 % of a window (all admitted),
   then more at twice that pace until the first 429 (RATE-001, RATE-002, RATE-005);
2. at once, one request of the second key (RATE-007);
3. one retry one second before Retry-After elapses (RATE-004, when it is ≥ 2 s), and
   one when it has elapsed (RATE-003); nothing else meanwhile, so no probe of ours
   takes the slot the second retry is owed. A Retry-After beyond the per-minute
   window (more than :data:`RETRY_AFTER_CEILING` or the declared window, plus
   rounding) is not waited: it fails RATE-003 as it stands (a per-minute limit
   never needs it) and RATE-005; the probes of step 4 then tell whether the key was
   admitted long before it elapsed (RATE-004);
4. steady probes at the faster pace until one window after the 429: with the spread
   fill, a limiter that refills everything at a boundary (a fixed window) admits more
   than ``rpm`` within one window's length, wherever its boundary falls (RATE-006).

It takes about 1.3 windows and half a second (~6 s on the embedded server). Requests go to
``/v1/embeddings`` with a two-letter input: cheap, and an inference endpoint that any
gateway rate-limits.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

import pytest

from qbtsuite.checks import (
    admitted_after_waiting,
    admitted_at_most_per_window,
    admitted_only_after_retry_after,
    admitted_up_to_limit,
    key_accepted,
    refused_with,
    retry_after_at_most,
    retry_after_is_integer_seconds,
    retry_after_value,
    retry_after_within_window,
    sent_surely_before_retry_after,
    still_limited_before_retry_after,
)
from qbtsuite.errors import CheckFailure, MissingKey
from qbtsuite.harness.recording import RequirementRecorder
from qbtsuite.harness.selection import capability_skip_reason
from qbtsuite.harness.verdicts import judge_error
from qbtsuite.target.client import SuiteClient
from qbtsuite.target.config import TargetConfig
from qbtsuite.target.exchange import Exchange
from qbtsuite.target.throttle import ThrottlePolicy

# RATE-007 also needs "second_key": undeclared, that request is not sent and RATE-007
# alone is reported skipped.
pytestmark = [
    pytest.mark.capability("rate_limits"),
    pytest.mark.spends("low_limit"),
    pytest.mark.slow,
]
SECOND_KEY = "second_key"

FILL_SHARE = 0.3  # the first rpm requests are spread over this share of a window
EARLY_MARGIN = 0.2  # RATE-004's retry leaves this much of its second to the network
RETRY_AFTER_CEILING = 60  # seconds: the per-minute window (RATE-005)
ROUNDING = 5.0  # seconds past the window a Retry-After may still be waited for


def longest_wait(window: float) -> float:
    """The longest Retry-After the scenario waits for: one window, with rounding.

    "Limits are per API key, evaluated per minute": a key is admitted again at most
    one window after its 429, so a longer Retry-After is wrong on its face.
    """
    return max(float(RETRY_AFTER_CEILING), window) + ROUNDING


def admitted(ex: Exchange) -> bool:
    return 200 <= ex.status_code <= 299


@dataclass
class Throttle:
    """What the scenario saw; each test judges its part."""

    rpm: int
    window: float
    fill: list[Exchange] = field(default_factory=list)  # fresh start → first 429
    restarted: bool = False
    limited: Exchange | None = None  # the first 429
    second: Exchange | None = None
    second_missing: str = ""
    early: Exchange | None = None
    after: Exchange | None = None
    waited: float = 0.0
    not_waited: str = ""  # why RATE-003/004 could not be checked
    beyond_window: bool = False  # Retry-After longer than any per-minute limit needs
    sent: list[Exchange] = field(default_factory=list)  # every low-limit request

    def retry_after(self) -> float | None:
        return retry_after_value(self.limited) if self.limited else None


class _Pacer:
    """Sends the low-limit key's request at given monotonic times, bounded in count."""

    def __init__(self, api: SuiteClient, config: TargetConfig, throttle: Throttle):
        # The second key's answer is RATE-007's evidence: never waited out.
        spent = api.throttle.policy.spends | {"second"}
        self.api = api.with_policy(ThrottlePolicy(spent))
        self.body = {"model": config.model("embeddings"), "input": "Hi"}
        self.throttle = throttle
        self.cap = 4 * throttle.rpm + 200

    @property
    def exhausted(self) -> bool:
        return len(self.throttle.sent) >= self.cap

    def at(self, when: float, key: str = "low_limit") -> Exchange:
        time.sleep(max(0.0, when - time.monotonic()))
        ex = self.api.request("POST", "embeddings", key=key, json=self.body)
        if key == "low_limit":
            self.throttle.sent.append(ex)
        return ex


def _fill(pacer: _Pacer, t: Throttle) -> list[Exchange]:
    """``rpm`` spread requests, then faster ones until the first 429 (or a window)."""
    gap = FILL_SHARE * t.window / t.rpm
    start = time.monotonic()
    out: list[Exchange] = []
    for i in range(t.rpm):
        out.append(pacer.at(start + i * gap))
        if out[-1].status_code == 429:
            return out
    begin = time.monotonic()
    for i in range(2 * t.rpm + 1):
        out.append(pacer.at(begin + i * gap / 2))
        if out[-1].status_code == 429 or time.monotonic() > start + t.window:
            break
    return out


def run_scenario(api: SuiteClient, config: TargetConfig, rpm: int) -> Throttle:
    """Throttle the low-limit key once and record everything (see the module doc)."""
    t = Throttle(rpm=rpm, window=config.rate_limit_window)
    pacer = _Pacer(api, config, t)
    t.fill = _fill(pacer, t)
    if sum(map(admitted, t.fill)) < rpm and t.fill[-1].status_code == 429:
        # Refused early: the key may have been used just before (not a fresh
        # start). Let a whole window pass and start once more.
        time.sleep(t.window + 0.5)
        t.restarted = True
        t.fill = _fill(pacer, t)
    if t.fill[-1].status_code != 429:
        return t
    t.limited = limited = t.fill[-1]
    if config.declares(SECOND_KEY) is False:
        t.second_missing = capability_skip_reason([SECOND_KEY])
    else:
        try:
            t.second = pacer.at(0.0, key="second")
        except MissingKey as exc:
            t.second_missing = str(exc)
    wait = t.retry_after()
    if wait is None:
        t.not_waited = "the 429 has no Retry-After in seconds (see RATE-002)"
    elif wait > longest_wait(t.window):
        t.beyond_window = True
        t.not_waited = (
            f"Retry-After {wait:g} s is beyond the window "
            f"({longest_wait(t.window):g} s with rounding): not waited"
        )
    else:
        if wait >= 2:
            t.early = pacer.at(limited.sent + wait - 1 - EARLY_MARGIN)
        t.after = pacer.at(limited.first_byte + wait)
        t.waited = t.after.sent - limited.first_byte
    begin = time.monotonic()
    end = max(limited.first_byte + t.window, begin) + 0.5
    gap = FILL_SHARE * t.window / t.rpm / 2
    i = 0
    while time.monotonic() < end and not pacer.exhausted:
        pacer.at(begin + i * gap)
        i += 1
    return t


def _statuses(exchanges: list[Exchange]) -> str:
    counts = Counter(ex.status_code for ex in exchanges)
    return ", ".join(f"{n}× {status}" for status, n in sorted(counts.items()))


def _check_refused(t: Throttle, record: RequirementRecorder) -> None:
    """RATE-001: the request over the limit is 429 rate_limit_exceeded."""
    with record.check("RATE-001"):
        if t.limited is None:
            span = t.fill[-1].done - t.fill[0].sent
            raise CheckFailure(
                title="Limit never enforced",
                received=f"{len(t.fill)} requests in {span:.1f} s: {_statuses(t.fill)}",
                expected=f"429 rate_limit_exceeded after {t.rpm} requests",
            )
        refused_with(t.limited, 429, "rate_limit_exceeded", envelope=True)
    if t.limited is not None:
        judge_error(record, t.limited)


def _check_retry_after(
    t: Throttle, limited: Exchange, record: RequirementRecorder
) -> None:
    """RATE-002 on every 429; RATE-005, RATE-004 and RATE-003 on the first one."""
    with record.check("RATE-002"):
        for ex in [e for e in t.sent if e.status_code == 429]:
            retry_after_is_integer_seconds(ex)
    wait = t.retry_after()
    if wait is None:
        record.skipped("RATE-005", "the 429 has no Retry-After in seconds (RATE-002)")
    else:
        with record.check("RATE-005"):
            retry_after_at_most(limited, RETRY_AFTER_CEILING)
    if t.beyond_window and wait is not None:
        _judge_beyond_window(t, limited, wait, record)
        return
    if t.early is None:
        why = t.not_waited or f"Retry-After {wait:g} s is below 2 s"
        record.skipped("RATE-004", f"no retry before Retry-After: {why}")
    else:
        early = t.early.sent - limited.sent
        record.note(
            f"Retry-After {wait:g} s; retried {early:.2f} s after the 429's request"
        )
        if wait is not None and not sent_surely_before_retry_after(early, wait):
            record.skipped(
                "RATE-004",
                f"the retry meant for {wait - 1 - EARLY_MARGIN:.2f} s after the 429's "
                f"request went out at {early:.2f} s, within the last second of "
                f"Retry-After {wait:g} s (whole seconds, rounded up): it proves nothing",
            )
        else:
            with record.check("RATE-004"):
                still_limited_before_retry_after(t.early)
    if t.after is None:
        record.skipped("RATE-003", f"no retry after Retry-After: {t.not_waited}")
    else:
        with record.check("RATE-003"):
            admitted_after_waiting(t.after, t.waited)


def _judge_beyond_window(
    t: Throttle, limited: Exchange, wait: float, record: RequirementRecorder
) -> None:
    """RATE-003 and RATE-004 for a Retry-After no per-minute limit needs, unwaited.

    The probes after the 429 (step 4) ran for one window: the first one admitted
    proves the key was free again long before Retry-After elapsed.
    """
    readmitted = next(
        (ex for ex in t.sent if ex.sent > limited.sent and admitted(ex)), None
    )
    # The server decided the 429 after limited.sent and the admission before
    # readmitted.first_byte: the key was free again at most this long after its 429.
    elapsed = readmitted.first_byte - limited.sent if readmitted else None
    with record.check("RATE-003"):
        retry_after_within_window(limited, longest_wait(t.window), elapsed)
    if readmitted is None or elapsed is None:
        record.skipped(
            "RATE-004",
            f"no request was admitted within one window of the 429; "
            f"Retry-After {wait:g} s not waited",
        )
        return
    record.note(
        f"Retry-After {wait:g} s; the key was admitted again {elapsed:.1f} s after "
        "the 429's request"
    )
    with record.check("RATE-004"):
        admitted_only_after_retry_after(readmitted, elapsed, wait)


def _check_limit(t: Throttle, record: RequirementRecorder) -> None:
    """RATE-006: exactly rpm from a fresh start, never more within one window."""
    span = t.sent[-1].done - t.sent[0].sent
    record.note(
        f"{len(t.sent)} requests of the low-limit key over {span:.1f} s "
        f"({_statuses(t.sent)}); declared limit {t.rpm} per {t.window:g} s"
        + ("; the first burst was refused early, restarted" if t.restarted else "")
    )
    with record.check("RATE-006"):
        admitted_up_to_limit([ex.status_code for ex in t.fill], t.rpm)
    times = [(ex.sent, ex.first_byte) for ex in t.sent if admitted(ex)]
    with record.check("RATE-006"):
        admitted_at_most_per_window(times, t.rpm, t.window)


@pytest.mark.requirement(
    "RATE-001", "RATE-002", "RATE-003", "RATE-004", "RATE-005", "RATE-006", "RATE-007"
)
@pytest.mark.spend(requests=110)  # about rpm + 80 on the embedded server
def test_key_is_throttled_at_its_limit_per_key_and_readmitted_after_retry_after(
    api: SuiteClient, record: RequirementRecorder, target_config: TargetConfig
) -> None:
    """One scenario, each requirement judged on its own (see the module doc).

    A single test on purpose: the scenario must run once, in one process, whatever
    the distribution of tests over workers.
    """
    rpm = target_config.rate_limit_rpm
    if not target_config.has_key("low_limit"):
        raise MissingKey("low_limit")
    if not rpm:
        pytest.skip("no limit declared for the low_limit key (rate_limit_rpm)")
    if not target_config.model("embeddings"):  # every request would be a 400
        pytest.skip(
            "no embeddings model configured "
            "(QBTSUITE_MODELS_EMBEDDINGS or [models] embeddings)"
        )
    t = run_scenario(api, target_config, rpm)
    _check_refused(t, record)
    _check_limit(t, record)
    limited = t.limited
    if limited is None:
        for rid in ("RATE-002", "RATE-003", "RATE-004", "RATE-005", "RATE-007"):
            record.skipped(rid, "the low-limit key was never answered 429 (RATE-001)")
        return
    _check_retry_after(t, limited, record)
    if t.second is None:
        record.skipped("RATE-007", t.second_missing or "no second key configured")
    elif t.second.status_code == 429:
        # Its own limit may be spent by the run's other tests: no proof either way.
        record.cannot_judge(
            "RATE-007",
            "the second key was answered 429 itself "
            f"(Retry-After {t.second.headers.get('retry-after', 'absent')}): its own "
            "limit may be spent by this run; RATE-007 needs a second key with room",
        )
    else:
        with record.check("RATE-007"):
            key_accepted(t.second)
