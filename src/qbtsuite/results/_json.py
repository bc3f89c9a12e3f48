"""JSON as the run's files hold it, and reading its fields with one clear error.

Only the ``to_json``/``from_json`` pair of each record type (those of the run's results
and of the certificate) and the store use this: a
field of the wrong type or a missing one is a :class:`~qbtsuite.errors.RunFileError`
naming where in the file it is, never a ``KeyError`` deep inside a report writer.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum
from typing import TypeAlias, TypeVar

from qbtsuite.errors import RunFileError

__all__ = ["JSONObject", "JSONValue", "Reader"]

JSONValue: TypeAlias = (
    bool | int | float | str | list["JSONValue"] | dict[str, "JSONValue"] | None
)
JSONObject: TypeAlias = dict[str, JSONValue]

_MISSING = object()
_E = TypeVar("_E", bound=StrEnum)


class Reader:
    """One JSON object of a run file, read field by field (``where`` names it)."""

    __slots__ = ("_data", "where")

    def __init__(self, data: object, where: str) -> None:
        if not isinstance(data, dict):
            raise RunFileError(f"{where}: expected an object, got {_kind(data)}")
        self._data: dict[str, object] = data
        self.where = where

    def _get(self, key: str, default: object) -> object:
        if key in self._data:
            return self._data[key]
        if default is _MISSING:
            raise RunFileError(f"{self.where}: missing field {key!r}")
        return default

    def _wrong(self, key: str, expected: str, value: object) -> RunFileError:
        return RunFileError(
            f"{self.where}.{key}: expected {expected}, got {_kind(value)}"
        )

    def has(self, key: str) -> bool:
        return key in self._data

    def is_text(self, key: str) -> bool:
        """Whether ``key`` is present and a string (a member of two shapes)."""
        return isinstance(self._data.get(key), str)

    def keys(self) -> list[str]:
        return list(self._data)

    def text(self, key: str, default: object = _MISSING) -> str:
        value = self._get(key, default)
        if not isinstance(value, str):
            raise self._wrong(key, "a string", value)
        return value

    def member(self, key: str, kind: type[_E], default: object = _MISSING) -> _E:
        """A string that must be a value of the StrEnum ``kind``."""
        value = self.text(key, default)
        try:
            return kind(value)
        except ValueError:
            known = ", ".join(repr(m.value) for m in kind)
            raise RunFileError(
                f"{self.where}.{key}: {value!r} is not one of {known}"
            ) from None

    def optional_text(self, key: str) -> str | None:
        value = self._get(key, None)
        if value is not None and not isinstance(value, str):
            raise self._wrong(key, "a string or null", value)
        return value

    def number(self, key: str, default: object = _MISSING) -> float:
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._wrong(key, "a number", value)
        return float(value)

    def optional_number(self, key: str) -> float | None:
        value = self._get(key, None)
        return None if value is None else self.number(key)

    def integer(self, key: str, default: object = _MISSING) -> int:
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._wrong(key, "an integer", value)
        return value

    def optional_integer(self, key: str) -> int | None:
        value = self._get(key, None)
        return None if value is None else self.integer(key)

    def flag(self, key: str, default: object = _MISSING) -> bool:
        value = self._get(key, default)
        if not isinstance(value, bool):
            raise self._wrong(key, "true or false", value)
        return value

    def texts(self, key: str, default: object = _MISSING) -> tuple[str, ...]:
        value = self._get(key, default)
        if not isinstance(value, list | tuple) or not all(
            isinstance(v, str) for v in value
        ):
            raise self._wrong(key, "a list of strings", value)
        return tuple(value)

    def integers(self, key: str, default: object = _MISSING) -> tuple[int, ...]:
        value = self._get(key, default)
        if not isinstance(value, list | tuple) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value
        ):
            raise self._wrong(key, "a list of integers", value)
        return tuple(value)

    def optional_texts(self, key: str) -> tuple[str, ...] | None:
        return None if self._get(key, None) is None else self.texts(key)

    def child(self, key: str, default: object = _MISSING) -> Reader:
        return Reader(self._get(key, default), f"{self.where}.{key}")

    def optional_child(self, key: str) -> Reader | None:
        value = self._get(key, None)
        return None if value is None else Reader(value, f"{self.where}.{key}")

    def children(self, key: str, default: object = _MISSING) -> list[Reader]:
        """A list of objects."""
        value = self._get(key, default)
        if not isinstance(value, list):
            raise self._wrong(key, "a list", value)
        return [Reader(v, f"{self.where}.{key}[{i}]") for i, v in enumerate(value)]

    def entries(self) -> Iterator[tuple[str, Reader]]:
        """This object's members, each an object (e.g. requirements by id)."""
        for key, value in self._data.items():
            yield key, Reader(value, f"{self.where}.{key}")

    def text_values(self) -> dict[str, str | None]:
        """This object's members, each a string or null (e.g. models by endpoint)."""
        out: dict[str, str | None] = {}
        for key, value in self._data.items():
            if value is not None and not isinstance(value, str):
                raise self._wrong(key, "a string or null", value)
            out[key] = value
        return out

    def counts(self, kind: type[_E]) -> dict[_E, int]:
        """This object's members, each an integer, keyed by a value of ``kind``
        (e.g. totals by outcome)."""
        out: dict[_E, int] = {}
        for key in self._data:
            try:
                member = kind(key)
            except ValueError:
                raise RunFileError(f"{self.where}: unknown key {key!r}") from None
            out[member] = self.integer(key)
        return out


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    return f"the {type(value).__name__} {value!r}"
