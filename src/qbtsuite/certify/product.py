"""The product's identity: a product file (``product.toml``) and flags over it.

A certify run names who certifies which product: ``vendor``, ``product``,
``version``, ``url`` and ``contact`` (see ``product.example.toml``). The flags
(``--vendor``, ``--product-name``, ``--product-version``, ``--product-url``,
``--contact``) override the file's values; all five are needed. A bad file or value
is one :class:`~qbtsuite.errors.ConfigError` line naming the field.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path

from qbtsuite.errors import ConfigError
from qbtsuite.results.model import IDENTITY_FIELDS, Identity
from qbtsuite.target.values import validate_url

__all__ = ["FLAGS", "identity_from"]

# The flag that gives each field on the command line.
FLAGS: Mapping[str, str] = {
    "vendor": "--vendor",
    "product": "--product-name",
    "version": "--product-version",
    "url": "--product-url",
    "contact": "--contact",
}
_LONGEST = 200
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _from_file(path: Path) -> dict[str, object]:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(
            f"cannot read the product file {path}: {exc.strerror}"
        ) from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    unknown = sorted(set(document) - set(IDENTITY_FIELDS))
    if unknown:
        raise ConfigError(
            f"{path}: unknown field(s) {', '.join(unknown)} "
            f"(expected {', '.join(IDENTITY_FIELDS)})"
        )
    return dict(document)


def _checked(name: str, value: object, source: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{source}: {name} must be a non-empty string")
    text = value.strip()
    if "\n" in text or len(text) > _LONGEST:
        raise ConfigError(
            f"{source}: {name} must be one line of at most {_LONGEST} characters"
        )
    if name == "url":
        try:
            validate_url(text)
        except ValueError as exc:
            raise ConfigError(f"{source}: url: {exc}") from None
    if name == "contact" and not _EMAIL.match(text):
        try:
            validate_url(text)
        except ValueError:
            raise ConfigError(
                f"{source}: contact must be an e-mail address or an http(s) URL"
            ) from None
    return text


def identity_from(path: Path | None, flags: Mapping[str, str | None]) -> Identity:
    """The identity from the product file ``path`` and the ``flags`` (by field name,
    None: not given), flags first; ConfigError naming what is missing or wrong."""
    values: dict[str, str] = {}
    if path is not None:
        for name, value in _from_file(path).items():
            values[name] = _checked(name, value, f"product file {path}")
    for name in IDENTITY_FIELDS:
        value = flags.get(name)
        if value is not None:
            values[name] = _checked(name, value, FLAGS[name])
    missing = [n for n in IDENTITY_FIELDS if n not in values]
    if missing:
        where = f"{path} lacks" if path is not None else "missing:"
        raise ConfigError(
            "the certify profile needs the product's identity: --product product.toml "
            f"(see product.example.toml) or {', '.join(FLAGS.values())}; {where} "
            f"{', '.join(missing)}"
        )
    return Identity(**values)
