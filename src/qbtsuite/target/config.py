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
from qbtsuite.capabilities import CAPABILITIES, CATALOGUE, Assumed
from qbtsuite.errors import ConfigError
from qbtsuite.target.embedded import ServerTarget
from qbtsuite.target.headers import redacted_headers, register_secrets
from qbtsuite.target.limits import (
    DEADLINE,
    MAX_BODY,
    MAX_HEADERS,
    NO_ANSWER_LIMIT,
    STREAM_DEADLINE,
)
from qbtsuite.target.sources import ENV_VARIABLES, from_cli, from_env, from_toml
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
    "check_declared_needs",
    "load_settings",
]

ENDPOINTS = ("completions", "chat", "embeddings", "images", "transcriptions")
KEY_ROLES = ("main", "second", "zero_balance", "low_limit")

# The reference server's ``low_limit`` role allows 30 requests per window
# (server/keys.py DEFAULT_ROLES); the embedded run uses a short window so the quick
# rate-limit check waits seconds, not a minute. Four seconds leave RATE-004's
# early retry (one second before Retry-After) a whole second inside the window.
EMBEDDED_LOW_LIMIT_RPM = 30
EMBEDDED_RATE_WINDOW = 4.0
EMBEDDED_REQUEST_BUDGET = 100_000

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
    deadline: float = DEADLINE  # seconds for a whole JSON answer
    stream_deadline: float = STREAM_DEADLINE  # for a stream or an upload
    max_body: int = MAX_BODY  # bytes of one body (after Content-Encoding)
    max_headers: int = MAX_HEADERS  # bytes of one answer's header fields
    no_answer_limit: int = NO_ANSWER_LIMIT  # exchanges in a row; 0: never stop
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
    fetch_urls: bool = True  # GET the image URLs the target returns (--no-fetch-urls)
    # sent with every request to the target's hosts (-H); secret-looking values
    # are registered with qbtsuite.redact
    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    faults: tuple[str, ...] = ()  # the embedded server's injected faults

    def __post_init__(self) -> None:
        register_secrets(self.headers)

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

        A declaration is the whole list. Without one, a capability assumed only of
        some targets (:class:`~qbtsuite.capabilities.Assumed`: the catalogue of
        Qubittron's own targets, the reference server's failure hook) is on there
        and off elsewhere; the others are None (their tests run).
        """
        if self.capabilities is not None:
            return capability in self.capabilities
        known = CAPABILITIES.get(capability)
        assumed = known.assumed if known else Assumed.EVERYWHERE
        if assumed is Assumed.QUBITTRON:
            return self.is_qubittron
        if assumed is Assumed.EMBEDDED:
            return self.embedded
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
            elif f.name == "headers":
                value = redacted_headers(value)
            elif isinstance(value, tuple):
                value = list(value)
            data[f.name] = value
        return data

    def to_wire(self) -> dict[str, Any]:
        """Plain data *including the keys*, only to hand the config to a worker."""
        data = self.redacted()
        data["keys"] = {role: s.reveal() for role, s in self.keys.items()}
        data["headers"] = dict(self.headers)
        return data

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> TargetConfig:
        values = dict(data)
        values["keys"] = MappingProxyType(
            {role: Secret(v) for role, v in values["keys"].items()}
        )
        values["models"] = MappingProxyType(dict(values["models"]))
        values["headers"] = MappingProxyType(dict(values.get("headers") or {}))
        values["faults"] = tuple(values.get("faults") or ())
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
            "deadline",
            "stream_deadline",
            "max_body",
            "max_headers",
            "no_answer_limit",
            "request_budget",
            "retries",
            "main_key_rpm",
            "max_throttle_wait",
            "capabilities",
            "embeddings_dimensions",
        )
        common = {n: self.values[n] for n in names if self.values.get(n) is not None}
        if self.values.get("no_fetch_urls"):
            common["fetch_urls"] = False
        models = {e: self.values.get(f"models_{e}") for e in ENDPOINTS}
        common["models"] = MappingProxyType(models)
        common["headers"] = MappingProxyType(dict(self.values.get("headers") or {}))
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
        config = TargetConfig(
            base_url=base,
            http_url=http_url,
            keys=MappingProxyType(keys),
            **self._common(),
        )
        if require_key:
            check_declared_needs(config)
        return config

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
        config = TargetConfig(
            base_url=server.https_url,
            http_url=server.http_url,
            keys=MappingProxyType(keys),
            embedded=True,
            faults=tuple(server.faults),
            **common,
        )
        check_declared_needs(config)
        return config


def _variables(setting: str) -> str:
    """How a setting is given: its environment variable(s)."""
    names = [var for var, name in ENV_VARIABLES.items() if name == setting]
    return " or ".join(names) or setting


def check_declared_needs(config: TargetConfig) -> None:
    """A declared capability that needs a key (or a limit) the run lacks is a
    configuration error: its checks could only be skipped, which a declaration
    rules out."""
    for name in config.capabilities or ():
        capability = CAPABILITIES.get(name)
        if capability is None:
            continue
        for role in capability.key_roles:
            if not config.has_key(role):
                raise ConfigError(
                    f"the capability {name!r} is declared but no {role} key is given "
                    f"({_variables(_KEY_FIELDS[role])}, or keys.{role} in the config "
                    "file)"
                )
        if capability.needs_rate_limit and not config.rate_limit_rpm:
            raise ConfigError(
                f"the capability {name!r} is declared but the low_limit key's limit "
                f"is not ({_variables('rate_limit_rpm')}, or [rate_limit] rpm)"
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
            typed = coerce(name, value, source)
            if name == "headers":  # a header given higher up replaces the same name
                lower = {k.lower() for k in typed}
                kept = {
                    k: v
                    for k, v in merged.get(name, {}).items()
                    if k.lower() not in lower
                }
                typed = {**kept, **typed}
            merged[name] = typed
    return Settings(MappingProxyType(merged))
