"""The GitHub Actions composite action (action.yml) does what the README says.

Its shell steps are run here as GitHub would run them (``GITHUB_OUTPUT`` and
``GITHUB_STEP_SUMMARY`` files, inputs as environment variables), against the
embedded reference server.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ACTION: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text("utf-8"))
SECRET_INPUTS = (
    "api-key",
    "second-key",
    "zero-balance-key",
    "low-limit-key",
    "sign-key",
)


def _steps() -> dict[str, dict[str, Any]]:
    steps: list[dict[str, Any]] = ACTION["runs"]["steps"]
    return {str(s.get("id") or s.get("name")): s for s in steps}


def test_the_action_takes_the_target_the_profile_and_the_keys_as_inputs() -> None:
    inputs = ACTION["inputs"]
    for name in ("base-url", "profile", *SECRET_INPUTS):
        assert name in inputs, f"Received: inputs {sorted(inputs)}\nExpected: {name}"


def test_the_action_gives_the_verdict_and_the_report_path_as_outputs() -> None:
    outputs = ACTION["outputs"]
    for name in ("verdict", "report", "exit-code"):
        assert name in outputs, f"Received: outputs {sorted(outputs)}\nExpected: {name}"


def test_keys_reach_the_suite_by_environment_never_on_a_command_line() -> None:
    for step in ACTION["runs"]["steps"]:
        script = str(step.get("run", ""))
        for name in SECRET_INPUTS:
            assert f"inputs.{name}" not in script, (
                f"Received: step {step.get('name')!r} puts inputs.{name} in its script\n"
                "Expected: keys only in the step's env"
            )


def test_the_action_uploads_the_run_folder_and_fails_as_the_suite_did() -> None:
    uses = [str(s.get("uses", "")) for s in ACTION["runs"]["steps"]]
    assert any(u.startswith("actions/upload-artifact@") for u in uses), uses
    last = ACTION["runs"]["steps"][-1]
    assert "exit-code" in str(last["env"]) and 'exit "$QBT_EXIT"' in last["run"]


def _run_step(step: dict[str, Any], env: dict[str, str]) -> None:
    step_env = {k: str(v) for k, v in (step.get("env") or {}).items()}
    resolved = {
        key: env.get(f"INPUT_{value[len('${{ inputs.') : -3].strip()}", "")
        if value.startswith("${{ inputs.")
        else value
        for key, value in step_env.items()
    }
    done = subprocess.run(
        ["bash", "-e", "-c", str(step["run"])],
        env={**env, **resolved},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
def test_the_action_steps_run_the_suite_and_report_the_verdict(tmp_path: Path) -> None:
    bin_dir = Path(sys.executable).parent
    if shutil.which("qbtsuite", path=str(bin_dir)) is None:
        pytest.fail("the qbtsuite command is not installed beside this Python")
    outputs, summary = tmp_path / "outputs", tmp_path / "summary.md"
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(tmp_path),
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_STEP_SUMMARY": str(summary),
        "INPUT_profile": "smoke",
        "INPUT_output": str(tmp_path / "run"),
        "INPUT_args": "",
    }
    steps = _steps()
    for step_id in ("run", "verdict"):
        _run_step(steps[step_id], env)
    written = dict(
        line.split("=", 1) for line in outputs.read_text("utf-8").splitlines()
    )
    assert written["exit-code"] == "0", written
    assert written["verdict"] == "conformant", written
    assert written["report"].endswith("report.html")
    assert "conformant" in summary.read_text("utf-8")


def test_the_action_takes_the_certify_product_and_signing_key_as_inputs() -> None:
    inputs = ACTION["inputs"]
    for name in ("product", "sign-key"):
        assert name in inputs, f"Received: inputs {sorted(inputs)}\nExpected: {name}"


def _certify_env(tmp_path: Path, sign_key: str) -> dict[str, str]:
    bin_dir = Path(sys.executable).parent
    if shutil.which("qbtsuite", path=str(bin_dir)) is None:
        pytest.fail("the qbtsuite command is not installed beside this Python")
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    return {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(tmp_path),
        "RUNNER_TEMP": str(runner_temp),
        "GITHUB_OUTPUT": str(tmp_path / "outputs"),
        "INPUT_profile": "certify",
        "INPUT_output": str(tmp_path / "run"),
        "INPUT_capabilities": "none",
        "INPUT_product": str(ROOT / "product.example.toml"),
        "INPUT_sign-key": sign_key,
        "INPUT_args": "--dry-run",
    }


def _exit_code(env: dict[str, str]) -> str:
    lines = Path(env["GITHUB_OUTPUT"]).read_text("utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines)["exit-code"]


@pytest.mark.slow
def test_a_certify_run_through_the_action_signs_with_the_key_and_leaves_no_key_file(
    tmp_path: Path,
) -> None:
    subprocess.run(
        [sys.executable, "-m", "qbtsuite", "keygen", str(tmp_path / "vendor")],
        capture_output=True,
        timeout=60,
        check=True,
    )
    env = _certify_env(tmp_path, (tmp_path / "vendor.key").read_text("utf-8"))
    _run_step(_steps()["run"], env)
    code = _exit_code(env)
    assert code == "0", f"Received: exit code {code}\nExpected: 0 (a certify dry run)"
    assert (tmp_path / "run" / "plan.json").is_file()
    left = sorted(p.name for p in Path(env["RUNNER_TEMP"]).iterdir())
    assert left == [], f"Received: {left} in RUNNER_TEMP\nExpected: no key file left"


@pytest.mark.slow
def test_a_signing_key_that_is_no_key_stops_the_certify_run_with_a_usage_error(
    tmp_path: Path,
) -> None:
    env = _certify_env(tmp_path, "not a PEM key")
    _run_step(_steps()["run"], env)
    code = _exit_code(env)
    assert code == "2", f"Received: exit code {code}\nExpected: 2 (usage error)"
    assert not (tmp_path / "run").exists()
