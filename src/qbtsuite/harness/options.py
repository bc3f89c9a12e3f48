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


_T, _S, _E, _O = "target", "selection", "execution", "output"

RUN_OPTIONS: tuple[RunOption, ...] = (
    RunOption("base_url", "--base-url", "Base URL of the target, e.g. https://api.qubittron.ai/v1 (env QUBITTRON_BASE_URL)", _T, setting="base_url"),
    RunOption("http_url", "--http-url", "Plain-HTTP URL to probe for the redirect (default: derived from the base URL)", _T, setting="http_url"),
    RunOption("config", "--config", "TOML file of target settings (see target.example.toml; env QBTSUITE_CONFIG)", _T),
    RunOption("api_key", "--api-key", "Main API key (discouraged: use QUBITTRON_API_KEY)", _T, setting="api_key", pytest=False),
    RunOption("ca_bundle", "--ca-bundle", "CA bundle to trust for the target (env QBTSUITE_CA_BUNDLE)", _T, setting="ca_bundle"),
    RunOption("insecure", "--insecure", "Do not verify the target's TLS certificate", _T, setting="insecure", action="store_true"),
    RunOption("timeout", "--timeout", "Read timeout per request, seconds (default 60)", _T, setting="read_timeout", type=float),
    RunOption("capabilities", "--capabilities", "Optional capabilities the target offers, comma-separated, or 'none'", _T, setting="capabilities"),
    RunOption("main_key_rpm", "--main-key-rpm", "The main key's limit, requests per minute: the run spaces its requests to stay under it (env QBTSUITE_MAIN_KEY_RPM)", _T, setting="main_key_rpm", type=int, metavar="N"),
    RunOption("fault", "--fault", "Embedded server only: break one requirement on purpose (repeatable)", _T, action="append", metavar="NAME"),
    RunOption("profile", "--profile", "smoke (cheap, production-safe), full, or certify (default: full)", _S, choices=PROFILES, default="full"),
    RunOption("area", "--area", "Only this area (repeatable)", _S, action="append"),
    RunOption("requirement", "--requirement", "Only tests of this requirement id (repeatable)", _S, action="append", metavar="ID"),
    RunOption("retries", "--retries", "Retry 5xx and network errors up to N times (0-3; 1 s/2 s/4 s backoff); each retry is reported", _E, setting="retries", type=int),
    RunOption("request_budget", "--request-budget", "Most requests the run may send (default 1000)", _E, setting="request_budget", type=int),
    RunOption("max_throttle_wait", "--max-throttle-wait", "Seconds the whole run may wait out 429/Retry-After answers on keys a test does not mean to exhaust (default 120; env QBTSUITE_MAX_THROTTLE_WAIT)", _E, setting="max_throttle_wait", type=float, metavar="SECONDS"),
    RunOption("strict", "--strict", "SHOULD failures also fail the run", _E, action="store_true"),
    RunOption("dry_run", "--dry-run", "Print the planned requests and spend; send nothing", _E, action="store_true"),
    RunOption("results_dir", "--results-dir", "Folder for records and results.json", _O, cli=False),
    RunOption("catalogue", "--catalogue", "Requirements catalogue file (default: bundled)", _S, cli=False),
)  # fmt: skip

_GROUP_TITLES = {_T: "target", _S: "selection", _E: "execution", _O: "output"}


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
            groups[option.group].add_argument(option.flag, **kwargs)
    return groups


def add_pytest_options(parser: pytest.Parser) -> None:
    """Register the plugin's ``--qbt-*`` options (the same table, prefixed)."""
    group = parser.getgroup("qbtsuite", "Qubittron conformance suite")
    for option in RUN_OPTIONS:
        if option.pytest:
            group.addoption(option.pytest_flag, **option._kwargs(for_pytest=True))


def settings_values(read: Callable[[str], Any]) -> dict[str, Any]:
    """The settings the options give, read by option name (``None``: not given)."""
    values: dict[str, Any] = {}
    for option in RUN_OPTIONS:
        if option.setting is None:
            continue
        value = read(option.name)
        if option.action == "store_true":
            value = True if value else None  # an absent flag leaves lower sources be
        values[option.setting] = value
    return values


def cli_reader(args: argparse.Namespace) -> Callable[[str], Any]:
    """Read options from a parsed ``qbtsuite run`` command line."""
    return lambda name: getattr(args, name, None)


def pytest_reader(config: pytest.Config) -> Callable[[str], Any]:
    """Read options from a pytest session's ``--qbt-*`` options."""
    known = {o.name for o in RUN_OPTIONS if o.pytest}
    return lambda name: config.getoption("qbt_" + name) if name in known else None


def pytest_argv(values: Mapping[str, Any]) -> list[str]:
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
            argv += _repeat(option.pytest_flag, value)
        else:
            argv += [option.pytest_flag, str(value)]
    return argv


def _repeat(flag: str, values: Iterable[Any]) -> list[str]:
    return [part for value in values for part in (flag, str(value))]


def config_file(read: Callable[[str], Any]) -> Path | None:
    """The ``--config`` file, if one was given on the command line."""
    value = read("config")
    return Path(value) if value else None
