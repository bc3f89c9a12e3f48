"""The ratelimit profile's settings and options: what is derived, and what is refused
before anything runs (one clear line, exit code 2)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from qbtsuite.cli import main
from qbtsuite.errors import ConfigError
from qbtsuite.loadtest.plan import Plan
from qbtsuite.loadtest.profile import Overrides, load_profile, resolve_plan
from qbtsuite.loadtest.ratelimit.settings import (
    RateLimitSettings,
    embedded_keys_toml,
    parse_settings,
)
from qbtsuite.loadtest.target import key_variable, load_target
from qbtsuite.target.config import load_settings


def test_the_ratelimit_profile_is_shipped_and_runs_one_scripted_user() -> None:
    plan = resolve_plan(load_profile("ratelimit"), Overrides())
    assert plan.user == "ratelimit" and plan.ratelimit is not None
    assert [s.users for s in plan.stages] == [1]
    assert plan.keys == ("low_limit", "low_limit_2", "second")
    assert plan.retries == 0 and plan.warmup == 0


def test_a_ratelimit_plan_survives_its_json_round_trip() -> None:
    plan = resolve_plan(load_profile("ratelimit"), Overrides(keys=("low_limit",)))
    assert Plan.from_json(plan.to_json()) == plan


def test_the_options_change_the_settings_and_the_timeline_follows() -> None:
    profile = load_profile("ratelimit")
    short = resolve_plan(profile, Overrides(keys=("low_limit",), window=2.0))
    long = resolve_plan(profile, Overrides(keys=("low_limit",), window=60.0))
    assert short.ratelimit is not None and short.ratelimit.window == 2.0
    assert short.duration < long.duration
    four = resolve_plan(profile, Overrides(window=2.0, windows=4, declared_limit=10))
    assert four.ratelimit == RateLimitSettings(window=2.0, windows=4, declared_limit=10)


def test_each_witness_is_another_key_under_test_or_second() -> None:
    s = RateLimitSettings(keys=("low_limit", "low_limit_2"))
    assert s.witnesses_for("low_limit") == ("low_limit_2", "second")
    assert RateLimitSettings(keys=("a",), witnesses=("b",)).witnesses_for("a") == ("b",)


def test_the_embedded_keys_file_gives_every_key_under_test_the_declared_limit() -> None:
    s = RateLimitSettings(declared_limit=12, keys=("low_limit", "extra"))
    data = tomllib.loads(embedded_keys_toml(s))
    limits = {k["role"]: k["rpm"] for k in data["keys"]}
    assert limits["low_limit"] == limits["extra"] == 12
    assert limits["second"] > 1000 and "main" in limits
    assert all("key" not in k for k in data["keys"]), "the server makes the keys"


def test_another_role_reads_its_key_from_its_own_variable() -> None:
    assert key_variable("low_limit_2") == "QBTSUITE_LOW_LIMIT_2_KEY"
    assert key_variable("low_limit") == "QBTSUITE_LOW_LIMIT_KEY"
    env = {"QBTSUITE_LOW_LIMIT_2_KEY": "qbt_test_" + "1" * 32}
    settings = load_settings({"base_url": "https://127.0.0.1:1/v1"}, env)
    config = settings.target(require_key=False)
    target = load_target(config, ("low_limit_2",), env)
    assert set(target.keys) == {"low_limit_2"}
    with pytest.raises(ConfigError, match="set QBTSUITE_SECOND_KEY"):
        load_target(config, ("second",), env)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"window": 1.5}, "at least 2 s"),
        ({"windows": 1}, "at least 2 windows"),
        ({"declared_limit": 1}, "at least 2"),
        ({"keys": []}, "at least one key role"),
        ({"keys": ["a", "a"]}, "named twice"),
        ({"keys": ["bad role"]}, "bad key role"),
        ({"overdrive": 1.0}, "above 1"),
        ({"colour": 1}, "unknown [ratelimit] setting"),
        ({"window": "6 windows"}, "ratelimit.window '6 windows': expected e.g. 90s"),
        ({"overdrive": "2x"}, "expected a number"),
        ({"boundary_before": 3.0}, "half a window"),
    ],
)
def test_bad_ratelimit_settings_are_one_clear_line(
    table: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(table, "profile 'x'")
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ratelimit", "--rate", "5"], "do not apply to the ratelimit profile"),
        (["ratelimit", "--duration", "5"], "do not apply to the ratelimit profile"),
        (["ratelimit", "--workers", "2"], "runs in one process"),
        (["ratelimit", "--window", "1"], "at least 2 s"),
        (["ratelimit", "--keys", ","], "name at least one key role"),
        (["smoke", "--declared-limit", "5"], "apply to the ratelimit profile only"),
        (
            ["ratelimit", "--base-url", "https://127.0.0.1:9/v1"],
            "--declared-limit N is needed with --base-url",
        ),
    ],
)
def test_bad_ratelimit_options_exit_2_before_anything_runs(
    args: list[str],
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    output = tmp_path / "reports"
    try:
        code = main(["load", *args, "--output", str(output)])
    except SystemExit as exc:  # argparse refuses a malformed value itself
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    assert code == 2, err
    assert message in err and "Traceback" not in err
    assert not output.exists(), "nothing may run on bad input"
