"""The README's GitHub Actions recipes hold together: the nightly job finds the last
successful run's artifact by the name it uploads it under, diffs in Markdown into the
job summary, and every input it gives the composite action is one action.yml takes.

The step that fetches last night's folder is run here with a stand-in ``gh`` on the
PATH that answers as the GitHub CLI does (``gh run list --json databaseId --jq …``
prints the id; ``gh run download ID -n NAME -D DIR`` unpacks the artifact into DIR).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text("utf-8")
ACTION: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text("utf-8"))
NIGHTLY_FILE = "qubittron-nightly.yml"


def _yaml_blocks() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", README, flags=re.S)


def _nightly() -> dict[str, Any]:
    blocks = [b for b in _yaml_blocks() if f"# .github/workflows/{NIGHTLY_FILE}" in b]
    assert len(blocks) == 1, f"Received: {len(blocks)} nightly recipes\nExpected: 1"
    workflow: dict[str, Any] = yaml.safe_load(blocks[0])
    return workflow


def _steps() -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = _nightly()["jobs"]["full"]["steps"]
    return steps


def _step_running(text: str) -> dict[str, Any]:
    found = [s for s in _steps() if text in str(s.get("run", ""))]
    assert len(found) == 1, (
        f"Received: {len(found)} steps running {text!r}\nExpected: 1"
    )
    return found[0]


def _suite_step() -> dict[str, Any]:
    found = [
        s
        for s in _steps()
        if str(s.get("uses", "")).split("@")[0].endswith("/qbtsuite")
    ]
    assert len(found) == 1, f"Received: {len(found)} steps of the action\nExpected: 1"
    return found[0]


def _words(script: str, command: str) -> list[str]:
    """The words of the command line of ``script`` that starts with ``command``."""
    joined = script.replace("\\\n", " ")
    for line in joined.splitlines():
        start = line.find(command)
        if start >= 0:
            return shlex.split(line[start:].split(")", 1)[0].split(";")[0])
    raise AssertionError(f"Received: no {command!r} in\n{script}\nExpected: one")


def _option(words: list[str], name: str) -> str:
    assert name in words, f"Received: {words}\nExpected: {name}"
    return words[words.index(name) + 1]


def test_the_nightly_recipe_asks_for_the_last_successful_run_of_its_own_workflow() -> (
    None
):
    words = _words(str(_step_running("gh run list")["run"]), "gh run list")
    assert _option(words, "--workflow") == NIGHTLY_FILE
    assert _option(words, "--status") == "success"
    assert _option(words, "--limit") == "1"
    assert _option(words, "--json") == "databaseId"


def test_the_nightly_recipe_downloads_the_artifact_it_uploads() -> None:
    words = _words(str(_step_running("gh run download")["run"]), "gh run download")
    uploaded = _suite_step()["with"]["artifact-name"]
    assert _option(words, "-n") == uploaded, (
        f"Received: downloads {_option(words, '-n')!r}\nExpected: {uploaded!r}, "
        "the name the action uploads the run folder under"
    )


def test_the_nightly_recipe_gives_gh_a_token_and_the_permission_to_read_runs() -> None:
    step = _step_running("gh run list")
    assert "github.token" in str(step.get("env", {}).get("GH_TOKEN", "")), step
    assert _nightly()["permissions"].get("actions") == "read"


def test_the_nightly_recipe_diffs_last_night_against_tonight_in_markdown_to_the_summary() -> (
    None
):
    step = _step_running("qbtsuite diff")
    script = str(step["run"])
    words = _words(script, "qbtsuite diff")
    downloaded = _option(
        _words(str(_step_running("gh run download")["run"]), "gh run download"), "-D"
    )
    tonight = _suite_step()["with"]["output"]
    assert words[2:] == [downloaded, tonight, "--markdown"], words
    assert '>> "$GITHUB_STEP_SUMMARY"' in script
    assert "steps.last.outputs.found == 'true'" in str(step["if"])


def test_every_input_the_readme_gives_the_action_is_one_action_yml_takes() -> None:
    given: set[str] = set()
    for block in _yaml_blocks():
        for match in re.finditer(
            r"uses: [\w-]+/qbtsuite@\S+\n\s+with:\n((?:\s{10,}.*\n)+)", block
        ):
            given |= {line.split(":", 1)[0].strip() for line in match[1].splitlines()}
    assert {"profile", "product", "sign-key", "artifact-name"} <= given, sorted(given)
    unknown = sorted(given - set(ACTION["inputs"]))
    assert not unknown, (
        f"Received: inputs {unknown}\nExpected: only those of action.yml"
    )


def _fake_gh(folder: Path, run_list_output: str) -> Path:
    """A ``gh`` that answers run list with ``run_list_output`` and, on run download,
    unpacks a results.json into the -D folder (failing for an unknown artifact)."""
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    gh = bin_dir / "gh"
    gh.write_text(
        "#!/bin/bash\n"
        'echo "$*" >> "$GH_CALLS"\n'
        'if [ "$1 $2" = "run list" ]; then printf "%s" '
        + shlex.quote(run_list_output)
        + "; exit 0; fi\n"
        'if [ "$1 $2" = "run download" ]; then\n'
        "  while [ $# -gt 0 ]; do\n"
        '    case "$1" in -n) name="$2"; shift;; -D) dir="$2"; shift;; esac; shift\n'
        "  done\n"
        '  [ "$name" = qbt-nightly ] || { echo "no artifact $name" >&2; exit 1; }\n'
        '  mkdir -p "$dir" && echo "{}" > "$dir/results.json"; exit 0\n'
        "fi\n"
        "exit 2\n",
        "utf-8",
    )
    gh.chmod(0o755)
    return bin_dir


def _run_last_step(tmp_path: Path, run_list_output: str) -> dict[str, str]:
    bin_dir = _fake_gh(tmp_path, run_list_output)
    outputs = tmp_path / "outputs"
    outputs.touch()
    done = subprocess.run(
        ["bash", "-e", "-c", str(_step_running("gh run list")["run"])],
        cwd=tmp_path,
        env={
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            "GITHUB_OUTPUT": str(outputs),
            "GH_CALLS": str(tmp_path / "calls"),
            "GH_TOKEN": "test-token",
        },
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = outputs.read_text("utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines)


def test_the_fetch_step_unpacks_last_nights_results_where_the_diff_reads_them(
    tmp_path: Path,
) -> None:
    written = _run_last_step(tmp_path, "4242\n")
    assert written == {"found": "true"}, written
    assert (tmp_path / "last" / "results.json").is_file()
    calls = (tmp_path / "calls").read_text("utf-8").splitlines()
    assert calls[1].startswith("run download 4242 "), calls


def test_the_fetch_step_without_an_earlier_run_skips_the_diff_instead_of_failing(
    tmp_path: Path,
) -> None:
    written = _run_last_step(tmp_path, "")
    assert written == {}, written
    assert not (tmp_path / "last").exists()


def test_the_readme_lists_every_input_and_output_of_the_action() -> None:
    section = README.split("The action's inputs:", 1)
    assert len(section) == 2, "Received: no list of the action's inputs in the README"
    listed = set(re.findall(r"`([\w-]+)`", section[1].split("```", 1)[0]))
    missing = sorted((set(ACTION["inputs"]) | set(ACTION["outputs"])) - listed)
    assert not missing, f"Received: the README leaves out {missing}\nExpected: all"
