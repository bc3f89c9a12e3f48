"""JSON values as parsed by the standard library, for typed transforms."""

from __future__ import annotations

from typing import TypeAlias

__all__ = ["JsonObject", "JsonValue"]

JsonValue: TypeAlias = (
    "dict[str, JsonValue] | list[JsonValue] | str | int | float | bool | None"
)
JsonObject: TypeAlias = "dict[str, JsonValue]"
