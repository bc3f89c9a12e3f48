"""Read raw configuration values from each source into one flat vocabulary.

The vocabulary (``base_url``, ``api_key``, ``models_chat``, ``read_timeout``…) is the
one :mod:`qbtsuite.target.values` knows how to type-check. Values here are still raw:
strings from the environment, whatever TOML or the command line gave.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from qbtsuite.errors import ConfigError

__all__ = ["ENV_VARIABLES", "from_cli", "from_env", "from_toml"]

_ENDPOINTS = ("completions", "chat", "embeddings", "images", "transcriptions")

# Environment variable → setting. QUBITTRON_* are the names the API's own docs use.
ENV_VARIABLES: dict[str, str] = {
    "QUBITTRON_BASE_URL": "base_url",
    "QUBITTRON_API_KEY": "api_key",
    "QBTSUITE_HTTP_URL": "http_url",
    "QBTSUITE_SECOND_KEY": "second_key",
    "QBTSUITE_ZERO_BALANCE_KEY": "zero_balance_key",
    "QBTSUITE_LOW_LIMIT_KEY": "low_limit_key",
    "QBTSUITE_CA_BUNDLE": "ca_bundle",
    "QBTSUITE_INSECURE": "insecure",
    "QBTSUITE_TIMEOUT": "read_timeout",
    "QBTSUITE_CONNECT_TIMEOUT": "connect_timeout",
    "QBTSUITE_DEADLINE": "deadline",
    "QBTSUITE_STREAM_DEADLINE": "stream_deadline",
    "QBTSUITE_MAX_BODY": "max_body",
    "QBTSUITE_MAX_HEADERS": "max_headers",
    "QBTSUITE_NO_ANSWER_LIMIT": "no_answer_limit",
    "QBTSUITE_UPLOAD_CAP": "upload_cap",
    "QBTSUITE_RATE_LIMIT_RPM": "rate_limit_rpm",
    "QBTSUITE_RATE_LIMIT_WINDOW": "rate_limit_window",
    "QBTSUITE_REQUEST_BUDGET": "request_budget",
    "QBTSUITE_RETRIES": "retries",
    "QBTSUITE_MAIN_KEY_RPM": "main_key_rpm",
    "QBTSUITE_MAX_THROTTLE_WAIT": "max_throttle_wait",
    "QBTSUITE_CAPABILITIES": "capabilities",
    "QBTSUITE_NO_FETCH_URLS": "no_fetch_urls",
    **{f"QBTSUITE_MODELS_{e.upper()}": f"models_{e}" for e in _ENDPOINTS},
    "QBTSUITE_EMBEDDING_DIMENSIONS": "embeddings_dimensions",
    # one "Name: value" per line
    "QBTSUITE_HEADERS": "headers",
}

# TOML tables and the flat names their entries become.
_TABLES: dict[str, dict[str, str]] = {
    "keys": {
        "main": "api_key",
        "second": "second_key",
        "zero_balance": "zero_balance_key",
        "low_limit": "low_limit_key",
    },
    "models": {
        **{e: f"models_{e}" for e in _ENDPOINTS},
        # the width of the embeddings model's vectors: a fact of that model
        "embeddings_dimensions": "embeddings_dimensions",
    },
    "timeouts": {
        "connect": "connect_timeout",
        "read": "read_timeout",
        "deadline": "deadline",
        "stream_deadline": "stream_deadline",
    },
    "limits": {
        "body": "max_body",
        "headers": "max_headers",
        "no_answer": "no_answer_limit",
    },
    "rate_limit": {
        "rpm": "rate_limit_rpm",
        "window": "rate_limit_window",
        "main_key_rpm": "main_key_rpm",
    },
}
_TOP_LEVEL = {
    "base_url",
    "http_url",
    "upload_cap",
    "ca_bundle",
    "insecure",
    "request_budget",
    "retries",
    "max_throttle_wait",
    "capabilities",
    "no_fetch_urls",
    "headers",  # [headers] Name = "value"
}


def from_env(env: Mapping[str, str]) -> dict[str, Any]:
    """Settings from environment variables; empty values count as unset."""
    return {name: env[var] for var, name in ENV_VARIABLES.items() if env.get(var)}


def from_cli(options: Mapping[str, Any]) -> dict[str, Any]:
    """Settings from command-line options already named in the flat vocabulary."""
    return {name: value for name, value in options.items() if value is not None}


def from_toml(path: Path) -> dict[str, Any]:
    """Settings from a TOML file (see ``target.example.toml``); unknown names are errors."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except OSError as exc:
        raise ConfigError(
            f"config file {path} cannot be read: {exc.strerror}"
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if key in _TABLES:
            flat.update(_table(path, key, value))
        elif key in _TOP_LEVEL:
            flat[key] = value
        else:
            raise ConfigError(f"config file {path}: unknown setting {key!r}")
    return flat


def _table(path: Path, table: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"config file {path}: [{table}] must be a table")
    names = _TABLES[table]
    flat: dict[str, Any] = {}
    for key, item in value.items():
        if key not in names:
            known = ", ".join(sorted(names))
            raise ConfigError(
                f"config file {path}: unknown setting {table}.{key} (known: {known})"
            )
        flat[names[key]] = item
    return flat
