"""Which target a load run drives, and whether it may and can be driven.

- No base URL: the embedded reference server (started by the caller) with its CA and
  generated keys.
- A base URL: keys from the environment (``QUBITTRON_API_KEY`` for ``main``, the
  ``QBTSUITE_*_KEY`` variables for the other roles), the CA from ``--ca`` or
  ``QBTSUITE_CA_BUNDLE``. Other roles (the ratelimit profile's ``low_limit_2``) read
  ``QBTSUITE_<ROLE>_KEY``. A host that is not loopback must be named again with
  ``--confirm-target`` so a staging URL typed by mistake does not get a soak.

The target is resolved like every other command's (:func:`qbtsuite.target.resolve.resolve`):
one ``GET /models`` probe without a key tells whether it answers at all (exit 3 if not).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from qbtsuite.errors import ConfigError
from qbtsuite.target.config import TargetConfig

__all__ = [
    "KEY_ENV",
    "LoadTarget",
    "check_base_url",
    "is_loopback",
    "key_variable",
    "load_target",
]

# Key role → environment variable (the names the rest of the suite uses).
KEY_ENV = {
    "main": "QUBITTRON_API_KEY",
    "second": "QBTSUITE_SECOND_KEY",
    "zero_balance": "QBTSUITE_ZERO_BALANCE_KEY",
    "low_limit": "QBTSUITE_LOW_LIMIT_KEY",
}


def key_variable(role: str) -> str:
    """The environment variable holding ``role``'s key: the suite's names for the
    usual roles, ``QBTSUITE_<ROLE>_KEY`` for any other (e.g. ``low_limit_2``)."""
    return KEY_ENV.get(role) or f"QBTSUITE_{role.upper()}_KEY"


@dataclass(frozen=True, slots=True)
class LoadTarget:
    """A target with what the load generator needs. ``keys`` are secrets: never print."""

    base_url: str
    ca: str | None
    keys: Mapping[str, str]
    embedded: bool

    def __repr__(self) -> str:  # keys stay out of any log or traceback
        return f"LoadTarget({self.base_url!r}, embedded={self.embedded})"


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost."""
    if host.lower() in {"localhost", "localhost."}:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(url: str, confirm: str | None) -> str:
    """The URL without a trailing slash; ConfigError if malformed or not confirmed."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"--base-url {url!r} is not a valid URL: {exc}") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError(
            f"--base-url {url!r} must be an http(s) URL with a host, "
            "e.g. https://api.example.com/v1"
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigError(
            f"--base-url {url!r} must not carry credentials, a query or a fragment"
        )
    host = parts.hostname
    if not is_loopback(host) and (confirm or "").lower() != host.lower():
        raise ConfigError(
            f"refusing to load {host}: it is not loopback; repeat the host with "
            f"--confirm-target {host} to confirm"
        )
    del port
    return url.rstrip("/")


def load_target(
    config: TargetConfig, roles: tuple[str, ...], env: Mapping[str, str] | None = None
) -> LoadTarget:
    """What the load generator needs of a resolved target: its URL, CA and the keys of
    ``roles``. The embedded server's keys cover every role it was started with; a
    remote target's come from the settings, other roles from ``QBTSUITE_<ROLE>_KEY``."""
    env = os.environ if env is None else env
    keys: dict[str, str] = {}
    for role in roles:
        secret = config.key(role)
        value = (
            secret.reveal() if secret is not None else env.get(key_variable(role), "")
        )
        if not value:
            raise ConfigError(f"no API key for role {role!r}: set {key_variable(role)}")
        keys[role] = value
    ca = config.ca_bundle if not config.insecure else None
    return LoadTarget(config.base_url.rstrip("/"), ca, keys, embedded=config.embedded)
