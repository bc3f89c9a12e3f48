"""Type-check and normalise one raw configuration value.

Each setting has a parser; a bad value raises :class:`~qbtsuite.errors.ConfigError`
with one line naming the setting, the source and what was expected — never the value
itself when it is a key.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from qbtsuite.capabilities import CAPABILITIES, unknown_capabilities
from qbtsuite.errors import ConfigError
from qbtsuite.target.headers import HeaderError, parse_headers

__all__ = ["SECRET_SETTINGS", "coerce", "derive_http_url", "validate_url"]

_MAX_RETRIES = 3  # getting-started.txt: back off 1 s, 2 s, 4 s
_CAPABILITY = re.compile(r"^[a-z][a-z0-9_\-]*$")


class _Invalid(ValueError):
    """A parser's complaint, completed by :func:`coerce` with name and source."""


def validate_url(url: str) -> str:
    """Return ``url`` without a trailing slash, or raise ``_Invalid`` saying why not."""
    if not isinstance(url, str) or not url.strip():
        raise _Invalid("empty URL")
    url = url.strip()
    if any(c.isspace() for c in url):
        raise _Invalid("a URL cannot contain spaces")
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # e.g. "https://[::1": an unclosed IPv6 literal
        raise _Invalid(f"not a URL ({exc})") from None
    if parts.scheme not in {"http", "https"}:
        raise _Invalid(f"scheme must be https:// or http://, not {parts.scheme!r}")
    try:
        host = parts.hostname
    except ValueError as exc:
        raise _Invalid(f"not a URL ({exc})") from None
    if not host:
        raise _Invalid("no host in the URL")
    if parts.username or parts.password:
        raise _Invalid("credentials in the URL are not allowed (use the key settings)")
    if parts.query or parts.fragment:
        raise _Invalid("a base URL has no query or fragment")
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise _Invalid("the port is not a number in 0-65535") from None
    return url.rstrip("/")


def derive_http_url(base_url: str) -> str:
    """The plain-HTTP URL of an HTTPS ``base_url``: same host and path, http, port 80.

    getting-started.txt: "HTTPS only. Plain HTTP requests are redirected to HTTPS":
    a plain-HTTP request to the documented ``https://api.qubittron.ai/v1`` goes to
    ``http://api.qubittron.ai/v1``, HTTP's default port 80, whatever port the HTTPS
    listener has. An ``http://`` base URL is itself plain HTTP: it is returned as
    is, and the checks that need a separate plain-HTTP listener are skipped.
    """
    parts = urlsplit(base_url)
    if parts.scheme == "http":
        return base_url
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    return urlunsplit(("http", host, parts.path, "", ""))


def _url(value: Any) -> str:
    return validate_url(value)


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Invalid("expected a non-empty string")
    return value.strip()


def _secret(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Invalid("expected a non-empty key")
    if any(c.isspace() for c in value.strip()):
        raise _Invalid("a key cannot contain spaces")
    return value.strip()


def _int(minimum: int, maximum: int | None = None) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        if isinstance(value, bool):
            raise _Invalid("expected an integer")
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise _Invalid("expected an integer") from None
        if number < minimum or (maximum is not None and number > maximum):
            bound = f"between {minimum} and {maximum}" if maximum else f">= {minimum}"
            raise _Invalid(f"expected an integer {bound}, got {number}")
        return number

    return parse


def _seconds(value: Any) -> float:
    """A number of seconds as given (a bool is no number, though Python says it is)."""
    if isinstance(value, bool):
        raise _Invalid("expected a number of seconds")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise _Invalid("expected a number of seconds") from None


def _positive_float(value: Any) -> float:
    number = _seconds(value)
    if not number > 0:
        raise _Invalid(f"expected a positive number, got {number}")
    return number


def _seconds_or_zero(value: Any) -> float:
    number = _seconds(value)
    if not 0 <= number < float("inf"):
        raise _Invalid(f"expected a number of seconds >= 0, got {number}")
    return number


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise _Invalid("expected true or false")


def _existing_file(value: Any) -> str:
    path = Path(_text(value)).expanduser()
    if not path.is_file():
        raise _Invalid(f"file not found: {path}")
    return str(path.resolve())


def _ca_bundle(value: Any) -> str:
    """An existing file that holds at least one PEM certificate a TLS context loads."""
    path = _existing_file(value)
    try:
        ssl.create_default_context(cafile=path)
    except (ssl.SSLError, ValueError, OSError) as exc:
        reason = getattr(exc, "reason", None) or str(exc) or type(exc).__name__
        raise _Invalid(f"{path} is not a PEM CA bundle ({reason})") from None
    return path


def _capabilities(value: Any) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise _Invalid("expected a list of capability names")
    names = tuple(str(i).strip().lower() for i in items if str(i).strip())
    if names == ("none",):
        return ()
    for name in names:
        if not _CAPABILITY.match(name):
            raise _Invalid(f"not a capability name: {name!r}")
    unknown = unknown_capabilities(names)
    if unknown:
        raise _Invalid(
            f"unknown capability {', '.join(map(repr, unknown))} "
            f"(known: {', '.join(CAPABILITIES)}; or 'none')"
        )
    return tuple(dict.fromkeys(names))


def _headers(value: Any) -> dict[str, str]:
    try:
        return parse_headers(value)
    except HeaderError as exc:
        raise _Invalid(str(exc)) from None


_PARSERS: dict[str, Callable[[Any], Any]] = {
    "base_url": _url,
    "http_url": _url,
    "api_key": _secret,
    "second_key": _secret,
    "zero_balance_key": _secret,
    "low_limit_key": _secret,
    "ca_bundle": _ca_bundle,
    "insecure": _bool,
    "connect_timeout": _positive_float,
    "read_timeout": _positive_float,
    "deadline": _positive_float,
    "stream_deadline": _positive_float,
    "max_body": _int(1024),
    "max_headers": _int(1024),
    "no_answer_limit": _int(0),
    "upload_cap": _int(1),
    "rate_limit_rpm": _int(1),
    "rate_limit_window": _positive_float,
    "request_budget": _int(1),
    "retries": _int(0, _MAX_RETRIES),
    "main_key_rpm": _int(1),
    "max_throttle_wait": _seconds_or_zero,
    "capabilities": _capabilities,
    "no_fetch_urls": _bool,
    "embeddings_dimensions": _int(1),
    "headers": _headers,
}
SECRET_SETTINGS = frozenset(
    {"api_key", "second_key", "zero_balance_key", "low_limit_key"}
)


def coerce(name: str, value: Any, source: str) -> Any:
    """Parse ``value`` of setting ``name`` from ``source``; ConfigError if it is bad."""
    parser = _PARSERS.get(name, _text if name.startswith("models_") else None)
    if parser is None:
        raise ConfigError(f"{source}: unknown setting {name!r}")
    try:
        return parser(value)
    except _Invalid as exc:
        label = name.replace("_", " ") if name in SECRET_SETTINGS else name
        raise ConfigError(f"{source}: {label}: {exc}") from None
