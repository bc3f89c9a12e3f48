"""Throttle answers: read, waited out within the run's allowance, or left as evidence.

No network and no waiting: sleeps are recorded, clocks are given.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qbtsuite.target.throttle import (
    MIN_WAIT,
    MainKeyPacer,
    SharedWaitAllowance,
    Throttle,
    ThrottlePolicy,
    WaitAllowance,
    may_be_throttled,
    retry_after_seconds,
    throttle_answer,
)

URL = "https://gw.example/v1/chat/completions"
LIMITED = json.dumps(
    {"error": {"message": "slow down", "type": "rate_limit_error", "code": "rate_limit_exceeded"}}
).encode()  # fmt: skip


def _throttle(
    limit: float = 120.0, policy: ThrottlePolicy | None = None
) -> tuple[Throttle, list[float]]:
    sleeps: list[float] = []
    return Throttle(WaitAllowance(limit), policy=policy, sleep=sleeps.append), sleeps


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("21", 21.0), (" 3 ", 3.0), ("1.5", 1.5), ("0", 0.0), ("-4", 0.0)],
)
def test_retry_after_in_seconds_is_read_as_given(value: str, seconds: float) -> None:
    assert retry_after_seconds(value) == seconds


def test_retry_after_as_an_http_date_is_the_time_left_until_it() -> None:
    now = 1_700_000_000.0  # Tue, 14 Nov 2023 22:13:20 GMT
    assert retry_after_seconds("Tue, 14 Nov 2023 22:13:50 GMT", now) == 30.0


@pytest.mark.parametrize("value", [None, "", "soon", "nan", "inf"])
def test_an_absent_or_unreadable_retry_after_is_none(value: str | None) -> None:
    assert retry_after_seconds(value) is None


@pytest.mark.parametrize(
    ("status", "headers", "throttled"),
    [
        (429, {}, True),
        (402, {}, True),
        (503, {"Retry-After": "5"}, True),
        (503, {}, False),
        (500, {"retry-after": "1"}, True),
        (400, {"Retry-After": "5"}, False),
        (200, {}, False),
    ],
)
def test_429_402_and_a_5xx_with_retry_after_are_the_throttle_answers(
    status: int, headers: dict[str, str], throttled: bool
) -> None:
    assert may_be_throttled(status, headers) is throttled


def test_a_throttle_answer_names_its_status_code_and_wait() -> None:
    answer = throttle_answer(429, {"retry-after": "21"}, LIMITED)
    assert answer is not None
    assert answer.describe() == "429 rate_limit_exceeded, Retry-After 21 s"


def test_a_throttle_on_a_key_the_test_does_not_spend_is_waited_out() -> None:
    throttle, sleeps = _throttle()
    event = throttle.after("main", "POST", URL, 429, {"Retry-After": "21"}, LIMITED)
    assert event is not None and event.resolved
    assert sleeps == [21.0] and event.waited == 21.0
    assert event.message == (
        "throttled: waited 21 s, the main key was throttled (429 "
        "rate_limit_exceeded, Retry-After 21 s) on POST /v1/chat/completions"
    )
    assert throttle.allowance.used == 21.0


def test_the_spent_keys_answers_and_the_zero_balance_keys_402_stand_as_evidence() -> (
    None
):
    throttle, sleeps = _throttle(policy=ThrottlePolicy(frozenset({"low_limit"})))
    assert (
        throttle.after("low_limit", "POST", URL, 429, {"Retry-After": "5"}, b"") is None
    )
    assert throttle.after("zero_balance", "POST", URL, 402, {}, b"") is None
    assert sleeps == []
    other = throttle.after("zero_balance", "POST", URL, 429, {"Retry-After": "2"}, b"")
    assert other is not None and other.resolved  # its 429 is not what it is for


def test_a_wait_beyond_what_is_left_of_the_allowance_is_not_waited() -> None:
    throttle, sleeps = _throttle(limit=30.0)
    first = throttle.after("main", "GET", URL, 429, {"Retry-After": "20"}, b"")
    second = throttle.after("main", "GET", URL, 429, {"Retry-After": "20"}, b"")
    assert first is not None and first.resolved
    assert second is not None and not second.resolved
    assert "more than the 10 s left of --max-throttle-wait 30 s" in second.reason
    assert sleeps == [20.0]


@pytest.mark.parametrize(
    ("status", "headers", "resendable", "reason"),
    [
        (429, {}, True, "no Retry-After"),
        (402, {}, True, "no credit left"),
        (429, {"Retry-After": "1"}, False, "cannot be sent a second time"),
    ],
)
def test_a_throttle_that_cannot_be_waited_out_is_unresolved_with_its_reason(
    status: int, headers: dict[str, str], resendable: bool, reason: str
) -> None:
    throttle, sleeps = _throttle()
    event = throttle.after(
        "main", "GET", URL, status, headers, b"", resendable=resendable
    )
    assert event is not None and not event.resolved
    assert reason in event.reason and reason in event.message
    assert sleeps == []


def test_retry_after_zero_still_costs_a_second_so_a_run_cannot_spin() -> None:
    throttle, sleeps = _throttle(limit=2.5)
    events = [
        throttle.after("main", "GET", URL, 429, {"Retry-After": "0"}, b"")
        for _ in range(3)
    ]
    assert [e.resolved for e in events if e] == [True, True, False]
    assert sleeps == [MIN_WAIT, MIN_WAIT]


def test_the_shared_allowance_is_one_total_for_every_process(tmp_path: Path) -> None:
    path = tmp_path / "throttle-wait"
    one, two = SharedWaitAllowance(50, path), SharedWaitAllowance(50, path)
    assert one.take(30)
    assert not two.take(30)
    assert two.take(20)
    assert one.used == two.used == 50


def test_the_pacer_admits_rpm_requests_per_window_then_spaces_them(
    tmp_path: Path,
) -> None:
    now = [1000.0]
    pacer = MainKeyPacer(3, tmp_path / "pace", margin=1.0, clock=lambda: now[0])
    waits = [pacer.reserve().waited for _ in range(3)]
    assert waits == [0.0, 0.0, 0.0]
    assert pacer.reserve().waited == 61.0  # the first slot leaves the window at 1061
    now[0] = 1030.0
    assert pacer.reserve().waited == 31.0  # the second one, reserved at 1000, too


def test_two_pacers_of_one_key_share_one_log(tmp_path: Path) -> None:
    now = [0.0]
    path = tmp_path / "pace"
    one = MainKeyPacer(2, path, margin=0.0, clock=lambda: now[0])
    two = MainKeyPacer(2, path, margin=0.0, clock=lambda: now[0])
    waits = (one.reserve().waited, two.reserve().waited, one.reserve().waited)
    assert waits == (0.0, 0.0, 60.0)


def test_a_late_answer_moves_its_slot_so_the_next_request_is_never_early(
    tmp_path: Path,
) -> None:
    now = [0.0]
    pacer = MainKeyPacer(1, tmp_path / "pace", margin=0.0, clock=lambda: now[0])
    ticket = pacer.reserve()
    now[0] = 4.0  # a slow connection: the target saw the request up to 4 s late
    pacer.confirm(ticket)
    assert pacer.reserve().waited == 60.0  # 64 s: one window after the answer began


def test_only_the_main_key_is_paced(tmp_path: Path) -> None:
    sleeps: list[float] = []
    pacer = MainKeyPacer(1, tmp_path / "pace", margin=0.0, clock=lambda: 0.0)
    throttle = Throttle(WaitAllowance(0), pacer, sleep=sleeps.append)
    assert throttle.pace("second") is None and throttle.pace(None) is None
    first, second = throttle.pace("main"), throttle.pace("main")
    assert first is not None and first.waited == 0.0
    assert second is not None and second.waited == 60.0
    assert sleeps == [60.0]
