"""The container recipe: the wheel inside, a user that is not root, ``qbtsuite`` first."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_TEXT = (ROOT / "Containerfile").read_text("utf-8").replace("\\\n", " ")
LINES = [
    line.strip()
    for line in _TEXT.splitlines()
    if line.strip() and not line.lstrip().startswith("#")
]


def _instructions(name: str) -> list[str]:
    return [line for line in LINES if line.split(" ", 1)[0] == name]


def test_the_image_installs_the_wheel_built_from_this_checkout() -> None:
    runs = " ".join(_instructions("RUN"))
    assert "build --wheel" in runs and "pip install" in runs and ".whl" in runs, runs


def test_the_image_runs_as_a_user_that_is_not_root() -> None:
    users = _instructions("USER")
    assert users, "Received: no USER instruction\nExpected: a non-root USER"
    assert users[-1].split()[1] not in {"root", "0"}, users


def test_the_entrypoint_is_the_qbtsuite_command() -> None:
    assert _instructions("ENTRYPOINT") == ['ENTRYPOINT ["qbtsuite"]'], LINES


def test_the_build_context_leaves_out_local_state() -> None:
    for name in (".containerignore", ".dockerignore"):
        ignored = (ROOT / name).read_text("utf-8").split()
        assert {".venv", ".git", "reports"} <= set(ignored), (name, ignored)
