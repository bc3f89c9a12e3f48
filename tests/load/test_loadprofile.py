"""Profiles: every shipped one is valid, and bad profiles or overrides fail clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from qbtsuite.errors import ConfigError
from qbtsuite.loadtest.profile import (
    Overrides,
    load_profile,
    profile_names,
    resolve_plan,
)
from qbtsuite.loadtest.slo import parse_objectives

SHIPPED = ("mixed", "ramp", "smoke", "soak", "spike", "steady", "stream")


def test_the_seven_profiles_are_shipped() -> None:
    assert set(SHIPPED) <= set(profile_names())


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_profile_is_valid_and_short_by_default(name: str) -> None:
    profile = load_profile(name)
    plan = resolve_plan(profile, Overrides())
    parse_objectives(profile.slo)  # its SLOs parse
    assert 0 < plan.duration <= 60, "a demo default must finish in a minute"
    assert plan.warmup < plan.duration
    assert plan.max_requests >= 1 and plan.retries == 0


def test_steady_and_ramp_are_open_loop_and_the_others_closed() -> None:
    open_loop = {n for n in SHIPPED if load_profile(n).plan.open_loop}
    assert open_loop == {"steady", "ramp"}


def test_an_unknown_profile_names_the_known_ones() -> None:
    with pytest.raises(
        ConfigError, match=r"unknown load profile 'nope' \(known: .*smoke"
    ):
        load_profile("nope")


def test_a_profile_can_be_given_as_a_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text('user = "embeddings"\n[[stages]]\nduration = 2\nusers = 1\n')
    profile = load_profile(str(path))
    assert profile.name == "mine" and profile.plan.user == "embeddings"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('user = "chat"\n', "at least one"),
        ('user = "fax"\n[[stages]]\nduration = 1\nusers = 1\n', "user must be"),
        ("colour = 1\n[[stages]]\nduration = 1\nusers = 1\n", "unknown setting"),
        ("[[stages]]\nduration = 1\nusers = 0\n", "positive integer"),
        ('user = "mixed"\n[[stages]]\nduration = 1\nusers = 1\n', "needs \\[mix\\]"),
        ("max_requests = 0\n[[stages]]\nduration = 1\nusers = 1\n", "max_requests"),
        (
            "[[stages]]\nduration = 1\nusers = 1\nrate = 2\n"
            "[[stages]]\nduration = 1\nusers = 1\n",
            "all open loop",
        ),
        ("[request]\nmax_tokens = 'x'\n[[stages]]\nduration = 1\nusers = 1\n", "type"),
        ("[embedded]\nfaults = 1\n[[stages]]\nduration = 1\nusers = 1\n", "embedded"),
        ("[[stages]\n", "not valid TOML"),
    ],
)
def test_a_bad_profile_is_one_clear_config_error(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_profile(str(path))


def test_rate_is_refused_for_a_closed_loop_profile() -> None:
    with pytest.raises(ConfigError, match="closed loop"):
        resolve_plan(load_profile("smoke"), Overrides(rate=10.0))


def test_overrides_set_peak_users_duration_and_rate() -> None:
    steady = resolve_plan(load_profile("steady"), Overrides(rate=5.0, duration=4.0))
    assert steady.stages[0].rate == 5.0 and steady.duration == 4.0
    assert steady.warmup == 1.0  # a shortened run keeps three quarters measured
    spike = resolve_plan(load_profile("spike"), Overrides(users=10))
    assert max(s.users for s in spike.stages) == 10


def test_the_request_cap_grows_with_the_planned_volume() -> None:
    profile = load_profile("soak")
    longer = resolve_plan(profile, Overrides(duration=profile.plan.duration * 10))
    assert longer.max_requests == profile.plan.max_requests * 10
    assert resolve_plan(profile, Overrides(max_requests=7)).max_requests == 7


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (Overrides(users=0), "--users"),
        (Overrides(duration=-1.0), "--duration"),
        (Overrides(warmup=9.0), "shorter than the run"),
        (Overrides(retries=-1), "--retries"),
    ],
)
def test_bad_overrides_are_config_errors(overrides: Overrides, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        resolve_plan(load_profile("smoke"), overrides)
