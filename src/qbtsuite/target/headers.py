"""Extra request headers (``-H 'Name: value'``, ``QBTSUITE_HEADERS``, ``[headers]``).

A gateway behind an authenticating proxy needs a header of its own on every request
the suite sends. The names the suite sets itself per request (``Authorization`` from
the configured keys, the body's framing) cannot be given here: the checks rely on
them. A value whose name looks secret is registered with :mod:`qbtsuite.redact`, so
no transcript, record or report shows it, and the results name it with the
redaction marker.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from qbtsuite import redact

__all__ = [
    "RESERVED",
    "HeaderError",
    "looks_secret",
    "parse_headers",
    "redacted_headers",
    "register_secrets",
]

# RFC 9110 §5.1: a field name is a token; §5.5: a value has no CR, LF or NUL.
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_BAD_VALUE = re.compile(r"[\r\n\x00]")
# Set by the suite per request (keys, body framing, the host of the URL).
RESERVED = frozenset(
    {
        "authorization",
        "host",
        "content-length",
        "content-type",
        "transfer-encoding",
        "connection",
    }
)
_SECRET_WORDS = ("auth", "token", "key", "secret", "cookie", "password", "session")


class HeaderError(ValueError):
    """A header that cannot be sent as given (the message says why)."""


def looks_secret(name: str) -> bool:
    """Whether a header of this name probably carries a credential
    (``Proxy-Authorization``, ``X-Api-Key``, ``Cookie``, ``X-Auth-Token``…)."""
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def _one(text: str) -> tuple[str, str]:
    name, colon, value = text.partition(":")
    name, value = name.strip(), value.strip()
    if not colon or not name:
        raise HeaderError(f"expected 'Name: value', got {_shown(text)!r}")
    return name, value


def _shown(text: str) -> str:
    """``text`` as an error may quote it: the value of a secret-looking name hidden."""
    name, colon, _ = text.partition(":")
    if not looks_secret(name):
        return text
    return f"{name}: {redact.REDACTED}" if colon else redact.REDACTED


def _checked(name: str, value: object) -> tuple[str, str]:
    if not isinstance(value, str):
        raise HeaderError(f"the value of {name!r} must be a string")
    if not _TOKEN.match(name):
        raise HeaderError(f"{name!r} is not a header name")
    if name.lower() in RESERVED:
        raise HeaderError(
            f"{name} is set by the suite itself"
            + (" from the configured keys" if name.lower() == "authorization" else "")
        )
    if _BAD_VALUE.search(value):
        raise HeaderError(f"the value of {name} contains a line break")
    return name, value.strip()


def parse_headers(value: object) -> dict[str, str]:
    """Headers from a table (TOML), a list of ``Name: value`` strings (the command
    line) or one string of such lines (the environment); later names replace
    earlier ones, case-insensitively."""
    pairs: Iterable[tuple[str, object]]
    if isinstance(value, Mapping):
        pairs = [(str(k), v) for k, v in value.items()]
    elif isinstance(value, str):
        pairs = [_one(line) for line in value.splitlines() if line.strip()]
    elif isinstance(value, list | tuple):
        if not all(isinstance(item, str) for item in value):
            raise HeaderError("expected 'Name: value' strings")
        pairs = [_one(item) for item in value]
    else:
        raise HeaderError("expected a table of names and values")
    headers: dict[str, str] = {}
    for raw_name, raw_value in pairs:
        name, text = _checked(raw_name, raw_value)
        for known in [k for k in headers if k.lower() == name.lower()]:
            del headers[known]
        headers[name] = text
    return headers


def register_secrets(headers: Mapping[str, str]) -> None:
    """Register every secret-looking header's value with :mod:`qbtsuite.redact`."""
    for name, value in headers.items():
        if looks_secret(name):
            redact.register(value)


def redacted_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers as the results show them: secret-looking values redacted."""
    return {
        name: redact.REDACTED if looks_secret(name) else value
        for name, value in headers.items()
    }
