"""One place for target configuration: command line > environment > TOML file > defaults.

:func:`load_settings` merges the sources into :class:`Settings` (every value typed and
validated, each error one clear line naming where the bad value came from). Settings
without a base URL mean "use the embedded reference server"; :meth:`Settings.target`
and :meth:`Settings.embedded` turn them into the frozen :class:`TargetConfig` that the
client and the tests use. Keys are :class:`Secret` values: redacted when printed and
registered with :mod:`qbtsuite.redact` so no writer can leak them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from qbtsuite import redact
from qbtsuite.errors import ConfigError
from qbtsuite.target.embedded import ServerTarget
from qbtsuite.target.sources import from_cli, from_env, from_toml
from qbtsuite.target.values import coerce, derive_http_url

__all__ = [
    "CATALOGUE",
    "EMBEDDED_LOW_LIMIT_RPM",
    "EMBEDDED_RATE_WINDOW",
    "EMBEDDED_REQUEST_BUDGET",
    "ENDPOINTS",
    "KEY_ROLES",
    "OFFICIAL_HOST",
    "Secret",
    "Settings",
    "TargetConfig",
    "load_settings",
]

ENDPOINTS = ("completions", "chat", "embeddings", "images", "transcriptions")
KEY_ROLES = ("main", "second", "zero_balance", "low_limit")

# The reference server's ``low_limit`` role allows 30 requests per window
# (server/keys.py DEFAULT_ROLES); the embedded run uses a short window so the quick
# rate-limit check waits seconds, not a minute.
EMBEDDED_LOW_LIMIT_RPM = 30
EMBEDDED_RATE_WINDOW = 10.0
EMBEDDED_REQUEST_BUDGET = 100_000

# The capability "the target's model catalogue is Qubittron's own" (which models
# exist, their widths and categories): on by default for Qubittron's own API and the
# embedded reference server, which serves the documented models; declared elsewhere.
CATALOGUE = "catalogue"
OFFICIAL_HOST = "api.qubittron.ai"  # getting-started.txt, "Set the base URL"

_KEY_FIELDS = {
    "main": "api_key",
    "second": "second_key",
    "zero_balance": "zero_balance_key",
    "low_limit": "low_limit_key",
}


@dataclass(frozen=True, slots=True)
class Secret:
    """A key that never shows itself: ``repr``/``str`` are redacted; use :meth:`reveal`."""

    _value: str = field(repr=False)

    def __post_init__(self) -> None:
        redact.register(self._value)

    def reveal(self) -> str:
        """The real value, for the ``Authorization`` header only."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({redact.REDACTED!r})"

    def __str__(self) -> str:
        return redact.REDACTED


@dataclass(frozen=True)
class TargetConfig:
    """Everything the suite needs to talk to one target. Frozen; keys are secrets."""

    base_url: str
    http_url: str
    keys: Mapping[str, Secret]
    models: Mapping[str, str | None]
    upload_cap: int = 25 * 1024 * 1024
    rate_limit_rpm: int | None = None
    rate_limit_window: float = 60.0
    ca_bundle: str | None = None
    insecure: bool = False
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    request_budget: int = 1000  # the full profile plans ~500 requests
    retries: int = 0
    # The main key's declared limit, requests per minute: the run spaces its requests.
    main_key_rpm: int | None = None
    # Seconds the whole run may wait out throttle answers (Retry-After) on keys the
    # tests do not mean to exhaust; past it those tests are errors.
    max_throttle_wait: float = 120.0
    capabilities: tuple[str, ...] | None = None  # None: not declared
    embedded: bool = False
    embeddings_dimensions: int | None = None  # width of the embeddings model's vectors

    def key(self, role: str) -> Secret | None:
        """The key of ``role`` (main, second, zero_balance, low_limit), if configured."""
        return self.keys.get(role)

    def has_key(self, role: str) -> bool:
        return role in self.keys

    def model(self, endpoint: str) -> str | None:
        """The model to use on ``endpoint`` (see :data:`ENDPOINTS`)."""
        return self.models.get(endpoint)

    def other_category_model(self, endpoint: str, used_on: str) -> str | None:
        """The model of ``endpoint``, as a model of another category on ``used_on``.

        None when ``endpoint`` has no model or shares ``used_on``'s (a gateway may
        serve several endpoints with one model: it is no wrong category there).
        """
        model = self.model(endpoint)
        return model if model and model != self.model(used_on) else None

    @property
    def is_qubittron(self) -> bool:
        """The embedded reference server, or a base URL on Qubittron's own host."""
        return self.embedded or urlsplit(self.base_url).hostname == OFFICIAL_HOST

    def declares(self, capability: str) -> bool | None:
        """Whether the target offers ``capability``; None when nothing is declared.

        :data:`CATALOGUE` is never "not declared": without a declaration it is on
        for Qubittron's own targets (:attr:`is_qubittron`) and off elsewhere.
        """
        if self.capabilities is not None:
            return capability in self.capabilities
        if capability == CATALOGUE:
            return self.is_qubittron
        return None

    @property
    def verify(self) -> str | bool:
        """The ``verify`` argument for httpx: a CA bundle path, or False if insecure."""
        if self.insecure:
            return False
        return self.ca_bundle if self.ca_bundle else True

    def with_models(self, models: Mapping[str, str | None]) -> TargetConfig:
        return replace(self, models=MappingProxyType(dict(models)))

    def redacted(self) -> dict[str, Any]:
        """A JSON-ready description with every key replaced by its role only."""
        data: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "keys":
                value = {role: redact.REDACTED for role in sorted(value)}
            elif f.name == "models":
                value = dict(value)
            elif isinstance(value, tuple):
                value = list(value)
            data[f.name] = value
        return data

    def to_wire(self) -> dict[str, Any]:
        """Plain data *including the keys*, only to hand the config to a worker."""
        data = self.redacted()
        data["keys"] = {role: s.reveal() for role, s in self.keys.items()}
        return data

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> TargetConfig:
        values = dict(data)
        values["keys"] = MappingProxyType(
            {role: Secret(v) for role, v in values["keys"].items()}
        )
        values["models"] = MappingProxyType(dict(values["models"]))
        if values.get("capabilities") is not None:
            values["capabilities"] = tuple(values["capabilities"])
        return cls(**values)


@dataclass(frozen=True)
class Settings:
    """The merged, validated values of all sources; ``None`` means "not given"."""

    values: Mapping[str, Any]

    @property
    def base_url(self) -> str | None:
        url: str | None = self.values.get("base_url")
        return url

    @property
    def needs_embedded(self) -> bool:
        """No base URL anywhere: the run targets the embedded reference server."""
        return self.base_url is None

    def _common(self) -> dict[str, Any]:
        names = (
            "upload_cap",
            "rate_limit_rpm",
            "rate_limit_window",
            "ca_bundle",
            "insecure",
            "connect_timeout",
            "read_timeout",
            "request_budget",
            "retries",
            "main_key_rpm",
            "max_throttle_wait",
            "capabilities",
            "embeddings_dimensions",
        )
        common = {n: self.values[n] for n in names if self.values.get(n) is not None}
        models = {e: self.values.get(f"models_{e}") for e in ENDPOINTS}
        common["models"] = MappingProxyType(models)
        return common

    def target(self, *, require_key: bool = True) -> TargetConfig:
        """The remote target these settings describe."""
        base = self.base_url
        if base is None:
            raise ConfigError("no base URL given (--base-url or QUBITTRON_BASE_URL)")
        keys = {
            role: Secret(self.values[name])
            for role, name in _KEY_FIELDS.items()
            if self.values.get(name)
        }
        if require_key and "main" not in keys:
            raise ConfigError(
                "no API key for the target: set QUBITTRON_API_KEY "
                "(or keys.main in the config file)"
            )
        http_url = self.values.get("http_url") or derive_http_url(base)
        return TargetConfig(
            base_url=base,
            http_url=http_url,
            keys=MappingProxyType(keys),
            **self._common(),
        )

    def embedded(self, server: ServerTarget) -> TargetConfig:
        """The embedded reference server as a target (its keys, its CA, its limits)."""
        common = self._common()
        common.setdefault("request_budget", EMBEDDED_REQUEST_BUDGET)  # it costs nothing
        common.update(
            ca_bundle=server.ca,
            insecure=False,
            upload_cap=server.upload_cap,
            rate_limit_rpm=EMBEDDED_LOW_LIMIT_RPM,
            rate_limit_window=server.rate_window,
        )
        keys = {role: Secret(v) for role, v in server.keys.items()}
        return TargetConfig(
            base_url=server.https_url,
            http_url=server.http_url,
            keys=MappingProxyType(keys),
            embedded=True,
            **common,
        )


def load_settings(
    cli: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    config_file: str | Path | None = None,
) -> Settings:
    """Merge the sources, highest first: ``cli`` > ``env`` > TOML file > defaults.

    The file is ``config_file`` if given, else ``$QBTSUITE_CONFIG`` if set.
    """
    env = os.environ if env is None else env
    path = config_file or env.get("QBTSUITE_CONFIG") or None
    layers: list[tuple[str, dict[str, Any]]] = []
    if path:
        layers.append((f"config file {path}", from_toml(Path(path))))
    layers.append(("environment", from_env(env)))
    layers.append(("command line", from_cli(cli or {})))
    merged: dict[str, Any] = {}
    for source, raw in layers:
        for name, value in raw.items():
            merged[name] = coerce(name, value, source)
    return Settings(MappingProxyType(merged))
