"""``--slo-abort``: an SLO is abandoned only once no remaining request can save it.

The rules run on synthetic samples; each "beyond recovery" claim is then checked
against the figures the report computes (``stats.figures`` + ``slo.evaluate``) for
every way the window could still end, up to the request ceiling.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from qbtsuite.loadtest.abort import (
    Abort,
    AbortWatch,
    SamplesTail,
    judged_early,
    request_ceiling,
)
from qbtsuite.loadtest.plan import Plan, Stage
from qbtsuite.loadtest.samples import SampleSet
from qbtsuite.loadtest.slo import evaluate, parse_objective, parse_objectives
from qbtsuite.loadtest.stats import figures

T0 = 1_800_000_000.0


def _plan(**changes: Any) -> Plan:
    base = Plan(
        profile="t",
        base_url="https://127.0.0.1:1/v1",
        stages=(Stage(duration=20.0, users=2),),
        warmup=2.0,
        max_requests=100,
    )
    return base.with_changes(**changes)


def _sample(
    t: float, outcome: str = "ok", e2e: float = 0.01, **extra: Any
) -> dict[str, Any]:
    status = {"ok": 200, "failed": 500, "error": 0, "rate-limited": 429}[outcome]
    return {
        "kind": "sample",
        "name": "chat",
        "key": "main",
        "proc": 0,
        "t": T0 + t,
        "end": T0 + t + e2e,
        "status": status,
        "outcome": outcome,
        "e2e": e2e,
        "attempt": 0,
        **extra,
    }


def _watch(plan: Plan, *slo: str) -> AbortWatch:
    watch = AbortWatch(plan, parse_objectives(list(slo)))
    watch.feed([{"kind": "start", "t0": T0, "processes": 1}])
    return watch


def _final_verdict(plan: Plan, slo: str, samples: list[dict[str, Any]]) -> bool:
    """Whether ``slo`` passes over ``samples`` as the report would judge it."""
    sset = SampleSet(samples=samples, t0=T0, processes=1)  # type: ignore[arg-type]
    (verdict,) = evaluate([parse_objective(slo)], figures(sset, plan))
    return verdict.passed


def test_the_ceiling_is_the_request_cap_times_the_attempts_a_request_may_make() -> None:
    assert request_ceiling(_plan()) == 100
    assert request_ceiling(_plan(retries=2)) == 300
    # open loop: 5 arrivals/s for 20 s is 100 arrivals (+1 for the edge), under a cap
    # of 1000
    open_loop = _plan(
        stages=(Stage(duration=20.0, users=4, rate=5.0),), max_requests=1000
    )
    assert request_ceiling(open_loop) == 101


def test_an_error_rate_aborts_when_the_errors_alone_exceed_it_over_the_ceiling() -> (
    None
):
    watch = _watch(_plan(), "error_rate<3%")
    watch.feed([_sample(3.0 + i / 10, "failed") for i in range(2)])
    assert watch.check(T0 + 4.0) is None  # 2 of up to 100: 2% can still end below 3%
    watch.feed([_sample(4.0, "error")])
    abort = watch.check(T0 + 4.5)
    assert abort is not None and abort.slo == "error_rate<3%" and abort.at_s == 4.5
    assert abort.reason == (
        "error_rate<3% can no longer be met: 3 requests failed or without an answer "
        "already, of at most 100 in the window: error_rate cannot end below 3.00%"
    )


def test_errors_in_the_warm_up_never_abort_and_nothing_is_judged_before_its_end() -> (
    None
):
    watch = _watch(_plan(), "error_rate<1%")
    watch.feed([_sample(i / 10, "failed") for i in range(19)])  # all before 2 s
    assert watch.check(T0 + 10.0) is None, "warm-up requests are not in the window"
    watch.feed([_sample(2.5, "failed")])
    assert watch.check(T0 + 1.9) is None, "not during the warm-up"
    assert watch.check(T0 + 2.6) is not None


def test_requests_after_the_last_stage_are_not_in_the_window() -> None:
    watch = _watch(_plan(), "error_rate<1%")
    watch.feed([_sample(20.5, "failed")])
    assert watch.check(T0 + 21.0) is None


def test_an_slo_on_one_endpoint_counts_that_endpoint_only() -> None:
    watch = _watch(_plan(), "embeddings.error_rate<1%")
    watch.feed([_sample(3.0, "failed")])  # a chat request
    assert watch.check(T0 + 4.0) is None
    watch.feed([_sample(3.5, "failed") | {"name": "embeddings"}])
    assert watch.check(T0 + 4.0) is not None


def test_a_lower_bound_share_aborts_once_the_others_exceed_what_it_allows() -> None:
    watch = _watch(_plan(), "ok_rate>=0.98")
    watch.feed([_sample(3.0, "rate-limited"), _sample(3.1, "failed")])
    assert watch.check(T0 + 4.0) is None  # 98 of 100 can still be ok
    watch.feed([_sample(3.2, "error")])
    abort = watch.check(T0 + 4.0)
    assert abort is not None and "cannot end above 97.00%" in abort.reason


def test_a_percentile_aborts_only_with_enough_slow_requests_for_any_final_count() -> (
    None
):
    # ceiling 100, p95: N - floor(95 * 99 / 100) + 1 = 100 - 94 + 1 = 7 values
    watch = _watch(_plan(), "e2e_p95<800ms")
    slow = [_sample(3.0 + i / 10, e2e=0.9) for i in range(6)]
    watch.feed([*slow, _sample(5.0, e2e=0.001)])
    assert watch.check(T0 + 6.0) is None
    watch.feed([_sample(6.0, e2e=0.8)])  # at the bound: `<` is broken by it
    abort = watch.check(T0 + 7.0)
    assert abort is not None and abort.reason.endswith(
        "7 values at or over 800 ms already; with at most 100 requests in the "
        "window, 7 keep the p95 over it"
    )


def test_a_maximum_aborts_at_the_first_value_over_it_and_a_mean_at_its_share() -> None:
    watch = _watch(_plan(), "e2e_max<500ms", "ttft_mean<=100ms")
    watch.feed([_sample(3.0, e2e=0.4, ttft=0.2)])
    assert watch.check(T0 + 4.0) is None
    watch.feed([_sample(3.5, e2e=0.6)])
    abort = watch.check(T0 + 4.0)
    assert abort is not None and abort.slo == "e2e_max<500ms"
    mean = _watch(_plan(), "ttft_mean<=100ms")
    mean.feed([_sample(3.0 + i, ttft=5.0) for i in range(2)])  # 10 s / 100 = 100 ms
    assert mean.check(T0 + 9.0) is None, "<= 100 ms still holds at exactly 100 ms"
    mean.feed([_sample(6.0, ttft=0.01)])
    assert mean.check(T0 + 9.0) is not None


@pytest.mark.parametrize(
    "slo",
    ["itl_p95<20ms", "e2e_min<5ms", "e2e_p50>1ms", "rps>=50", "achieved_ratio>=0.9"],
)
def test_objectives_no_early_reading_can_settle_are_judged_at_the_end_only(
    slo: str,
) -> None:
    assert not judged_early(parse_objective(slo))
    watch = _watch(_plan(max_requests=1), slo)
    watch.feed([_sample(3.0, "failed", e2e=9.0)])
    assert watch.check(T0 + 10.0) is None


@pytest.mark.parametrize(
    ("slo", "bad"),
    [
        ("error_rate<5%", {"outcome": "failed"}),
        ("ok_rate>=0.9", {"outcome": "rate-limited"}),
        ("e2e_p90<=200ms", {"e2e": 0.3}),
        ("e2e_p99<200ms", {"e2e": 0.2}),
        ("e2e_mean<100ms", {"e2e": 0.7}),
    ],
)
def test_a_run_aborted_for_an_slo_breaches_it_however_the_window_would_have_ended(
    slo: str, bad: dict[str, Any]
) -> None:
    plan = _plan(max_requests=60)
    rng = random.Random(7)
    watch = _watch(plan, slo)
    seen: list[dict[str, Any]] = []
    abort: Abort | None = None
    while abort is None:
        s = _sample(3.0 + len(seen) * 0.01, e2e=0.001)
        if rng.random() < 0.5:
            s |= bad
            if s["outcome"] != "ok":
                s["status"] = 500 if s["outcome"] == "failed" else 429
        seen.append(s)
        watch.feed([s])
        abort = watch.check(s["end"] + 0.001)
    assert len(seen) < 60, "the test must abort before the ceiling"
    # Every completion of the window up to the ceiling, with the best requests there
    # are (fast and ok), still breaches the SLO.
    for extra in range(60 - len(seen) + 1):
        rest = [_sample(9.0 + i * 0.01, e2e=0.0) for i in range(extra)]
        assert not _final_verdict(plan, slo, seen + rest), (slo, len(seen), extra)
    # And one request fewer did not abort: the rule waits for the proof.
    replay = _watch(plan, slo)
    replay.feed(seen[:-1])
    assert replay.check(seen[-1]["end"]) is None


def test_the_tail_reads_whole_new_lines_only(tmp_path: Path) -> None:
    path = tmp_path / "samples.jsonl"
    tail = SamplesTail(path)
    assert tail.read() == []
    first = json.dumps(_sample(1.0))
    path.write_text(first + "\n" + first[:10])
    assert [r["t"] for r in tail.read()] == [T0 + 1.0]
    with path.open("a") as f:
        f.write(first[10:] + "\nnot json\n")
    assert [r["t"] for r in tail.read()] == [T0 + 1.0]
    assert tail.read() == []


def test_an_aborted_plan_ends_where_the_run_was_stopped() -> None:
    plan = _plan(stages=(Stage(4.0, 2), Stage(10.0, 6), Stage(4.0, 2)))
    cut = plan.truncated(7.5)
    assert [(s.duration, s.users) for s in cut.stages] == [(4.0, 2), (3.5, 6)]
    assert plan.truncated(30.0) == plan
