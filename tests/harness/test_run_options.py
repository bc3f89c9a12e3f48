"""``qbtsuite run`` as pytest users expect it: pytest's options after ``--``, ``-n
auto``, exclusions, and run folders that are never mixed up."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from qbtsuite.cli import build_parser, main
from qbtsuite.cli.run_folder import LOCK_FILE, PID_FILE, claim
from qbtsuite.harness.invoke import RunRequest, pytest_args
from tests.harness.test_cmd_run import _SUITE, _qbtsuite

FAULT = "auth.forbidden_instead_of_401"  # fails AUTH-001 of the tiny suite only


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    """The tiny suite of test_cmd_run: two tests, AUTH-001 and MODEL-001."""
    folder = tmp_path / "suite"
    folder.mkdir()
    (folder / "conftest.py").write_text(
        'pytest_plugins = ["qbtsuite.harness.plugin"]\n'
    )
    (folder / "test_auth.py").write_text(_SUITE)
    return folder


def _tests_run(folder: Path) -> list[str]:
    results = json.loads((folder / "results.json").read_text())
    return sorted(n.split("::")[1] for n in results["tests"])


class TestOptionParsing:
    def test_n_auto_is_accepted_and_handed_to_xdist(self) -> None:
        args = build_parser().parse_args(["run", "-n", "auto"])
        assert args.numprocesses == "auto"
        request = RunRequest(target=None, run_dir=Path("/r"), workers="auto")
        argv = pytest_args(request, Path("/s"), Path("/i"))
        assert argv[argv.index("-n") + 1] == "auto" and "loadgroup" in argv

    def test_a_negative_n_is_refused_with_the_usage_of_run(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["run", "-n", "-3"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("usage: qbtsuite run ")
        assert "expected 0 or more processes (or 'auto'), got -3" in err

    def test_a_pytest_option_before_the_double_dash_shows_run_s_usage_and_the_way(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["run", "-x", "--maxfail", "2"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("usage: qbtsuite run ")
        assert "unrecognized arguments: -x --maxfail 2 " in err
        assert "pytest's own options go after '--': qbtsuite run -- -x" in err
        assert "usage: qbtsuite [-h]" not in err

    def test_pytest_options_after_the_double_dash_reach_pytest_last(self) -> None:
        args = build_parser().parse_args(
            ["run", "--area", "auth", "--", "-x", "--lf", "-p", "myplugin"]
        )
        assert args.pytest_args == ["-x", "--lf", "-p", "myplugin"]
        request = RunRequest(
            target=None, run_dir=Path("/r"), pytest_args=tuple(args.pytest_args)
        )
        argv = pytest_args(request, Path("/s"), Path("/i"))
        assert argv[-4:] == ["-x", "--lf", "-p", "myplugin"]
        assert "--qbt-pytest-arg=-x" in argv  # recorded in the results' selection

    def test_the_cache_is_where_the_caller_says_or_off(self) -> None:
        cached = RunRequest(target=None, run_dir=Path("/r"), cache_dir=Path("/c"))
        argv = pytest_args(cached, Path("/s"), Path("/i"))
        assert "cache_dir=/c" in argv and "no:cacheprovider" not in argv
        plain = pytest_args(
            RunRequest(target=None, run_dir=Path("/r")), Path("/s"), Path("/i")
        )
        assert "no:cacheprovider" in plain


@pytest.mark.slow
class TestRunFolders:
    def test_a_folder_that_holds_a_run_is_refused_unless_overwrite(
        self, tmp_path: Path
    ) -> None:
        out = tmp_path / "out"
        (out / "allure-results").mkdir(parents=True)
        (out / "allure-results" / "old-result.json").write_text("{}")
        (out / "load").mkdir()
        (out / "load" / "load.json").write_text("{}")
        with pytest.raises(Exception, match="already holds a run"):
            claim(out, tmp_path, "full")
        assert not (out / LOCK_FILE).exists()  # a refusal leaves no lock behind
        with claim(out, tmp_path, "full", overwrite=True) as folder:
            assert (out / PID_FILE).read_text().strip().isdigit()
            assert not (out / "allure-results").exists()  # the old run's files: gone
            assert (out / "load" / "load.json").exists()  # anything else: kept
            assert folder.path == out.resolve()
        assert sorted(p.name for p in out.iterdir()) == ["load"]

    def test_a_locked_folder_is_refused_naming_the_process_that_holds_it(
        self,
        tmp_path: Path,
        suite: Path,
    ) -> None:
        import os

        out = tmp_path / "busy"
        with claim(out, tmp_path, "full"):
            done = _qbtsuite("run", "--output", str(out), suite=suite)
        assert done.returncode == 2, done.stdout + done.stderr
        assert done.stderr.strip() == (
            f"error: the run folder {out.resolve()} is in use by another run "
            f"(PID {os.getpid()}); wait for it or choose another --output"
        )
        assert "target" not in done.stdout  # nothing was started

    @pytest.mark.parametrize(
        "refused",
        [
            ["-m", "nosuchmarker"],
            ["-k", "nothing_matches_this"],
            ["--area", "auth", "--skip-area", "auth", "--skip-area", "models"],
            ["--", "--no-such-pytest-option"],
        ],
        ids=["bad-m", "empty-k", "everything-skipped", "bad-pytest-option"],
    )
    def test_a_run_refused_at_configuration_starts_nothing_and_leaves_no_folder(
        self,
        tmp_path: Path,
        suite: Path,
        refused: list[str],
    ) -> None:
        reports = tmp_path / "reports"
        out = tmp_path / "out"
        for where in (["--reports-dir", str(reports)], ["--output", str(out)]):
            done = _qbtsuite("run", *where, *refused, suite=suite)
            assert done.returncode == 2, done.stdout + done.stderr
            assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1
            assert "target" not in done.stdout
        assert not reports.exists() and not out.exists()

    def test_a_dry_run_writes_its_plan_where_it_says(
        self,
        tmp_path: Path,
        suite: Path,
    ) -> None:
        done = _qbtsuite(
            "run", "--dry-run", "--reports-dir", str(tmp_path / "r"), suite=suite
        )
        assert done.returncode == 0, done.stderr
        said = done.stdout.strip().splitlines()[-1]
        assert said.startswith("nothing was sent. plan: ")
        plan = Path(said.removeprefix("nothing was sent. plan: "))
        assert plan.is_file() and json.loads(plan.read_text())["totals"]["tests"] == 2
        assert sorted(p.name for p in plan.parent.iterdir()) == ["plan.json"]


@pytest.mark.slow
def test_x_stops_at_the_first_failure_and_lf_reruns_only_it(
    tmp_path: Path,
    suite: Path,
) -> None:
    reports = tmp_path / "reports"
    first = _qbtsuite(
        "run", "--fault", FAULT, "--reports-dir", str(reports), "--output",
        str(tmp_path / "all"), suite=suite,
    )  # fmt: skip
    assert first.returncode == 1, first.stdout + first.stderr
    assert _tests_run(tmp_path / "all") == [
        "test_missing_key_is_rejected_with_401",
        "test_models_are_listed_with_the_main_key",
    ]
    stop = _qbtsuite(
        "run", "--fault", FAULT, "--output", str(tmp_path / "x"), "--no-allure",
        "--reports-dir", str(reports), "--", "-x", suite=suite,
    )  # fmt: skip
    assert stop.returncode == 1, stop.stdout + stop.stderr
    assert _tests_run(tmp_path / "x") == ["test_missing_key_is_rejected_with_401"]
    assert not (tmp_path / "x" / "allure-results").exists()  # --no-allure
    again = _qbtsuite(
        "run", "--output", str(tmp_path / "lf"), "--reports-dir", str(reports),
        "--", "--lf", suite=suite,
    )  # fmt: skip
    assert again.returncode == 0, again.stdout + again.stderr  # fixed: no fault now
    assert _tests_run(tmp_path / "lf") == ["test_missing_key_is_rejected_with_401"]
    results = json.loads((tmp_path / "lf" / "results.json").read_text())
    assert results["selection"]["pytest_args"] == ["--lf"]
    assert (reports / ".pytest_cache").is_dir()


@pytest.mark.slow
def test_a_fault_run_is_recorded_as_such_everywhere(
    tmp_path: Path,
    suite: Path,
) -> None:
    out = tmp_path / "run"
    secret = "proxy_canary_run_0123456789abcdef"
    done = _qbtsuite(
        "run", "--fault", FAULT, "--output", str(out), "-H", f"X-Proxy-Token: {secret}",
        "-H", "X-Team: qa", suite=suite,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    banner = f"fault injected: {FAULT}, not a real target"
    results = json.loads((out / "results.json").read_text())
    assert results["target"]["faults"] == [FAULT]
    # the header reached the target (its transcripts show it) and its value no file
    headers = results["target"]["headers"]
    assert headers == {"X-Proxy-Token": "[REDACTED]", "X-Team": "qa"}
    transcript = next(iter(results["tests"].values()))["transcripts"][0]
    assert "> x-proxy-token: [REDACTED]" in transcript and "> x-team: qa" in transcript
    for path in (p for p in out.rglob("*") if p.is_file()):
        assert secret[-12:].encode() not in path.read_bytes(), path
    assert secret[-12:] not in done.stdout + done.stderr
    for text in (
        done.stdout,
        (out / "summary.md").read_text(),
        (out / "report.html").read_text(),
    ):
        assert banner in text
    junit = ET.parse(out / "junit.xml").getroot()
    faults = [
        p.get("value") for p in junit.iter("property") if p.get("name") == "faults"
    ]
    assert faults == [FAULT]


@pytest.mark.slow
def test_request_validation_tests_belong_to_the_areas_area_selects(
    tmp_path: Path,
) -> None:
    everything = _qbtsuite("run", "--dry-run", "--output", str(tmp_path / "all"))
    assert everything.returncode == 0, everything.stderr
    plan = json.loads((tmp_path / "all" / "plan.json").read_text())
    validation = [
        t for t in plan["tests"] if t["nodeid"].startswith("test_request_validation.py")
    ]
    from qbtsuite.requirements import AREAS

    assert validation and {t["area"] for t in validation} <= set(AREAS)
    assert {t["area"] for t in validation} >= {"completions", "chat", "errors"}
    errors = _qbtsuite(
        "run", "--dry-run", "--area", "errors", "--output", str(tmp_path / "errors")
    )
    assert errors.returncode == 0, errors.stderr
    only = json.loads((tmp_path / "errors" / "plan.json").read_text())
    assert set(only["areas"]) == {"errors"}
    assert sorted(
        t["nodeid"] for t in only["tests"] if "request_validation" in t["nodeid"]
    ) == sorted(t["nodeid"] for t in validation if t["area"] == "errors")
