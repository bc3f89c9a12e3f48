"""The README stays true: its two first commands, its command reference, its variables."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_starts_with_the_install_and_run_and_the_install_and_test_commands() -> (
    None
):
    first_block = README.split("```sh", 1)[1].split("```", 1)[0].strip().splitlines()
    assert len(first_block) == 2, first_block
    run, test = first_block
    assert "pip install ." in run and run.endswith("qbtsuite run"), run
    assert "pip install -e '.[test]'" in test and "pytest" in test, test


def test_readme_command_reference_matches_the_commands_help() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "cli_reference.py"), "--check", "README.md"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_readme_documents_every_environment_variable_the_config_reads() -> None:
    sources = "".join(
        p.read_text() for p in (ROOT / "src" / "qbtsuite" / "target").glob("*.py")
    )
    names = set(re.findall(r'"((?:QBTSUITE|QUBITTRON)_[A-Z_]*[A-Z])"', sources))
    assert "QUBITTRON_API_KEY" in names, "the settings sources were not found"
    missing = sorted(n for n in names if n not in README)
    assert not missing, f"environment variables missing from the README: {missing}"


def test_readme_documents_the_exit_codes_of_run() -> None:
    table = README.split("## Exit codes", 1)[1].split("##", 1)[0]
    for code in range(5):
        assert f"| {code} |" in table, f"exit code {code} is not documented"


def test_readme_exit_code_table_has_one_row_per_exit_code() -> None:
    from qbtsuite.exitcodes import ExitCode

    section = README.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    documented = [int(m) for m in re.findall(r"^\| (\d+) \|", section, flags=re.M)]
    expected = [int(code) for code in ExitCode]
    assert documented == expected, (
        f"Received: README exit-code rows {documented}\n"
        f"Expected: the members of qbtsuite.exitcodes.ExitCode, in order: {expected}"
    )
