"""Invalid requests generated from the request schemas (schemas/README.md).

From a valid base body (given by the caller) and the endpoint's request schema, make
one request per way to break it: each required member removed, each property given
a value of a wrong JSON type, each numeric bound crossed just outside, each enum
given a non-member, each ``minLength``/``minItems``/``maxItems`` violated; nested
objects present in the base (``stream_options``, ``messages[0]``) are walked too.
Every schema case is validated against the schema and dropped if it still passes
(e.g. a union that accepts the "wrong" type), so each case really is invalid.

Added to those: transport-level cases (malformed JSON, empty body, wrong or missing
Content-Type, a JSON array) and model cases (unknown model, a model of another
category → 400 ``model_not_found``; spec/getting-started.txt error table).
The result is deterministic and capped.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator

from qbtsuite import schemas

__all__ = ["ENDPOINTS", "NegativeCase", "negative_cases"]

# Endpoint key (the case id prefix) → request schema.
ENDPOINTS: dict[str, str] = {
    "completions": "completion_request",
    "chat": "chat_completion_request",
    "embeddings": "embedding_request",
    "images": "image_request",
    "transcriptions": "transcription_request",
}
_JSON = "application/json"
_NOT_A_MEMBER = "not-a-valid-value"
_MAX_GENERATED_ITEMS = 4096  # skip maxItems cases that would need a larger array
# One representative wrong type per declared type, in order of preference.
_WRONG = {
    "string": ("integer", "boolean", "array", "object"),
    "integer": ("string", "boolean", "array", "object"),
    "number": ("string", "boolean", "array", "object"),
    "boolean": ("string", "integer", "array", "object"),
    "array": ("object", "string", "integer", "boolean"),
    "object": ("array", "string", "integer", "boolean"),
}
_TEXT_WRONG = {"integer": "one", "number": "one", "boolean": "maybe"}  # multipart

Path = tuple[str | int, ...]
Mutation = tuple[Path, str, Any, str]  # where, kind, new value, description


@dataclass(frozen=True, slots=True)
class NegativeCase:
    """One request the target must reject, and how.

    ``body`` is the JSON value to send (for multipart endpoints: the form fields,
    ``file`` standing for the file part), unless ``raw`` gives the exact bytes.
    ``content_type`` None means: send no Content-Type header. ``field`` is what the
    error's ``param`` or message should name (``messages[0].role``).
    """

    id: str
    endpoint: str
    kind: str
    description: str
    body: Any
    raw: bytes | None = None
    content_type: str | None = _JSON
    encoding: str = "json"  # "json" or "multipart"
    field: str | None = None
    expected_status: int = 400
    expected_code: str = "invalid_request"
    violates_schema: bool = True  # False for transport and model cases

    def content(self) -> bytes:
        """The request body bytes for a JSON endpoint."""
        return self.raw if self.raw is not None else json.dumps(self.body).encode()

    def headers(self) -> dict[str, str]:
        return {} if self.content_type is None else {"Content-Type": self.content_type}

    def form_fields(self) -> dict[str, str]:
        """Multipart text parts (all but ``file``), numbers and booleans as JSON text."""
        fields = self.body if isinstance(self.body, Mapping) else {}
        return {
            k: v if isinstance(v, str) else json.dumps(v)
            for k, v in fields.items()
            if k != "file"
        }


def negative_cases(
    endpoint: str,
    base: Mapping[str, Any],
    *,
    unknown_model: str = "qbtsuite-no-such-model",
    other_category_model: str | None = None,
    cap: int = 100,
) -> list[NegativeCase]:
    """The invalid requests for ``endpoint`` derived from the valid ``base`` body."""
    name = ENDPOINTS[endpoint]
    problems = schemas.validate(name, dict(base))
    if problems:
        raise ValueError(f"base body for {endpoint} is invalid: {problems[0]}")
    gen = _Generator(endpoint, name, dict(base))
    cases = [
        *gen.transport_cases(),
        *gen.model_cases(unknown_model, other_category_model),
        *gen.schema_cases(),
    ]
    return cases[: max(cap, 0)]


class _Generator:
    def __init__(self, endpoint: str, name: str, base: dict[str, Any]) -> None:
        self.endpoint = endpoint
        self.name = name
        self.base = base
        self.root = schemas.schema(name)
        self.multipart = self.root.get("x-qbt-encoding") == "multipart"
        self.encoding = "multipart" if self.multipart else "json"

    # -- transport and model cases --------------------------------------------------

    def transport_cases(self) -> Iterator[NegativeCase]:
        text = json.dumps(self.base).encode()
        if self.multipart:  # audio-transcriptions.txt: "non-multipart Content-Type"
            table = [
                ("content_type.json", "the fields sent as JSON", text, _JSON),
                ("content_type.text_plain", "sent as text/plain", text, "text/plain"),
                ("content_type.missing", "no Content-Type header", text, None),
            ]
        else:
            table = [
                ("body.malformed_json", "JSON cut short", text[:-1], _JSON),
                ("body.empty", "an empty body", b"", _JSON),
                (
                    "content_type.text_plain",
                    "JSON sent as text/plain",
                    text,
                    "text/plain",
                ),
                ("content_type.missing", "JSON without Content-Type", text, None),
                (
                    "body.json_array",
                    "a JSON array, not an object",
                    b"[" + text + b"]",
                    _JSON,
                ),
            ]
        for suffix, what, raw, ctype in table:
            yield self._raw(suffix, what, raw, ctype)

    def _raw(
        self, suffix: str, what: str, raw: bytes, ctype: str | None
    ) -> NegativeCase:
        return NegativeCase(
            id=f"{self.endpoint}.{suffix}",
            endpoint=self.endpoint,
            kind=suffix.split(".")[-1],
            description=f"Request body: {what}",
            body=None,
            raw=raw,
            content_type=ctype,
            encoding=self.encoding,
            violates_schema=False,
        )

    def model_cases(self, unknown: str, other: str | None) -> Iterator[NegativeCase]:
        variants = [("unknown", unknown, "a model that does not exist")]
        if other is not None:
            variants.append(("wrong_category", other, "a model of another endpoint"))
        for kind, model, what in variants:
            yield NegativeCase(
                id=f"{self.endpoint}.model.{kind}",
                endpoint=self.endpoint,
                kind=kind,
                description=f"'model' is {model!r}, {what}",
                body={**self.base, "model": model},
                content_type=None if self.multipart else _JSON,
                encoding=self.encoding,
                field="model",
                expected_code="model_not_found",
                violates_schema=False,
            )

    # -- schema cases -------------------------------------------------------------------

    def schema_cases(self) -> Iterator[NegativeCase]:
        seen: set[str] = set()
        for path, kind, value, what in self._object(self.root, self.base, ()):
            body = _mutated(self.base, path, value)
            case_id = f"{self.endpoint}.{_field(path)}.{kind}"
            if case_id in seen or schemas.is_valid(self.name, body):
                continue  # still valid: the schema tolerates this mutation
            seen.add(case_id)
            yield NegativeCase(
                id=case_id,
                endpoint=self.endpoint,
                kind=kind,
                description=f"'{_field(path)}' {what}",
                body=body,
                content_type=None if self.multipart else _JSON,
                encoding=self.encoding,
                field=_field(path),
            )

    def _object(
        self, node: Mapping[str, Any], value: Mapping[str, Any], at: Path
    ) -> Iterator[Mutation]:
        node = schemas.resolve(self.name, node)
        for member in self._required(node, value):
            if member in value:
                yield (*at, member), "missing", _DELETE, "removed (required)"
        props: Mapping[str, Any] = node.get("properties", {})
        for member, sub in props.items():
            yield from self._property(
                schemas.resolve(self.name, sub), (*at, member), value.get(member)
            )
        for member, sub in props.items():
            yield from self._nested(
                schemas.resolve(self.name, sub), (*at, member), value.get(member)
            )

    def _required(self, node: Mapping[str, Any], value: Mapping[str, Any]) -> list[str]:
        required = list(node.get("required", []))
        condition, then = node.get("if"), node.get("then")
        if isinstance(condition, Mapping) and isinstance(then, Mapping):
            check = Draft202012Validator(condition, registry=schemas.registry())
            if check.is_valid(value):
                required += [r for r in then.get("required", []) if r not in required]
        return required

    def _nested(
        self, node: Mapping[str, Any], at: Path, current: Any
    ) -> Iterator[Mutation]:
        for branch in _branches(node):
            if isinstance(current, Mapping) and "properties" in branch:
                yield from self._object(branch, current, at)
                return
            items = branch.get("items")
            if (
                isinstance(current, list)
                and current
                and isinstance(current[0], Mapping)
                and isinstance(items, Mapping)
            ):
                item = schemas.resolve(self.name, items)
                if "properties" in item:
                    yield from self._object(item, current[0], (*at, 0))
                    return

    def _property(
        self, node: Mapping[str, Any], at: Path, current: Any
    ) -> Iterator[Mutation]:
        types = _types(node)
        wrong = self._wrong_type(types, current, node)
        if wrong is not None:
            what = f"set to {wrong[0]} {_show(wrong[1])}, expected {' or '.join(types)}"
            yield at, "wrong_type", wrong[1], what
        for branch in _branches(node):
            for kind, value, what in _bounds(branch, current, _types(branch)):
                yield at, kind, value, what

    def _wrong_type(
        self, types: list[str], current: Any, node: Mapping[str, Any]
    ) -> tuple[str, Any] | None:
        primary = next((t for t in types if t != "null"), None)
        if primary is None:
            return None
        if self.multipart:
            text = _TEXT_WRONG.get(primary)
            return None if text is None else ("text", text)
        for wrong in _WRONG[primary]:
            if wrong in types or (wrong == "integer" and "number" in types):
                continue
            return wrong, _sample(wrong, primary, current, node)
        return None


_DELETE = object()


def _branches(node: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The node and its anyOf/oneOf alternatives (constraints can live in either)."""
    out = [node]
    for key in ("anyOf", "oneOf"):
        out += [b for b in node.get(key, []) if isinstance(b, Mapping)]
    return out


def _types(node: Mapping[str, Any]) -> list[str]:
    """Declared JSON types in order of appearance (from type, enum, const, branches)."""
    found: list[str] = []
    declared = node.get("type")
    found += [declared] if isinstance(declared, str) else list(declared or [])
    for literal in [
        *node.get("enum", []),
        *([node["const"]] if "const" in node else []),
    ]:
        found.append(_json_type(literal))
    for key in ("anyOf", "oneOf"):
        for branch in node.get(key, []):
            found += _types(branch)
    return list(dict.fromkeys(found))


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _sample(wrong: str, primary: str, current: Any, node: Mapping[str, Any]) -> Any:
    """A value of JSON type ``wrong``; for numbers the string looks numeric ("1")."""
    if wrong == "string":
        if primary in ("integer", "number"):
            number = (
                current if isinstance(current, int | float) else node.get("minimum", 1)
            )
            return str(number)
        return "true" if primary == "boolean" else "text"
    return {"integer": 1, "boolean": True, "array": [], "object": {}}[wrong]


def _bounds(
    node: Mapping[str, Any], current: Any, types: list[str]
) -> Iterator[tuple[str, Any, str]]:
    """(kind, value, description) for each bound of ``node``, crossed just outside."""
    step = 1 if "integer" in types and "number" not in types else 0.5
    if "minimum" in node:
        low = node["minimum"] - step
        yield "below_minimum", low, f"set to {low}, below the minimum {node['minimum']}"
    if "maximum" in node:
        high = node["maximum"] + step
        yield (
            "above_maximum",
            high,
            f"set to {high}, above the maximum {node['maximum']}",
        )
    if (least := node.get("minLength", 0)) >= 1:
        short = "x" * (least - 1)
        yield "too_short", short, f"set to {_show(short)}, under {least} character(s)"
    enum = node.get("enum")
    if enum and _NOT_A_MEMBER not in enum:
        allowed = ", ".join(repr(e) for e in enum if e is not None)
        yield "not_in_enum", _NOT_A_MEMBER, f"set to a non-member, not one of {allowed}"
    if (least := node.get("minItems", 0)) >= 1:
        few = list(current[: least - 1]) if isinstance(current, list) else []
        if len(few) == least - 1:
            yield "too_few_items", few, f"given {len(few)} item(s), needs {least}"
    if (most := node.get("maxItems", _MAX_GENERATED_ITEMS)) < _MAX_GENERATED_ITEMS:
        pool = current if isinstance(current, list) and current else [_item(node)]
        many = [copy.deepcopy(pool[i % len(pool)]) for i in range(most + 1)]
        yield "too_many_items", many, f"given {most + 1} items, at most {most}"


def _item(node: Mapping[str, Any]) -> Any:
    """A plausible array item for the array schema ``node``."""
    items = node.get("items", {})
    kind = next((t for t in _types(items) if t != "null"), "string")
    samples = {"string": "x", "integer": 1, "number": 1, "boolean": True}
    return samples.get(kind, {})


def _mutated(base: Mapping[str, Any], path: Path, value: Any) -> dict[str, Any]:
    body: Any = copy.deepcopy(dict(base))
    parent = body
    for part in path[:-1]:
        parent = parent[part]
    if value is _DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = copy.deepcopy(value)
    return dict(body)


def _field(path: Path) -> str:
    """``("messages", 0, "role")`` → ``messages[0].role`` (OpenAI's ``param`` style)."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _show(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."
