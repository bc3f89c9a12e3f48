"""``--output`` is the exact run folder for ``run`` and ``load``; ``--reports-dir`` is
the parent of a fresh one, named ``<UTC YYYYmmddTHHMMSSZ>-<label>`` by both."""

from __future__ import annotations

import calendar
import re
from pathlib import Path

import pytest

from qbtsuite.cli import build_parser, main
from qbtsuite.cli.run_folder import claim
from qbtsuite.rundir import fresh_run_dir, run_folder_name

STAMP = r"\d{8}T\d{6}Z"


def test_a_run_folder_is_named_by_its_utc_start_and_its_label() -> None:
    epoch = calendar.timegm((2026, 12, 3, 10, 15, 0))
    assert run_folder_name("load-smoke", epoch) == "20261203T101500Z-load-smoke"
    assert run_folder_name("smoke", epoch) == "20261203T101500Z-smoke"


def test_two_runs_in_the_same_second_get_two_folders(tmp_path: Path) -> None:
    first = fresh_run_dir(tmp_path, "load-smoke")
    second = fresh_run_dir(tmp_path, "load-smoke")
    assert re.fullmatch(rf"{STAMP}-load-smoke", first.name), first.name
    assert first != second and second.is_dir()
    assert second.name in (f"{first.name}-2", run_folder_name("load-smoke"))


def test_the_conformance_run_and_the_load_run_share_the_name_format(
    tmp_path: Path,
) -> None:
    with claim(None, tmp_path, "smoke") as run:
        assert re.fullmatch(rf"{STAMP}-smoke", run.path.name), run.path.name
    load = fresh_run_dir(tmp_path, "load-smoke")
    assert re.fullmatch(rf"{STAMP}-load-smoke", load.name), load.name
    with claim(tmp_path / "exact", tmp_path, "smoke") as exact:
        assert exact.path == (tmp_path / "exact").resolve()


@pytest.mark.parametrize("command", ["run", "load"])
def test_both_commands_have_output_as_the_folder_and_reports_dir_as_its_parent(
    command: str,
) -> None:
    parser = build_parser()
    args = parser.parse_args([command, "--output", "a/b", "--reports-dir", "c"])
    assert (args.output, args.reports_dir) == (Path("a/b"), Path("c"))
    defaults = parser.parse_args([command])
    assert (defaults.output, defaults.reports_dir) == (None, Path("reports"))


def test_load_refuses_an_output_folder_that_already_holds_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    used = tmp_path / "used"
    used.mkdir()
    (used / "samples.jsonl").write_text("{}\n")
    code = main(["load", "smoke", "--output", str(used)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith(f"error: --output {used} is not an empty folder")
    assert err.count("\n") == 1
    assert sorted(p.name for p in used.iterdir()) == ["samples.jsonl"]
