"""Which conformance tests check a requirement, and which checks they call.

For ``qbtsuite requirements ID``: the bundled suite is collected (nothing is run or
sent) with the selection ``--qbt-requirement ID``; each test's source names the
check functions (:data:`qbtsuite.checks.CHECKS`) it calls, directly or through a
helper of its module, narrowed to its ``with record.check("ID"):`` blocks when it
has them.
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import io
import sys
import tempfile
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from qbtsuite.checks import CHECKS, error_requirement_checks
from qbtsuite.checks.errorrules import ERROR_FORMAT_REQUIREMENTS, rule_checks
from qbtsuite.harness.invoke import _INI, RunRequest, pytest_args
from qbtsuite.harness.options import pytest_argv
from qbtsuite.resources import data_dir

__all__ = ["TestUse", "checks_called", "tests_checking"]


@dataclass(frozen=True, slots=True)
class TestUse:
    """A test that checks the requirement, and the checks it calls for it."""

    __test__ = False  # not a pytest test class

    nodeid: str
    checks: tuple[str, ...]
    declared: bool = True  # False: it judges the id on its error answers only


def _is_check_of(node: ast.With, requirement: str) -> bool:
    for item in node.items:
        call = item.context_expr
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr == "check"
            and call.args
            and isinstance(call.args[0], ast.Constant)
            and call.args[0].value == requirement
        ):
            return True
    return False


def _names(nodes: list[ast.AST]) -> set[str]:
    found: set[str] = set()
    for node in nodes:
        for child in ast.walk(node):
            if isinstance(child, ast.Name):
                found.add(child.id)
            elif isinstance(child, ast.Attribute):
                found.add(child.attr)
    return found


def _tree(function: Callable[..., Any]) -> ast.AST | None:
    try:
        source = textwrap.dedent(inspect.getsource(function))
    except (OSError, TypeError):
        return None
    return ast.parse(source)


# The error-format rules apply one check per requirement (checks/errorrules.py).
_RULES = error_requirement_checks.__name__


def _helper(
    module: ModuleType, name: str, test_module: str
) -> Callable[..., Any] | None:
    """A function ``name`` of ``module`` that may call checks: one of the test's own
    module or of the suite's helpers (never a check module: checks are leaves)."""
    helper = getattr(module, name, None)
    if not inspect.isfunction(helper):
        return None
    home = helper.__module__
    ours = home.startswith("qbtsuite.") and not home.startswith("qbtsuite.checks")
    return helper if home == test_module or ours else None


def checks_called(
    function: Callable[..., Any], requirement: str | None = None, depth: int = 3
) -> tuple[str, ...]:
    """The registered checks ``function`` calls (through helpers up to ``depth``
    deep), only inside its ``record.check(requirement)`` blocks if it has them."""
    found, _ = _walk(function, requirement, depth, function.__module__)
    return tuple(sorted(found))


def _walk(
    function: Callable[..., Any], requirement: str | None, depth: int, within: str
) -> tuple[set[str], bool]:
    """(the checks called, whether the error-format rules are applied)."""
    tree = _tree(function)
    if tree is None:
        return set(), False
    blocks: list[ast.AST] = [
        n for n in ast.walk(tree) if isinstance(n, ast.With) and requirement
        and _is_check_of(n, requirement)
    ]  # fmt: skip
    names = _names(blocks or [tree])
    found = {n for n in names if n in CHECKS}
    rules = _RULES in names
    module: ModuleType | None = inspect.getmodule(function)
    if depth > 1 and module is not None:
        for name in sorted(names - found):
            helper = _helper(module, name, within)
            if helper is not None and helper is not function:
                narrowed = None if blocks else requirement
                more, applied = _walk(helper, narrowed, depth - 1, within)
                found |= more
                rules = rules or applied
    if rules and requirement:
        found.update(rule_checks(requirement))
    return found, rules


class _Collected:
    def __init__(self, requirement: str) -> None:
        self.requirement = requirement
        self.uses: list[TestUse] = []

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        rid = self.requirement
        for item in session.items:
            declared = any(rid in m.args for m in item.iter_markers("requirement"))
            function = getattr(item, "function", None)
            if function is None:
                continue
            found, rules = _walk(function, rid, 3, function.__module__)
            # A test that holds its error answers to the error format judges every
            # error-format requirement, declared or not (harness/verdicts.py).
            if declared or (rules and rid in ERROR_FORMAT_REQUIREMENTS):
                checks = found if declared else set(rule_checks(rid))
                self.uses.append(TestUse(item.nodeid, tuple(sorted(checks)), declared))


def tests_checking(requirement: str, catalogue: Path | None = None) -> list[TestUse]:
    """The bundled suite's tests of ``requirement`` (every profile), collected."""
    collected = _Collected(requirement)
    with tempfile.TemporaryDirectory(prefix="qbtsuite-inventory-") as scratch:
        folder = Path(scratch)
        ini = folder / "pytest.ini"
        ini.write_text(_INI, encoding="utf-8")
        request = RunRequest(target=None, run_dir=folder, dry_run=True)
        args = pytest_args(request, data_dir("conformance"), ini)
        if catalogue is not None:
            args += pytest_argv({"catalogue": str(catalogue)})
        bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True
        quiet = io.StringIO()
        try:
            with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
                pytest.main(args, plugins=[collected])
        finally:
            sys.dont_write_bytecode = bytecode
    return collected.uses
