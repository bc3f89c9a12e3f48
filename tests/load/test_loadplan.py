"""The open-loop arrival schedule and the scaling of profile stages."""

from __future__ import annotations

import pytest

from qbtsuite.loadtest.plan import ArrivalSchedule, Plan, Stage, scale_stages


def test_arrivals_are_due_at_fixed_instants_of_the_rate() -> None:
    schedule = ArrivalSchedule((Stage(2.0, 4, rate=10.0),))
    due = [schedule.claim() for _ in range(21)]
    assert due[:4] == pytest.approx([0.0, 0.1, 0.2, 0.3])
    assert due[19] == pytest.approx(1.9)
    assert due[20] is None  # 20 arrivals in 2 s at 10/s; then the timeline is over


def test_due_times_do_not_depend_on_when_they_are_claimed() -> None:
    early = ArrivalSchedule((Stage(1.0, 1, rate=5.0),))
    late = ArrivalSchedule((Stage(1.0, 1, rate=5.0),))
    first = [early.claim() for _ in range(5)]
    # A slow claimer (a user stuck on a slow answer) gets the same instants.
    second = []
    for _ in range(5):
        second.append(late.claim())
    assert first == second == pytest.approx([0.0, 0.2, 0.4, 0.6, 0.8])


def test_processes_interleave_and_together_offer_the_planned_rate() -> None:
    stages = (Stage(1.0, 8, rate=12.0),)
    procs = [ArrivalSchedule(stages, i, 3) for i in range(3)]
    times = []
    for proc in procs:
        while (t := proc.claim()) is not None:
            times.append(t)
    assert len(times) == 12
    assert sorted(times) == pytest.approx([i / 12 for i in range(12)])
    assert procs[1].due(0) == pytest.approx(1 / 12)


def test_piecewise_rates_follow_each_stage() -> None:
    schedule = ArrivalSchedule((Stage(1.0, 1, rate=2.0), Stage(1.0, 1, rate=4.0)))
    due = [schedule.claim() for _ in range(7)]
    assert due == pytest.approx([0.0, 0.5, 1.0, 1.25, 1.5, 1.75, None])


def test_offered_counts_the_arrivals_due_in_a_window() -> None:
    plan = Plan("p", "", (Stage(2.0, 1, rate=10.0), Stage(2.0, 1, rate=30.0)))
    assert plan.offered(1.0, 3.0) == pytest.approx(10.0 + 30.0)
    assert plan.duration == 4.0
    assert plan.open_loop


def test_a_bad_process_index_is_refused() -> None:
    with pytest.raises(ValueError, match="bad process index"):
        ArrivalSchedule((Stage(1.0, 1, rate=1.0),), index=2, count=2)


def test_scaling_keeps_the_shape_of_the_stages() -> None:
    spike = (Stage(5.0, 2), Stage(5.0, 30), Stage(5.0, 2))
    scaled = scale_stages(spike, users=60, duration=30.0)
    assert [s.users for s in scaled] == [4, 60, 4]
    assert [s.duration for s in scaled] == [10.0, 10.0, 10.0]


def test_a_new_rate_scales_the_concurrency_cap_with_it() -> None:
    ramp = (Stage(4.0, 20, rate=10.0), Stage(4.0, 20, rate=20.0))
    scaled = scale_stages(ramp, rate=40.0)
    assert [s.rate for s in scaled] == [20.0, 40.0]
    assert [s.users for s in scaled] == [40, 40]


def test_the_plan_survives_its_json_form() -> None:
    plan = Plan(
        "p", "https://127.0.0.1:1/v1", (Stage(1.0, 2, rate=3.0),), mix={"chat": 1.0}
    )
    assert Plan.from_json(plan.to_json()) == plan
