"""Durations read as Locust writes them, everywhere ``qbtsuite load`` takes one."""

from __future__ import annotations

from pathlib import Path

import pytest

from qbtsuite.cli import main
from qbtsuite.errors import ConfigError
from qbtsuite.loadtest.durations import format_duration, parse_duration
from qbtsuite.loadtest.profile import load_profile
from qbtsuite.loadtest.ratelimit.settings import parse_settings
from qbtsuite.loadtest.slo import parse_objective


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90.0),
        ("1m30s", 90.0),
        ("2h", 7200.0),
        ("1h30m", 5400.0),
        ("500ms", 0.5),
        ("2s500ms", 2.5),
        ("1.5s", 1.5),
        ("250us", 0.00025),
        ("90", 90.0),
        ("1.5", 1.5),
        (" 3s ", 3.0),
        (45, 45.0),
        (0.25, 0.25),
    ],
)
def test_a_duration_is_locust_text_or_a_plain_number_of_seconds(
    text: str | float, seconds: float
) -> None:
    assert parse_duration(text, "--duration") == pytest.approx(seconds)


@pytest.mark.parametrize(
    "text", ["1x", "", "s", "ms", "1s1m", "1m1m", "1 m", "1e3", "inf", "-5s", "1sms"]
)
def test_anything_else_is_one_line_naming_the_option_and_examples(text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_duration(text, "--duration")
    assert str(caught.value) == f"--duration {text!r}: expected e.g. 90s, 1m30s, 2h"


@pytest.mark.parametrize("value", [True, None, [1], float("nan")])
def test_a_toml_value_that_is_no_duration_is_refused(value: object) -> None:
    with pytest.raises(ConfigError, match=r"expected e\.g\. 90s, 1m30s, 2h"):
        parse_duration(value, "profile 'x': warmup")


def test_a_duration_prints_back_in_the_same_notation() -> None:
    shown = [format_duration(s) for s in (90, 7200, 0.25, 3661.5, 5, 0)]
    assert shown == ["1m30s", "2h", "250ms", "1h1m1.5s", "5s", "0s"]


def test_a_profile_takes_durations_for_every_time_setting(tmp_path: Path) -> None:
    path = tmp_path / "timed.toml"
    path.write_text(
        'user = "chat"\nwarmup = "1s500ms"\ndrain = "2s"\ntimeout = "1m"\n'
        'retry_cap = "750ms"\nthink_time = ["50ms", "0.2"]\n'
        '[[stages]]\nduration = "1m30s"\nusers = 2\n'
        "[[stages]]\nduration = 30\nusers = 1\n"
        '[embedded]\nttft = "150ms"\nitl = "15ms"\nrate_window = "6s"\n'
    )
    profile = load_profile(str(path))
    plan = profile.plan
    assert [s.duration for s in plan.stages] == [90.0, 30.0]
    assert (plan.warmup, plan.drain, plan.timeout, plan.retry_cap) == (
        1.5,
        2.0,
        60.0,
        0.75,
    )
    assert plan.think_time == (0.05, 0.2)
    assert profile.embedded_args == (
        "--ttft",
        "0.15",
        "--itl",
        "0.015",
        "--rate-window",
        "6",
    )


def test_a_bad_duration_in_a_profile_names_the_file_and_setting(
    tmp_path: Path,
) -> None:
    path = tmp_path / "typo.toml"
    path.write_text('user = "chat"\n[[stages]]\nduration = "1x"\nusers = 1\n')
    with pytest.raises(ConfigError) as caught:
        load_profile(str(path))
    assert str(caught.value) == (
        "profile 'typo': stages[0].duration '1x': expected e.g. 90s, 1m30s, 2h"
    )


def test_the_ratelimit_window_and_margins_take_durations() -> None:
    s = parse_settings(
        {"window": "1m", "early_margin": "200ms", "latency_slack_ms": "0.02s"},
        "profile 'x'",
    )
    assert (s.window, s.early_margin, s.latency_slack_ms) == (60.0, 0.2, 20.0)
    assert parse_settings({"latency_slack_ms": 15}, "x").latency_slack_ms == 15.0


def test_an_slo_latency_bound_takes_any_duration_with_a_unit() -> None:
    assert parse_objective("e2e_p99<1m30s").threshold == 90_000.0
    assert parse_objective("ttft_p95<0.8s").threshold == 800.0
    with pytest.raises(ConfigError, match=r"'8x': expected e\.g\. 90s, 1m30s, 2h"):
        parse_objective("ttft_p95<8x")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["smoke", "--duration", "1x"],
            "--duration '1x': expected e.g. 90s, 1m30s, 2h",
        ),
        (["smoke", "-t", "2y"], "--duration '2y': expected e.g. 90s, 1m30s, 2h"),
        (["smoke", "--warmup", "fast"], "--warmup 'fast': expected e.g."),
        (["ratelimit", "--window", "6 s"], "--window '6 s': expected e.g."),
    ],
)
def test_a_bad_duration_option_is_one_line_and_exit_code_2(
    args: list[str],
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["load", *args, "--reports-dir", str(tmp_path / "reports")])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err == f"error: {message}" + err.split(message, 1)[1]
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "reports").exists()


def test_duration_options_reach_the_plan_in_seconds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A rejected run still shows the resolved timeline: a warm-up longer than the
    run names both in seconds, parsed from Locust notation."""
    code = main(
        [
            "load",
            "smoke",
            "-t",
            "1m",
            "--warmup",
            "1m30s",
            "--reports-dir",
            str(tmp_path),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip() == "error: --warmup (90 s) must be shorter than the run (60 s)"
