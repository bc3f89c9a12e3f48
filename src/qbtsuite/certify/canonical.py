"""Canonical JSON: the exact bytes a certificate's signature covers.

The canonical form of a JSON value is ``json.dumps`` with the keys of every object
sorted (by code point), no whitespace at all (``","`` and ``":"`` as separators),
non-ASCII characters written as themselves, and the text encoded as UTF-8. Numbers
are integers only: a float's text is not the same in every JSON library, so a
certificate holds none (durations stay in ``results.json``). In Python:
``json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``
encoded as UTF-8.
"""

from __future__ import annotations

import json

from qbtsuite.results._json import JSONValue

__all__ = ["canonical_json"]


def _check(value: object, where: str) -> None:
    if isinstance(value, float):
        raise ValueError(f"{where}: a float has no canonical form here: {value!r}")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"{where}: object keys are strings, not {key!r}")
            _check(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check(item, f"{where}[{index}]")


def canonical_json(value: JSONValue) -> bytes:
    """The canonical bytes of ``value`` (see the module's documentation)."""
    _check(value, "$")
    text = json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )
    return text.encode("utf-8")
