"""The options of a conformance run, declared once.

Each :class:`RunOption` becomes a ``qbtsuite run`` option (``--base-url``) and a
pytest option of the plugin (``--qbt-base-url``), so a plain ``pytest conformance``
session takes the same settings under the same names with a ``qbt-`` prefix. Options
that name a setting (``setting=``) feed :func:`qbtsuite.target.config.load_settings`
through :func:`settings_values`, whichever parser read them.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from qbtsuite.harness.selection import PROFILES

__all__ = [
    "IDENTITY_OPTIONS",
    "RUN_OPTIONS",
    "RunOption",
    "add_cli_options",
    "add_pytest_options",
    "cli_reader",
    "config_file",
    "pytest_argv",
    "pytest_reader",
    "settings_values",
]


@dataclass(frozen=True, slots=True)
class RunOption:
    """One option: its ``qbtsuite run`` spelling, its pytest twin and its setting."""

    name: str  # the argparse dest; the pytest dest is "qbt_" + name
    flag: str  # "--base-url"; the pytest option is "--qbt-base-url"
    help: str
    group: str  # target | selection | execution | output
    setting: str | None = None  # the settings name this option gives a value for
    type: Callable[[str], Any] | None = None
    action: str | None = None  # "store_true" or "append"
    choices: tuple[str, ...] | None = None
    default: Any = None
    metavar: str | None = None
    cli: bool = True  # a ``qbtsuite run`` option
    pytest: bool = True  # a pytest option of the plugin
    short: str | None = None  # a one-letter spelling of the ``qbtsuite run`` option

    @property
    def pytest_flag(self) -> str:
        return "--qbt-" + self.flag.removeprefix("--")

    @property
    def pytest_dest(self) -> str:
        return "qbt_" + self.name

    def _kwargs(self, *, for_pytest: bool) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"help": self.help}
        if self.action is not None:
            kwargs["action"] = self.action
        if self.type is not None:
            kwargs["type"] = self.type
        if self.choices is not None:
            kwargs["choices"] = self.choices
        if self.metavar is not None:
            kwargs["metavar"] = self.metavar
        default = self.default
        if self.action == "append" and default is None:
            default = [] if not for_pytest else None
        kwargs["default"] = default
        kwargs["dest"] = self.pytest_dest if for_pytest else self.name
        return kwargs


_T, _S, _E, _O, _C = "target", "selection", "execution", "output", "certify"

RUN_OPTIONS: tuple[RunOption, ...] = (
    RunOption("base_url", "--base-url", "Base URL of the target, e.g. https://api.qubittron.ai/v1 (env QUBITTRON_BASE_URL)", _T, setting="base_url"),
    RunOption("http_url", "--http-url", "Plain-HTTP URL to probe for the redirect (default: derived from the base URL)", _T, setting="http_url"),
    RunOption("config", "--config", "TOML file of target settings (see target.example.toml; env QBTSUITE_CONFIG)", _T),
    RunOption("api_key", "--api-key", "Main API key (discouraged: use QUBITTRON_API_KEY)", _T, setting="api_key", pytest=False),
    RunOption("ca_bundle", "--ca-bundle", "CA bundle to trust for the target (env QBTSUITE_CA_BUNDLE)", _T, setting="ca_bundle"),
    RunOption("insecure", "--insecure", "Do not verify the target's TLS certificate", _T, setting="insecure", action="store_true"),
    RunOption("timeout", "--timeout", "Read timeout per read of a request, seconds (default 60)", _T, setting="read_timeout", type=float),
    RunOption("deadline", "--deadline", "Seconds for a whole JSON answer, headers and body (default 30; env QBTSUITE_DEADLINE)", _T, setting="deadline", type=float),
    RunOption("stream_deadline", "--stream-deadline", "Seconds for a whole stream or upload exchange (default 120; env QBTSUITE_STREAM_DEADLINE)", _T, setting="stream_deadline", type=float),
    RunOption("max_body", "--max-body", "Largest response body read, bytes after decompression (default 67108864; env QBTSUITE_MAX_BODY)", _T, setting="max_body", type=int),
    RunOption("max_headers", "--max-headers", "Largest response header block, bytes (default 65536; env QBTSUITE_MAX_HEADERS)", _T, setting="max_headers", type=int),
    RunOption("no_answer_limit", "--no-answer-limit", "Stop sending after K exchanges in a row get no answer in time (default 3; 0: never; env QBTSUITE_NO_ANSWER_LIMIT)", _T, setting="no_answer_limit", type=int, metavar="K"),
    RunOption("capabilities", "--capabilities", "Optional capabilities the target offers, comma-separated, or 'none'", _T, setting="capabilities"),
    RunOption("main_key_rpm", "--main-key-rpm", "The main key's limit, requests per minute: the run spaces its requests to stay under it (env QBTSUITE_MAIN_KEY_RPM)", _T, setting="main_key_rpm", type=int, metavar="N"),
    RunOption("fault", "--fault", "Embedded server only: break one requirement on purpose (repeatable)", _T, action="append", metavar="NAME"),
    RunOption("profile", "--profile", "smoke (cheap, production-safe), full, or certify (default: full)", _S, choices=PROFILES, default="full"),
    RunOption("header", "--header", "Send 'Name: value' with every request to the target, e.g. for an auth proxy (repeatable; env QBTSUITE_HEADERS; values of secret-looking names are redacted)", _T, setting="headers", action="append", metavar="HEADER", short="-H"),
    RunOption("area", "--area", "Only this area (repeatable)", _S, action="append"),
    RunOption("requirement", "--requirement", "Only tests of this requirement id (repeatable)", _S, action="append", metavar="ID"),
    RunOption("skip_area", "--skip-area", "Leave out this area (repeatable)", _S, action="append", metavar="AREA"),
    RunOption("skip_requirement", "--skip-requirement", "Leave out every test that checks this requirement id (repeatable)", _S, action="append", metavar="ID"),
    RunOption("retries", "--retries", "Retry 5xx and network errors up to N times (0-3; 1 s/2 s/4 s backoff); each retry is reported", _E, setting="retries", type=int),
    RunOption("request_budget", "--request-budget", "Most requests the run may send (default 1000)", _E, setting="request_budget", type=int),
    RunOption("no_fetch_urls", "--no-fetch-urls", "Do not fetch the image URLs the target returns; their checks are skipped (env QBTSUITE_NO_FETCH_URLS=1)", _E, setting="no_fetch_urls", action="store_true"),
    RunOption("max_throttle_wait", "--max-throttle-wait", "Seconds the whole run may wait out 429/Retry-After answers on keys a test does not mean to exhaust (default 120; env QBTSUITE_MAX_THROTTLE_WAIT)", _E, setting="max_throttle_wait", type=float, metavar="SECONDS"),
    RunOption("strict", "--strict", "SHOULD failures also fail the run", _E, action="store_true"),
    RunOption("dry_run", "--dry-run", "Print the planned requests and spend; send nothing", _E, action="store_true"),
    RunOption("results_dir", "--results-dir", "Folder for records and results.json", _O, cli=False),
    RunOption("pytest_arg", "--pytest-arg", "A pytest option qbtsuite run passed through (recorded in the results' selection)", _S, action="append", cli=False),
    RunOption("catalogue", "--catalogue", "Requirements catalogue file (default: bundled)", _S, cli=False),
    RunOption("product", "--product", "The product file: vendor, product, version, url, contact (see product.example.toml)", _C, metavar="FILE"),
    RunOption("vendor", "--vendor", "The vendor (over the product file's)", _C, metavar="NAME"),
    RunOption("product_name", "--product-name", "The product (over the product file's)", _C, metavar="NAME"),
    RunOption("product_version", "--product-version", "The product's version (over the product file's)", _C, metavar="VERSION"),
    RunOption("product_url", "--product-url", "The product's URL (over the product file's)", _C, metavar="URL"),
    RunOption("contact", "--contact", "Who answers for the certificate: an e-mail address or URL (over the product file's)", _C, metavar="CONTACT"),
    RunOption("allow_partial", "--allow-partial", "Run a selection (--area, --requirement, -k, -m, --fault) anyway: the verdict is then 'partial', never 'conformant' (exit 7)", _C, action="store_true"),
    RunOption("sign_key", "--sign-key", "Sign certificate.json with this Ed25519 private key (from 'qbtsuite keygen'); without it the certificate says unsigned", _C, metavar="KEY", pytest=False),
)  # fmt: skip

# The options of the product's identity, by the field of Identity each one gives.
IDENTITY_OPTIONS = {
    "vendor": "vendor",
    "product": "product_name",
    "version": "product_version",
    "url": "product_url",
    "contact": "contact",
}

_GROUP_TITLES = {
    _T: "target",
    _S: "selection",
    _E: "execution",
    _O: "output",
    _C: "certify (the certify profile)",
}


def add_cli_options(
    parser: argparse.ArgumentParser,
) -> dict[str, argparse._ArgumentGroup]:
    """Register the ``qbtsuite run`` options; returns the groups by name."""
    groups = {
        name: parser.add_argument_group(title) for name, title in _GROUP_TITLES.items()
    }
    for option in RUN_OPTIONS:
        if option.cli:
            kwargs = option._kwargs(for_pytest=False)
            flags = (option.short, option.flag) if option.short else (option.flag,)
            groups[option.group].add_argument(*flags, **kwargs)
    return groups


def add_pytest_options(parser: pytest.Parser) -> None:
    """Register the plugin's ``--qbt-*`` options (the same table, prefixed)."""
    group = parser.getgroup("qbtsuite", "Qubittron conformance suite")
    for option in RUN_OPTIONS:
        if option.pytest:
            group.addoption(option.pytest_flag, **option._kwargs(for_pytest=True))


def settings_values(read: Callable[[str], Any]) -> dict[str, object]:
    """The settings the options give, read by option name (``None``: not given)."""
    values: dict[str, object] = {}
    for option in RUN_OPTIONS:
        if option.setting is None:
            continue
        value = read(option.name)
        if option.action == "store_true":
            value = True if value else None  # an absent flag leaves lower sources be
        elif option.action == "append" and not value:
            value = None  # nothing given: lower sources decide
        values[option.setting] = value
    return values


def cli_reader(args: argparse.Namespace) -> Callable[[str], Any]:
    """Read options from a parsed ``qbtsuite run`` command line."""
    return lambda name: getattr(args, name, None)


def pytest_reader(config: pytest.Config) -> Callable[[str], Any]:
    """Read options from a pytest session's ``--qbt-*`` options."""
    known = {o.name for o in RUN_OPTIONS if o.pytest}
    return lambda name: config.getoption("qbt_" + name) if name in known else None


def pytest_argv(values: Mapping[str, object]) -> list[str]:
    """The ``--qbt-*`` arguments that give the plugin ``values`` (by option name)."""
    by_name = {o.name: o for o in RUN_OPTIONS if o.pytest}
    argv: list[str] = []
    for name, value in values.items():
        option = by_name[name]
        if value is None or value is False:
            continue
        if option.action == "store_true":
            argv.append(option.pytest_flag)
        elif option.action == "append":
            several = value if isinstance(value, list | tuple) else (value,)
            argv += _repeat(option.pytest_flag, several)
        else:
            argv.append(f"{option.pytest_flag}={value}")
    return argv


def _repeat(flag: str, values: Iterable[object]) -> list[str]:
    # "--flag=value": a value that starts with "-" (a pytest option) stays a value
    return [f"{flag}={value}" for value in values]


def config_file(read: Callable[[str], Any]) -> Path | None:
    """The ``--config`` file, if one was given on the command line."""
    value = read("config")
    return Path(value) if value else None
