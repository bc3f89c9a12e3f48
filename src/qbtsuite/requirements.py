"""The requirements catalogue (``conformance/requirements.toml``): load and validate it.

The catalogue is the hub of the suite: tests declare the ids they check, faults of the
reference server declare the ids they break, and reports are written per id. A
malformed entry is a configuration error (``ConfigError``, exit 2) with a message that
names the entry and the field, because a silently skipped requirement would go
unchecked.
"""

from __future__ import annotations

import functools
import hashlib
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from qbtsuite.capabilities import CAPABILITIES
from qbtsuite.errors import ConfigError
from qbtsuite.resources import data_dir

__all__ = [
    "AREAS",
    "ENDPOINTS",
    "LEVELS",
    "ORIGINS",
    "Catalogue",
    "Guidance",
    "Requirement",
    "collapse_whitespace",
    "load_catalogue",
]

# Area → id prefix. Fixed: tests, faults and reports rely on these names.
AREAS: Mapping[str, str] = MappingProxyType(
    {
        "auth": "AUTH",
        "errors": "ERR",
        "models": "MODEL",
        "completions": "COMP",
        "chat": "CHAT",
        "streaming": "SSE",
        "embeddings": "EMB",
        "images": "IMG",
        "transcriptions": "AUD",
        "uploads": "UPLOAD",
        "https": "HTTPS",
        "rate-limits": "RATE",
        "metering": "METER",
        "clients": "CLIENT",
    }
)
# "all": the statement applies to every endpoint it names (or to all of them).
ENDPOINTS = (
    "models",
    "completions",
    "chat",
    "embeddings",
    "images",
    "transcriptions",
    "all",
)
LEVELS = ("MUST", "SHOULD")
ORIGINS = ("qubittron", "openai")

_ID = re.compile(r"(?P<prefix>[A-Z]+)-(?P<number>\d{3})")
_REQUIREMENT_KEYS = (
    "id",
    "area",
    "endpoint",
    "level",
    "origin",
    "statement",
    "source",
    "quote",
    "optional",
)
# Optional fields: level_reason says why a requirement has the level it has where
# the catalogue's rule (its header) decides it, e.g. a SHOULD raised to MUST;
# capabilities names what an optional requirement needs (qbtsuite.capabilities).
_OPTIONAL_KEYS = ("level_reason", "capabilities")
_GUIDANCE_KEYS = ("source", "quote", "why_not_a_requirement")
_WHITESPACE = re.compile(r"\s+")


def collapse_whitespace(text: str) -> str:
    """``text`` with every run of whitespace turned into one space, stripped.

    Quotes are compared in this form: the spec pages wrap lines where they please.
    """
    return _WHITESPACE.sub(" ", text).strip()


@dataclass(frozen=True, slots=True)
class Requirement:
    """One checkable statement about the target."""

    id: str
    area: str
    endpoint: str
    level: str  # MUST | SHOULD
    origin: str  # qubittron (the spec's contract) | openai (compatibility)
    statement: str
    source: str  # the file the quote is taken from
    quote: str  # verbatim from ``source`` (after collapsing whitespace)
    optional: bool  # needs a capability of the target; may be "unsupported"
    level_reason: str = ""  # why this level, by the catalogue's rule (one line)
    capabilities: tuple[str, ...] = ()  # what it needs (set exactly when optional)

    @property
    def is_must(self) -> bool:
        """True for MUST requirements (their failure fails the run)."""
        return self.level == "MUST"


@dataclass(frozen=True, slots=True)
class Guidance:
    """A statement of the documents that is not server behaviour, and why."""

    source: str
    quote: str
    why_not_a_requirement: str


@dataclass(frozen=True, eq=False)
class Catalogue:
    """The loaded catalogue: requirements by id (file order) and by area."""

    path: Path
    digest: str  # sha256 of the file's bytes, hex
    requirements: Mapping[str, Requirement]
    guidance: tuple[Guidance, ...]
    by_area: Mapping[str, tuple[Requirement, ...]] = field(init=False)

    def __post_init__(self) -> None:
        grouped: dict[str, list[Requirement]] = {area: [] for area in AREAS}
        for req in self.requirements.values():
            grouped[req.area].append(req)
        frozen = {area: tuple(reqs) for area, reqs in grouped.items()}
        object.__setattr__(self, "by_area", MappingProxyType(frozen))

    def __repr__(self) -> str:
        return (
            f"Catalogue(path={str(self.path)!r}, requirements={len(self)}, "
            f"guidance={len(self.guidance)}, digest={self.digest[:12]!r})"
        )

    def __iter__(self) -> Iterator[Requirement]:
        return iter(self.requirements.values())

    def __len__(self) -> int:
        return len(self.requirements)

    def __contains__(self, requirement_id: object) -> bool:
        return requirement_id in self.requirements

    def __getitem__(self, requirement_id: str) -> Requirement:
        try:
            return self.requirements[requirement_id]
        except KeyError:
            raise KeyError(
                f"unknown requirement id {requirement_id!r} (not in {self.path})"
            ) from None


def load_catalogue(path: Path | None = None) -> Catalogue:
    """Load and validate the catalogue at ``path`` (default: the bundled one).

    The default catalogue is read once per process; an explicit ``path`` is read
    every time.
    """
    if path is None:
        return _load_default()
    return _load(path)


@functools.cache
def _load_default() -> Catalogue:
    return _load(data_dir("conformance") / "requirements.toml")


def _load(path: Path) -> Catalogue:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"cannot read the requirements catalogue {path}: {exc}"
        ) from None
    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    unknown = sorted(set(document) - {"requirement", "guidance"})
    if unknown:
        raise ConfigError(
            f"{path}: unknown top-level key(s) {', '.join(unknown)} "
            "(expected [[requirement]] and [[guidance]] tables)"
        )
    requirements: dict[str, Requirement] = {}
    for index, entry in enumerate(_tables(path, document, "requirement"), start=1):
        req = _requirement(path, index, entry)
        if req.id in requirements:
            raise ConfigError(f"{path}: requirement #{index}: duplicate id {req.id}")
        requirements[req.id] = req
    guidance = tuple(
        _guidance(path, index, entry)
        for index, entry in enumerate(_tables(path, document, "guidance"), start=1)
    )
    return Catalogue(
        path=path,
        digest=hashlib.sha256(raw).hexdigest(),
        requirements=MappingProxyType(requirements),
        guidance=guidance,
    )


def _tables(path: Path, document: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = document.get(key, [])
    if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
        raise ConfigError(f"{path}: {key!r} must be an array of tables ([[{key}]])")
    return value


def _fields(
    where: str,
    entry: dict[str, Any],
    keys: tuple[str, ...],
    optional: tuple[str, ...] = (),
) -> dict[str, Any]:
    missing = [k for k in keys if k not in entry]
    if missing:
        raise ConfigError(f"{where}: missing field(s) {', '.join(missing)}")
    extra = sorted(set(entry) - set(keys) - set(optional))
    if extra:
        raise ConfigError(f"{where}: unknown field(s) {', '.join(extra)}")
    for key in (*keys, *(k for k in optional if k in entry)):
        value = entry[key]
        if key == "optional":
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: optional must be true or false")
        elif key == "capabilities":
            if not isinstance(value, list) or not all(
                isinstance(v, str) for v in value
            ):
                raise ConfigError(f"{where}: capabilities must be a list of names")
        elif not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{where}: {key} must be a non-empty string")
    return entry


def _one_of(where: str, name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(
            f"{where}: unknown {name} {value!r} (expected one of {', '.join(allowed)})"
        )


def _requirement(path: Path, index: int, entry: dict[str, Any]) -> Requirement:
    label = entry.get("id") if isinstance(entry.get("id"), str) else "?"
    where = f"{path}: requirement #{index} ({label})"
    f = _fields(where, entry, _REQUIREMENT_KEYS, _OPTIONAL_KEYS)
    match = _ID.fullmatch(f["id"])
    if match is None or match["number"] == "000":
        raise ConfigError(
            f"{where}: bad id format {f['id']!r} (expected PREFIX-NNN, e.g. AUTH-001)"
        )
    _one_of(where, "area", f["area"], tuple(AREAS))
    if match["prefix"] != AREAS[f["area"]]:
        raise ConfigError(
            f"{where}: id prefix {match['prefix']} does not match area "
            f"{f['area']!r} (expected {AREAS[f['area']]}-NNN)"
        )
    _one_of(where, "endpoint", f["endpoint"], ENDPOINTS)
    _one_of(where, "level", f["level"], LEVELS)
    _one_of(where, "origin", f["origin"], ORIGINS)
    for key in ("statement", "level_reason"):
        if "\n" in f.get(key, "").strip():
            raise ConfigError(f"{where}: {key} must be one line")
    capabilities = _capabilities(where, f)
    return Requirement(**{**f, "capabilities": capabilities})


def _capabilities(where: str, entry: dict[str, Any]) -> tuple[str, ...]:
    """An optional requirement names what it needs; no other one names anything."""
    names = tuple(entry.get("capabilities", ()))
    unknown = [n for n in names if n not in CAPABILITIES]
    if unknown:
        raise ConfigError(
            f"{where}: unknown capability {', '.join(map(repr, unknown))} "
            f"(known: {', '.join(CAPABILITIES)})"
        )
    if entry["optional"] and not names:
        raise ConfigError(
            f"{where}: an optional requirement names the capabilities it needs "
            "(capabilities = [...])"
        )
    if names and not entry["optional"]:
        raise ConfigError(
            f"{where}: capabilities are named by optional requirements only "
            "(optional = true)"
        )
    return names


def _guidance(path: Path, index: int, entry: dict[str, Any]) -> Guidance:
    f = _fields(f"{path}: guidance #{index}", entry, _GUIDANCE_KEYS)
    return Guidance(**f)
