"""Ed25519 key pairs and signatures (RFC 8032), with the ``cryptography`` package.

Key files are PEM: the private key as unencrypted PKCS #8, readable by its owner
only (mode 0600, never printed), the public key as SubjectPublicKeyInfo. A key is
named by its id: ``sha256:`` and the hex SHA-256 of the 32 raw public-key bytes.
"""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from qbtsuite.errors import ConfigError

__all__ = [
    "ALGORITHM",
    "PublicKey",
    "SigningKey",
    "generate_key_pair",
    "load_public_key",
    "load_signing_key",
    "readable_by_others",
]

ALGORITHM = "Ed25519"


@dataclass(frozen=True, slots=True)
class PublicKey:
    """An Ed25519 public key: verifies signatures, names itself by its id."""

    raw: bytes  # the 32 bytes of RFC 8032

    @property
    def key_id(self) -> str:
        return "sha256:" + hashlib.sha256(self.raw).hexdigest()

    @property
    def encoded(self) -> str:
        """The raw key in base64, as a certificate holds it."""
        return base64.b64encode(self.raw).decode("ascii")

    @classmethod
    def decode(cls, text: str) -> PublicKey:
        """From :attr:`encoded`; ValueError if it is no Ed25519 public key."""
        try:
            raw = base64.b64decode(text, validate=True)
        except ValueError:
            raise ValueError("the public key is not base64") from None
        if len(raw) != 32:
            raise ValueError(f"an Ed25519 public key has 32 bytes, not {len(raw)}")
        return cls(raw)

    def verifies(self, signature: bytes, data: bytes) -> bool:
        """Whether ``signature`` is this key's signature of ``data``."""
        try:
            Ed25519PublicKey.from_public_bytes(self.raw).verify(signature, data)
        except (InvalidSignature, ValueError):
            return False
        return True


class SigningKey:
    """An Ed25519 private key. Its ``repr`` shows the key id only."""

    __slots__ = ("_key", "public")

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        raw = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.public = PublicKey(raw)

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data)

    def __repr__(self) -> str:
        return f"SigningKey({self.public.key_id})"


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Create ``path`` with ``mode`` from the start (never wider), refusing to
    replace an existing file."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    fd = os.open(path, flags, mode)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.chmod(path, mode)  # the umask may have narrowed it further; keep it exact


def generate_key_pair(private_path: Path, public_path: Path) -> PublicKey:
    """Make a key pair in two new files; ConfigError if either exists."""
    for path in (private_path, public_path):
        if path.exists():
            raise ConfigError(f"{path} exists: a key file is never replaced")
        if not path.parent.is_dir():
            raise ConfigError(f"no folder {path.parent} for {path.name}")
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    try:
        _write_new(private_path, private_pem, 0o600)
        _write_new(public_path, public_pem, 0o644)
    except OSError as exc:
        raise ConfigError(f"cannot write the key pair: {exc}") from None
    return SigningKey(key).public


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the {what} {path}: {exc.strerror}") from None


def load_signing_key(path: Path) -> SigningKey:
    """The private key in ``path`` (PEM, PKCS #8); ConfigError if it is not one."""
    data = _read(path, "signing key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise ConfigError(
            f"{path} is not an unencrypted PEM private key (make one with "
            "'qbtsuite keygen')"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(
            f"{path} is not an Ed25519 key (make one with 'qbtsuite keygen')"
        )
    return SigningKey(key)


def readable_by_others(path: Path) -> bool:
    """Whether the group or others may read ``path`` (a private key should not be)."""
    try:
        return bool(path.stat().st_mode & (stat.S_IRGRP | stat.S_IROTH))
    except OSError:
        return False


def load_public_key(path: Path) -> PublicKey:
    """The public key in ``path`` (PEM SubjectPublicKeyInfo, or the base64 of the
    32 raw bytes as a certificate holds it); ConfigError if it is not one."""
    data = _read(path, "public key")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError):
        try:
            return PublicKey.decode(data.decode("ascii").strip())
        except (ValueError, UnicodeDecodeError):
            raise ConfigError(f"{path} is not an Ed25519 public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError(f"{path} is not an Ed25519 public key")
    return PublicKey(
        key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
