"""The registry: unique names, docstrings, and a passing and a failing test per check."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import qbtsuite.checks as checks
from qbtsuite.checks import CHECKS, check

HERE = Path(__file__).parent
SOURCES = "\n".join(p.read_text(encoding="utf-8") for p in HERE.glob("test_*.py"))


def called_with(helper: str) -> set[str]:
    return set(re.findall(rf"\b{helper}\(\s*(\w+)\s*,", SOURCES))


def test_every_check_has_a_passing_and_a_failing_example() -> None:
    names = set(CHECKS)
    assert not names - called_with("passes"), "checks without a passing example"
    assert not names - called_with("fails"), "checks without a failing example"


def test_every_check_is_documented_and_exported() -> None:
    for name, fn in CHECKS.items():
        assert fn.__doc__, f"{name} has no docstring"
        assert getattr(checks, name) is fn, f"{name} is not exported by qbtsuite.checks"


def test_registering_a_second_check_under_a_taken_name_is_refused() -> None:
    def status_is() -> None:
        """Another check with a taken name."""

    with pytest.raises(ValueError, match="status_is"):
        check(status_is)
    assert CHECKS["status_is"] is checks.status_is
