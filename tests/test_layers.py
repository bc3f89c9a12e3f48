"""The layers of ARCHITECTURE.md hold: each package imports only what it may.

Every import of every module is read with :mod:`ast`, those inside functions and
``if TYPE_CHECKING:`` blocks included, so a lazy import cannot slip through. Each rule
is one test, parametrised by module.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
PACKAGE = SRC / "qbtsuite"
# The entry point: it only calls the command line, and nothing imports it.
ENTRY_POINT = "qbtsuite.__main__"


@dataclass(frozen=True)
class Import:
    """One module named by an import statement, where it was written."""

    where: str  # the file, from the repository root
    line: int
    module: str

    def __str__(self) -> str:
        return f"{self.where}:{self.line} imports {self.module}"


def _module_name(path: Path) -> str:
    """``src/qbtsuite/a/b.py`` → ``qbtsuite.a.b``; elsewhere, the path from the root."""
    base = SRC if path.is_relative_to(SRC) else ROOT
    parts = path.relative_to(base).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


SRC_MODULES = _modules(PACKAGE)
OUR_MODULE_NAMES = frozenset(_module_name(p) for p in SRC_MODULES)


def read_imports(
    source: str, where: str, name: str, is_package: bool, ours: frozenset[str]
) -> tuple[Import, ...]:
    """The modules that the code of module ``name`` imports, anywhere in it.

    ``from a import b`` names ``a.b`` when that is one of ``ours``, else ``a``;
    relative imports are resolved against the module's package.
    """
    package = name if is_package else name.rpartition(".")[0]
    found: list[Import] = []
    for node in ast.walk(ast.parse(source, filename=where)):
        if isinstance(node, ast.Import):
            found += (Import(where, node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.append(Import(where, node.lineno, full if full in ours else base))
    return tuple(dict.fromkeys(found))


@cache
def imports_of(path: Path) -> tuple[Import, ...]:
    return read_imports(
        path.read_text("utf-8"),
        path.relative_to(ROOT).as_posix(),
        _module_name(path),
        path.name == "__init__.py",
        OUR_MODULE_NAMES,
    )


def _within(module: str, prefixes: Iterable[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _offences(path: Path, forbidden: Callable[[str], bool]) -> list[str]:
    return [str(i) for i in imports_of(path) if forbidden(i.module)]


def _assert_keeps(path: Path, forbidden: Callable[[str], bool], expected: str) -> None:
    offences = _offences(path, forbidden)
    assert not offences, "Received: " + "; ".join(offences) + f"\nExpected: {expected}"


def _cases(paths: Sequence[Path]) -> list[object]:
    """One case per module, its path as the id."""
    return [pytest.param(path, id=path.relative_to(ROOT).as_posix()) for path in paths]


def _under(*folders: str) -> list[Path]:
    return [p for folder in folders for p in _modules(ROOT / folder)]


PYTEST = ("pytest", "_pytest")
LOAD_ENGINE = ("locust", "gevent")


def _is_pytest_or(*ours: str) -> Callable[[str], bool]:
    return lambda module: _within(module, (*PYTEST, *ours))


# ── what each layer may import ───────────────────────────────────────────────


@pytest.mark.parametrize("path", _cases(_under("src/qbtsuite/target")))
def test_target_never_imports_pytest_nor_the_harness(path: Path) -> None:
    _assert_keeps(
        path,
        _is_pytest_or("qbtsuite.harness"),
        "target/ (config, discovery, the HTTP client) imports neither pytest nor "
        "qbtsuite.harness: it serves the load suite and the command line too",
    )


@pytest.mark.parametrize("path", _cases(_under("src/qbtsuite/checks")))
def test_checks_never_import_the_harness_the_http_client_nor_pytest(
    path: Path,
) -> None:
    _assert_keeps(
        path,
        _is_pytest_or("qbtsuite.harness", "qbtsuite.target.client"),
        "checks/ are pure functions over a reply: no qbtsuite.harness, no "
        "qbtsuite.target.client, no pytest",
    )


@pytest.mark.parametrize(
    "path",
    _cases(
        _under(
            "src/qbtsuite/results", "src/qbtsuite/reporting", "src/qbtsuite/certify"
        ),
    ),
)
def test_results_reporting_and_certify_never_import_pytest_nor_the_harness(
    path: Path,
) -> None:
    _assert_keeps(
        path,
        _is_pytest_or("qbtsuite.harness"),
        "results/, reporting/ and certify/ read and write run records without pytest "
        "or qbtsuite.harness (`qbtsuite report`, `diff` and `verify` run without a "
        "test session)",
    )


SERVER_MAY_IMPORT = ("qbtsuite.server", "qbtsuite.modelcatalog")


@pytest.mark.parametrize("path", _cases(_under("src/qbtsuite/server")))
def test_the_reference_server_imports_nothing_of_the_suite_but_the_model_catalogue(
    path: Path,
) -> None:
    _assert_keeps(
        path,
        lambda m: _within(m, ("qbtsuite",)) and not _within(m, SERVER_MAY_IMPORT),
        "server/ imports only qbtsuite.server.* and qbtsuite.modelcatalog",
    )


@pytest.mark.parametrize("path", _cases(_under("conformance")))
def test_the_conformance_suite_never_imports_the_reference_server(path: Path) -> None:
    _assert_keeps(
        path,
        lambda m: _within(m, ("qbtsuite.server",)),
        "conformance/ is black-box: it speaks HTTP to the target and never imports "
        "qbtsuite.server",
    )


@pytest.mark.parametrize("path", _cases(_under("src/qbtsuite", "conformance")))
def test_only_the_load_folder_imports_locust_or_gevent(path: Path) -> None:
    _assert_keeps(
        path,
        lambda m: _within(m, LOAD_ENGINE),
        "locust and gevent are imported only under load/ (gevent's monkey-patching "
        "must never reach the process that starts Locust)",
    )


@pytest.mark.parametrize(
    "path",
    _cases(
        [
            p
            for p in SRC_MODULES
            if not _within(_module_name(p), ("qbtsuite.cli", ENTRY_POINT))
        ]
    ),
)
def test_nothing_below_the_command_line_imports_it(path: Path) -> None:
    _assert_keeps(
        path,
        lambda m: _within(m, ("qbtsuite.cli",)),
        "only qbtsuite.cli itself and qbtsuite.__main__ import qbtsuite.cli",
    )


# ── no cycles between the packages ───────────────────────────────────────────


def _layer(module: str) -> str | None:
    """The package of ``src/qbtsuite`` a module belongs to; top-level modules and
    ``qbtsuite`` itself are the core. None for modules outside the suite."""
    parts = module.split(".")
    if parts[0] != "qbtsuite":
        return None
    if len(parts) > 1 and (PACKAGE / parts[1]).is_dir():
        return parts[1]
    return "core"


def _layer_edges() -> dict[tuple[str, str], Import]:
    """Each dependency between two layers, with the first import that makes it."""
    edges: dict[tuple[str, str], Import] = {}
    for path in SRC_MODULES:
        name = _module_name(path)
        if name == ENTRY_POINT:
            continue
        for imp in imports_of(path):
            source, target = _layer(name), _layer(imp.module)
            if source and target and source != target:
                edges.setdefault((source, target), imp)
    return edges


def _path_between(
    start: str, goal: str, edges: Iterable[tuple[str, str]]
) -> list[str] | None:
    """The shortest chain of layers from ``start`` to ``goal``, if there is one."""
    following: dict[str, list[str]] = {}
    for a, b in edges:
        following.setdefault(a, []).append(b)
    paths, seen = [[start]], {start}
    while paths:
        path = paths.pop(0)
        for nxt in sorted(following.get(path[-1], [])):
            if nxt == goal:
                return [*path, nxt]
            if nxt not in seen:
                seen.add(nxt)
                paths.append([*path, nxt])
    return None


def test_the_packages_of_the_suite_import_each_other_without_cycles() -> None:
    edges = _layer_edges()
    assert edges, "Received: no imports between packages (the scan found nothing)"
    cycles: list[str] = []
    reported: set[frozenset[str]] = set()
    for a, b in sorted(edges):
        back = _path_between(b, a, edges)
        if back is None or frozenset(back) in reported:
            continue
        reported.add(frozenset(back))
        chain = [a, *back]
        steps = "; ".join(str(edges[x, y]) for x, y in itertools.pairwise(chain))
        cycles.append(f"{' → '.join(chain)} ({steps})")
    assert not cycles, (
        "Received: import cycles between packages:\n  "
        + "\n  ".join(cycles)
        + "\nExpected: the packages form layers (core at the bottom, cli at the top); "
        "ARCHITECTURE.md says which may import which"
    )


# ── the layer table of ARCHITECTURE.md ───────────────────────────────────────

# Which packages each package of src/qbtsuite may import (besides itself); "core" is
# the top-level modules. ARCHITECTURE.md's "Layers" table says the same.
ALL_PACKAGES = frozenset(
    p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").is_file()
) | {"core"}
MAY_IMPORT: dict[str, frozenset[str]] = {
    "core": frozenset(),
    "process": frozenset({"core"}),
    "payloads": frozenset({"core"}),
    "server": frozenset({"core"}),
    "target": frozenset({"core", "process"}),
    "results": frozenset({"core", "target"}),
    "reporting": frozenset({"core", "results", "target"}),
    "certify": frozenset({"core", "results", "target"}),
    "loadtest": frozenset({"core", "process", "reporting", "target"}),
    "selftest": frozenset({"core", "process", "results", "server"}),
    "checks": frozenset({"core", "loadtest", "target"}),
    "harness": frozenset(
        {"core", "process", "target", "results", "reporting", "certify", "checks"}
    ),
    "cli": ALL_PACKAGES - {"cli"},
}


def test_every_package_of_the_suite_has_a_row_in_the_layer_table() -> None:
    missing = sorted(ALL_PACKAGES - set(MAY_IMPORT))
    assert not missing, f"Received: packages without a layer: {missing}\nExpected: none"


def test_each_package_imports_only_the_packages_its_layer_allows() -> None:
    offences = [
        f"{imp} ({source} → {target})"
        for (source, target), imp in sorted(_layer_edges().items())
        if target not in MAY_IMPORT.get(source, frozenset())
    ]
    assert not offences, (
        "Received: " + "; ".join(offences) + "\nExpected: only the imports "
        "ARCHITECTURE.md's layer table allows (MAY_IMPORT)"
    )


def documented_layers(text: str) -> dict[str, frozenset[str]]:
    """The rows between ``<!-- layers`` and ``<!-- /layers -->``: package → may import."""
    block = text.split("<!-- layers", 1)[1].split("<!-- /layers -->", 1)[0]
    table: dict[str, frozenset[str]] = {}
    for line in block.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2 or cells[0] in ("package", "") or set(cells[0]) <= {"-"}:
            continue
        allowed = cells[1]
        if allowed == "every package":
            table[cells[0]] = ALL_PACKAGES - {cells[0]}
        elif allowed == "(nothing)":
            table[cells[0]] = frozenset()
        else:
            table[cells[0]] = frozenset(a.strip() for a in allowed.split(","))
    return table


def test_the_layer_table_of_architecture_md_is_the_one_this_file_enforces() -> None:
    documented = documented_layers((ROOT / "ARCHITECTURE.md").read_text("utf-8"))
    differ = {
        name: (sorted(documented.get(name, ())), sorted(MAY_IMPORT.get(name, ())))
        for name in set(documented) | set(MAY_IMPORT)
        if documented.get(name) != MAY_IMPORT.get(name)
    }
    assert not differ, (
        f"Received: rows that differ (ARCHITECTURE.md, MAY_IMPORT): {differ}\n"
        "Expected: the document and the test hold the same layers"
    )


# ── the reader itself ────────────────────────────────────────────────────────


def test_the_import_reader_finds_lazy_relative_and_type_checking_imports() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "from . import sibling, VALUE\n"
        "from ..core import thing\n"
        "if TYPE_CHECKING:\n"
        "    import pytest\n"
        "def later() -> None:\n"
        "    import locust.env\n"
    )
    ours = frozenset({"qbtsuite.demo", "qbtsuite.demo.sibling", "qbtsuite.core"})
    found = read_imports(source, "demo/mod.py", "qbtsuite.demo.mod", False, ours)
    expected = [
        ("typing", 1),
        ("qbtsuite.demo.sibling", 2),
        ("qbtsuite.demo", 2),  # VALUE is a name, not a module
        ("qbtsuite.core", 3),
        ("pytest", 5),
        ("locust.env", 7),
    ]
    received = [(i.module, i.line) for i in found]
    assert received == expected, f"Received: {received}\nExpected: {expected}"
