"""The requirements catalogue: its content is faithful to the documents, its loader
refuses malformed files, and ``qbtsuite requirements`` shows it."""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from qbtsuite.cli import main
from qbtsuite.errors import ConfigError
from qbtsuite.requirements import (
    AREAS,
    Catalogue,
    Requirement,
    collapse_whitespace,
    load_catalogue,
)
from qbtsuite.resources import data_dir

CATALOGUE_FILE = data_dir("conformance") / "requirements.toml"
# The documents the catalogue quotes are part of the repository (spec/README.md).
SPEC = Path(__file__).resolve().parents[1] / "spec"


def _raw_entries(kind: str) -> list[dict[str, Any]]:
    with CATALOGUE_FILE.open("rb") as fh:
        entries: list[dict[str, Any]] = tomllib.load(fh).get(kind, [])
    return entries


RAW_REQUIREMENTS = _raw_entries("requirement")
RAW_GUIDANCE = _raw_entries("guidance")


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


@pytest.fixture(scope="module")
def source_texts() -> dict[str, str]:
    """Each document of ``spec/`` by file name, whitespace collapsed.

    ``spec/README.md`` says where the documents come from; it is not one of them.
    A missing folder or file makes the quote tests fail, never skip.
    """
    texts: dict[str, str] = {}
    for path in sorted(SPEC.glob("*")):
        if path.suffix in {".txt", ".md", ".yaml"} and path.name != "README.md":
            texts[path.name] = collapse_whitespace(path.read_text("utf-8"))
    return texts


# ── content ──────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    "entry",
    RAW_REQUIREMENTS + RAW_GUIDANCE,
    ids=[e.get("id", f"guidance-{i}") for i, e in enumerate(RAW_REQUIREMENTS)]
    + [f"guidance-{i + 1}" for i in range(len(RAW_GUIDANCE))],
)
def test_every_quote_appears_verbatim_in_its_source(
    entry: dict[str, Any], source_texts: dict[str, str]
) -> None:
    source = entry["source"]
    assert source in source_texts, (
        f"Received: source {source!r}\n"
        f"Expected: one of the documents of {SPEC} {sorted(source_texts)}"
    )
    quote = collapse_whitespace(entry["quote"])
    assert quote in source_texts[source], (
        f"Quote not found in {source}\nReceived: {quote!r}\n"
        "Expected: text copied verbatim from the source (whitespace may differ)"
    )


def test_qubittron_requirements_quote_the_api_documents(catalogue: Catalogue) -> None:
    strays = [r.id for r in catalogue if r.origin == "qubittron" and not _is_spec(r)]
    assert not strays, (
        f"Received: {strays} quote a file outside spec/\n"
        "Expected: qubittron requirements quote spec/*.txt"
    )


def _is_spec(requirement: Requirement) -> bool:
    return requirement.source.endswith(".txt")


def test_ids_are_unique_and_well_formed() -> None:
    ids = [e["id"] for e in RAW_REQUIREMENTS]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, f"Received: duplicate ids {duplicates}"
    malformed = [i for i in ids if not re.fullmatch(r"[A-Z]+-\d{3}", i)]
    assert not malformed, f"Received: {malformed}\nExpected: PREFIX-NNN"
    mismatched = [
        e["id"] for e in RAW_REQUIREMENTS if e["id"].split("-")[0] != AREAS[e["area"]]
    ]
    assert not mismatched, (
        f"Received: ids whose prefix is not their area's: {mismatched}"
    )


def test_ids_are_numbered_from_001_in_file_order_within_each_area() -> None:
    numbers: dict[str, list[int]] = {}
    for e in RAW_REQUIREMENTS:
        numbers.setdefault(e["area"], []).append(int(e["id"].split("-")[1]))
    for area, seen in numbers.items():
        expected = list(range(1, len(seen) + 1))
        assert seen == expected, f"{area}\nReceived: {seen}\nExpected: {expected}"


def test_every_area_has_requirements(catalogue: Catalogue) -> None:
    empty = [area for area, reqs in catalogue.by_area.items() if not reqs]
    assert not empty, f"Received: areas without requirements {empty}"


def test_statements_are_single_testable_lines(catalogue: Catalogue) -> None:
    too_long = [r.id for r in catalogue if len(r.statement) > 240]
    assert not too_long, f"Received: statements over 240 characters {too_long}"


def test_every_should_says_why_by_the_catalogues_rule(catalogue: Catalogue) -> None:
    unexplained = [
        r.id for r in catalogue if r.level == "SHOULD" and not r.level_reason
    ]
    assert not unexplained, f"Received: SHOULDs without a level_reason {unexplained}"


def test_a_level_reason_names_the_level_it_explains(catalogue: Catalogue) -> None:
    wrong = [
        r.id
        for r in catalogue
        if r.level_reason
        and not r.level_reason.startswith(
            "SHOULD → MUST: " if r.level == "MUST" else "SHOULD: "
        )
    ]
    assert not wrong, f"Received: level_reason not matching the level {wrong}"


def test_the_catalogue_header_states_the_level_rule() -> None:
    header = CATALOGUE_FILE.read_text(encoding="utf-8").split("\n[[requirement]]\n")[0]
    text = collapse_whitespace(header.replace("#", " "))
    assert "MUST where the docs say so" in text
    assert "discloses a secret" in text and "SHOULD for the rest" in text


def test_loader_keeps_every_entry_of_the_file(catalogue: Catalogue) -> None:
    assert list(catalogue.requirements) == [e["id"] for e in RAW_REQUIREMENTS]
    assert len(catalogue.guidance) == len(RAW_GUIDANCE)
    assert sum(len(v) for v in catalogue.by_area.values()) == len(catalogue)


def test_digest_is_the_sha256_of_the_file(catalogue: Catalogue) -> None:
    assert catalogue.digest == hashlib.sha256(CATALOGUE_FILE.read_bytes()).hexdigest()


def test_default_catalogue_is_loaded_once() -> None:
    assert load_catalogue() is load_catalogue()


def test_unknown_id_lookup_names_the_id(catalogue: Catalogue) -> None:
    with pytest.raises(KeyError, match="NOPE-001"):
        catalogue["NOPE-001"]


# ── the loader refuses malformed files ───────────────────────────────────────

VALID: dict[str, Any] = {
    "id": "AUTH-001",
    "area": "auth",
    "endpoint": "all",
    "level": "MUST",
    "origin": "qubittron",
    "statement": "A request without a key is rejected with 401.",
    "source": "getting-started.txt",
    "quote": "A request with a missing or invalid key returns:",
    "optional": False,
}


def _toml(entries: list[dict[str, Any]]) -> str:
    blocks = []
    for entry in entries:
        lines = ["[[requirement]]"]
        for key, value in entry.items():
            # JSON strings are valid TOML basic strings; booleans are spelled alike.
            lines.append(f"{key} = {json.dumps(value)}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


@pytest.fixture
def write(tmp_path: Path) -> Iterator[Any]:
    def _write(text: str) -> Path:
        path = tmp_path / "requirements.toml"
        path.write_text(text, encoding="utf-8")
        return path

    yield _write


def test_loader_accepts_a_minimal_valid_file(write: Any) -> None:
    cat = load_catalogue(write(_toml([VALID])))
    assert cat["AUTH-001"] == Requirement(**VALID)
    assert cat.by_area["auth"] == (cat["AUTH-001"],)


def test_loader_accepts_a_level_reason_and_keeps_it_out_of_the_listing(
    write: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    reason = "SHOULD → MUST: the deviation discloses a secret."
    path = write(_toml([{**VALID, "level_reason": reason}]))
    assert load_catalogue(path)["AUTH-001"].level_reason == reason
    assert main(["requirements", "--catalogue", str(path), "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)["requirements"][0]
    assert set(listed) == {*VALID, "capabilities"}  # the reason stays in the file


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"optional": True}, "an optional requirement names the capabilities it needs"),
        ({"capabilities": ["images"]}, "capabilities are named by optional requirements only"),
        ({"optional": True, "capabilities": ["teleport"]}, "unknown capability 'teleport' (known: images,"),
        ({"optional": True, "capabilities": "images"}, "capabilities must be a list of names"),
    ],
)  # fmt: skip
def test_loader_rejects_an_optional_requirement_without_known_capabilities(
    write: Any, change: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_catalogue(write(_toml([{**VALID, **change}])))


def test_an_optional_requirement_keeps_the_capabilities_it_needs(write: Any) -> None:
    entry = {**VALID, "optional": True, "capabilities": ["catalogue", "images"]}
    loaded = load_catalogue(write(_toml([entry])))["AUTH-001"]
    assert loaded.capabilities == ("catalogue", "images")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"level_reason": ""}, "level_reason must be a non-empty string"),
        ({"level_reason": "one\ntwo"}, "level_reason must be one line"),
        ({"level_reason": 3}, "level_reason must be a non-empty string"),
    ],
)
def test_loader_rejects_a_malformed_level_reason(
    write: Any, change: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_catalogue(write(_toml([{**VALID, **change}])))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"area": "authn"}, "unknown area 'authn'"),
        ({"id": "AUTH-1"}, "bad id format 'AUTH-1'"),
        ({"id": "auth-001"}, "bad id format"),
        ({"id": "AUTH-000"}, "bad id format"),
        ({"id": "ERR-001"}, "id prefix ERR does not match area 'auth'"),
        ({"level": "MAY"}, "unknown level 'MAY'"),
        ({"origin": "azure"}, "unknown origin 'azure'"),
        ({"endpoint": "tts"}, "unknown endpoint 'tts'"),
        ({"optional": "no"}, "optional must be true or false"),
        ({"statement": ""}, "statement must be a non-empty string"),
        ({"statement": "line one\nline two"}, "statement must be one line"),
        ({"extra": 1}, "unknown field"),
    ],
)
def test_loader_rejects_a_malformed_requirement(
    write: Any, change: dict[str, Any], message: str
) -> None:
    path = write(_toml([{**VALID, **change}]))
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_catalogue(path)


def test_loader_rejects_a_requirement_with_a_missing_field(write: Any) -> None:
    entry = {k: v for k, v in VALID.items() if k != "quote"}
    with pytest.raises(ConfigError, match="missing field"):
        load_catalogue(write(_toml([entry])))


def test_loader_rejects_a_duplicate_id(write: Any) -> None:
    with pytest.raises(ConfigError, match="duplicate id AUTH-001"):
        load_catalogue(write(_toml([VALID, VALID])))


def test_loader_rejects_invalid_toml(write: Any) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_catalogue(write("[[requirement]]\nid = \n"))


def test_loader_rejects_unknown_top_level_tables(write: Any) -> None:
    with pytest.raises(ConfigError, match="unknown top-level"):
        load_catalogue(write(_toml([VALID]) + "\n[[requirment]]\nid = 'x'\n"))


def test_loader_rejects_incomplete_guidance(write: Any) -> None:
    text = _toml([VALID]) + '\n[[guidance]]\nsource = "a.txt"\nquote = "q"\n'
    with pytest.raises(ConfigError, match="why_not_a_requirement"):
        load_catalogue(write(text))


def test_loader_reports_a_missing_file_as_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_catalogue(tmp_path / "absent.toml")


# ── the command ──────────────────────────────────────────────────────────────


def test_command_prints_every_requirement_id(
    catalogue: Catalogue, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["requirements"]) == 0
    out = capsys.readouterr().out
    printed = set(re.findall(r"^([A-Z]+-\d{3}) ", out, re.M))
    assert printed == set(catalogue.requirements)


def test_command_filters_by_area_and_level(
    catalogue: Catalogue, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["requirements", "--area", "https", "--level", "SHOULD"]) == 0
    printed = set(re.findall(r"^([A-Z]+-\d{3}) ", capsys.readouterr().out, re.M))
    expected = {r.id for r in catalogue.by_area["https"] if r.level == "SHOULD"}
    assert printed == expected and expected


def test_command_json_lists_the_requirements_and_digest(
    catalogue: Catalogue, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["requirements", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["digest"] == catalogue.digest
    assert [r["id"] for r in data["requirements"]] == list(catalogue.requirements)


def test_command_markdown_has_one_row_per_requirement(
    catalogue: Catalogue, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["requirements", "--format", "markdown", "--area", "errors"]) == 0
    rows = capsys.readouterr().out.splitlines()[2:]
    assert [row.split(" | ")[0].lstrip("| ") for row in rows] == [
        r.id for r in catalogue.by_area["errors"]
    ]
    # Pipes inside statements (ERR-005's code list) are escaped, not new cells.
    assert all(row.count(" | ") == 6 for row in rows)


def test_command_lists_guidance(
    catalogue: Catalogue, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["requirements", "--guidance", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["guidance"]) == len(catalogue.guidance)


def test_command_exits_2_on_a_malformed_catalogue(
    write: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(_toml([{**VALID, "level": "MAY"}]))
    assert main(["requirements", "--catalogue", str(path)]) == 2
    assert "unknown level 'MAY'" in capsys.readouterr().err
