"""API keys: who may call, with what per-minute limit and what balance.

Keys come from a TOML file or, by default, a freshly generated set with one key per
role the suite needs: ``main``, ``second``, ``zero_balance`` and ``low_limit``.
"""

from __future__ import annotations

import secrets
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_ROLES",
    "Account",
    "KeyStore",
    "KeysFileError",
    "Pricing",
    "generate_key",
    "is_key_token",
]

DEFAULT_ROLES: Mapping[str, tuple[int, float]] = {
    # role: (requests per minute, balance in credits)
    "main": (100_000, 1e12),
    "second": (100_000, 1e12),
    "zero_balance": (600, 0.0),
    "low_limit": (30, 1e12),
}


class KeysFileError(ValueError):
    """The keys file is missing, not TOML, or has a bad entry."""


def is_key_token(text: str) -> bool:
    """Whether ``text`` is a token as keys spell it: ``[A-Za-z0-9_-]+`` (a subset
    of RFC 6750's b64token, so every key can be sent in a Bearer header as is)."""
    plain = text.replace("-", "").replace("_", "")
    return bool(text) and (not plain or (plain.isascii() and plain.isalnum()))


def generate_key() -> str:
    """A fresh key in the documented ``qbt_`` form; never a real one."""
    return "qbt_test_" + secrets.token_hex(16)


@dataclass(frozen=True, slots=True)
class Pricing:
    """Credits charged per metered unit (the spec's "Pricing" sections)."""

    token: float = 1.0  # completions/chat: input + output tokens
    embedding_token: float = 1.0  # embeddings: input tokens only
    image: float = 1000.0  # per generated image
    audio_second: float = 10.0  # per second of audio


@dataclass(slots=True)
class Account:
    """One key's state. ``balance`` changes as requests are metered."""

    key: str
    role: str
    rpm: int
    balance: float

    def charge(self, credits: float) -> None:
        """Deduct ``credits`` (may leave the balance below zero by one request).

        Endpoints charge on the event loop's thread (worker threads only render
        images and read audio), so no lock is needed.
        """
        self.balance -= credits


class KeyStore:
    """Lookup of accounts by key."""

    def __init__(self, accounts: Iterable[Account], pricing: Pricing) -> None:
        self._by_key = {a.key: a for a in accounts}
        self.pricing = pricing
        # The gate accepts a known key without parsing it further (gate.authenticate).
        odd = [a.role for a in self._by_key.values() if not is_key_token(a.key)]
        if odd:
            raise ValueError(f"keys must be Bearer tokens; not so for roles {odd}")

    @classmethod
    def default(cls) -> KeyStore:
        """One generated key per role in :data:`DEFAULT_ROLES`."""
        return cls(
            (
                Account(generate_key(), role, rpm, bal)
                for role, (rpm, bal) in DEFAULT_ROLES.items()
            ),
            Pricing(),
        )

    @classmethod
    def from_toml(cls, path: Path) -> KeyStore:
        """Load ``[[keys]]`` entries (role, key, rpm, balance) and ``[pricing]``."""
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise KeysFileError(
                f"cannot read keys file {path}: {exc.strerror}"
            ) from None
        except tomllib.TOMLDecodeError as exc:
            raise KeysFileError(f"keys file {path} is not valid TOML: {exc}") from None
        entries = data.get("keys", [])
        if not isinstance(entries, list):
            raise KeysFileError(f"keys file {path}: 'keys' must be an array of tables")
        try:
            accounts = [_account(entry, i) for i, entry in enumerate(entries)]
        except KeysFileError as exc:
            raise KeysFileError(f"keys file {path}: {exc}") from None
        if not accounts:
            raise KeysFileError(f"keys file {path} defines no [[keys]]")
        if len({a.key for a in accounts}) < len(accounts):
            raise KeysFileError(f"keys file {path} lists the same key twice")
        return cls(accounts, _pricing(data.get("pricing", {}), path))

    def get(self, key: str) -> Account | None:
        """The account for ``key``, or None when unknown."""
        return self._by_key.get(key)

    def accounts(self) -> list[Account]:
        """All accounts, in file order."""
        return list(self._by_key.values())

    def by_role(self) -> dict[str, str]:
        """Role → key, first key of each role (for the server info file)."""
        roles: dict[str, str] = {}
        for account in self._by_key.values():
            roles.setdefault(account.role, account.key)
        return roles


def _account(entry: Any, index: int) -> Account:
    if not isinstance(entry, dict):
        raise KeysFileError(f"keys[{index}] must be a table")
    key = entry.get("key") or generate_key()
    if not isinstance(key, str) or not key.startswith("qbt_") or not is_key_token(key):
        raise KeysFileError(
            f"keys[{index}].key must be a string starting with 'qbt_', of letters, "
            "digits, '_' and '-' only"
        )
    rpm, balance = entry.get("rpm", 600), entry.get("balance", 1e9)
    if isinstance(rpm, bool) or not isinstance(rpm, int) or rpm < 1:
        raise KeysFileError(f"keys[{index}].rpm must be a positive integer")
    if isinstance(balance, bool) or not isinstance(balance, int | float):
        raise KeysFileError(f"keys[{index}].balance must be a number")
    return Account(key, str(entry.get("role", f"key{index}")), rpm, float(balance))


def _pricing(table: Any, path: Path) -> Pricing:
    """``[pricing]``: known names only, each a number of credits."""
    if not isinstance(table, dict):
        raise KeysFileError(f"keys file {path}: [pricing] must be a table")
    for name, value in table.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise KeysFileError(f"keys file {path}: pricing.{name} must be a number")
    try:
        return Pricing(**{name: float(value) for name, value in table.items()})
    except TypeError:
        known = ", ".join(Pricing.__dataclass_fields__)
        raise KeysFileError(
            f"keys file {path}: unknown name in [pricing] (known: {known})"
        ) from None
