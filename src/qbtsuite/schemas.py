"""The suite's JSON Schemas (Draft 2020-12): loading, validation, digest.

Every file in ``schemas/`` is one document with an ``$id`` under :data:`BASE_URI`;
they reference each other by relative ``$ref`` (``common.json#/$defs/usage``), so all
of them are loaded into one :class:`referencing.Registry`. Checks call
:func:`validate`, which returns every violation with a JSON path of the offending
value (``$.choices[0].delta.content``) instead of raising on the first one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from qbtsuite.resources import data_dir

__all__ = [
    "BASE_URI",
    "SchemaViolation",
    "is_valid",
    "json_path",
    "registry",
    "resolve",
    "schema",
    "schema_digest",
    "schema_names",
    "validate",
    "validator",
]

BASE_URI = "https://qbtsuite.example/schemas/"
_MAX_MESSAGE = 240  # messages quote the instance; an embedding can be kilobytes
_MISMATCH = {"type", "const", "enum"}  # errors that rule an alternative out


@dataclass(frozen=True, slots=True)
class SchemaViolation:
    """One way an instance fails a schema.

    ``path`` is the JSON path of the failing value; for a missing required member
    it is the path the member should have had (``$.error.code``).
    """

    path: str
    schema_path: str
    message: str
    keyword: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def _schema_files() -> list[Path]:
    return sorted(data_dir("schemas").glob("*.json"))


@cache
def _documents() -> dict[str, dict[str, Any]]:
    docs: dict[str, dict[str, Any]] = {}
    for path in _schema_files():
        doc = json.loads(path.read_text(encoding="utf-8"))
        expected = BASE_URI + path.name
        if doc.get("$id") != expected:
            raise ValueError(f"{path.name}: $id must be {expected!r}")
        docs[path.stem] = doc
    return docs


def schema_names() -> tuple[str, ...]:
    """The names of all schemas (file names without ``.json``), sorted."""
    return tuple(sorted(_documents()))


def schema(name: str) -> dict[str, Any]:
    """The schema document ``name`` (e.g. ``"chat_completion_chunk"``)."""
    try:
        return _documents()[name]
    except KeyError:
        known = ", ".join(schema_names())
        raise KeyError(f"no schema {name!r}; known: {known}") from None


@cache
def registry() -> Registry[Any]:
    """All schemas, addressable by their ``$id``."""
    resources = [
        (doc["$id"], Resource.from_contents(doc, default_specification=DRAFT202012))
        for doc in _documents().values()
    ]
    return Registry().with_resources(resources).crawl()


@cache
def validator(name: str) -> Draft202012Validator:
    """A compiled validator for schema ``name`` (built once per process)."""
    return Draft202012Validator(schema(name), registry=registry())


def resolve(name: str, node: Mapping[str, Any]) -> Mapping[str, Any]:
    """Follow ``$ref`` chains in ``node`` (a part of schema ``name``)."""
    base = schema(name)["$id"]
    resolver = registry().resolver(base_uri=base)
    while isinstance(ref := node.get("$ref"), str):
        resolved = resolver.lookup(ref)
        resolver = resolved.resolver
        node = resolved.contents
    return node


def validate(name: str, instance: Any) -> list[SchemaViolation]:
    """Every violation of schema ``name`` by ``instance``, ordered by path."""
    errors = validator(name).iter_errors(instance)
    found = [_violation(error) for error in _explain(errors)]
    return sorted(found, key=lambda v: (v.path, v.schema_path, v.message))


def is_valid(name: str, instance: Any) -> bool:
    return bool(validator(name).is_valid(instance))


def json_path(parts: Iterable[str | int]) -> str:
    """``["choices", 0, "delta"]`` → ``$.choices[0].delta``."""
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.isidentifier():
            out += f".{part}"
        else:
            out += "[" + json.dumps(part) + "]"
    return out


def schema_digest() -> str:
    """sha256 over the schema files (name and bytes, in name order), for reports."""
    digest = hashlib.sha256()
    for path in _schema_files():
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _explain(errors: Iterable[ValidationError]) -> Iterator[ValidationError]:
    """Replace an anyOf/oneOf failure by the errors of the alternative that fits.

    An alternative "fits" when its errors are not about the instance's own type or
    value (a ``type``/``const``/``enum`` error right at the instance): for
    ``content: [{}]`` the array alternative fits and the real problem is
    ``$.content[0].type`` missing. When several fit, the one with the deepest error
    wins (first in schema order on a tie); when none fits, the error stays as is.
    """
    for error in errors:
        if not error.context:
            yield error
            continue
        branches: dict[Any, list[ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        fitting = [
            subs
            for subs in branches.values()
            if not any(s.validator in _MISMATCH and not s.relative_path for s in subs)
        ]
        if not fitting:
            # Say what each alternative wanted instead of "not valid under any".
            error.message = "; ".join(dict.fromkeys(s.message for s in error.context))
            yield error
            continue
        best = max(fitting, key=lambda subs: max(len(s.relative_path) for s in subs))
        yield from _explain(best)


def _violation(error: ValidationError) -> SchemaViolation:
    parts: list[str | int] = list(error.absolute_path)
    if error.validator == "required":
        parts.append(_missing_member(error))
    message = error.message
    if len(message) > _MAX_MESSAGE:
        message = message[: _MAX_MESSAGE - 1] + "…"
    return SchemaViolation(
        path=json_path(parts),
        schema_path="/".join(str(p) for p in error.absolute_schema_path),
        message=message,
        keyword=str(error.validator),
    )


def _missing_member(error: ValidationError) -> str:
    """The member a ``required`` error is about (jsonschema reports one per member)."""
    value = error.validator_value
    required: Sequence[str] = value if isinstance(value, list) else []
    present = error.instance if isinstance(error.instance, Mapping) else {}
    for member in required:
        if member not in present and error.message.startswith(repr(member)):
            return member
    return next((m for m in required if m not in present), "?")
