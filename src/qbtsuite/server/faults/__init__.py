"""The fault catalogue: realistic gateway bugs the reference server can be told to have.

A fault is a small class registered with :func:`fault`. It deviates by swapping one of
the server's :class:`~qbtsuite.server.parts.Parts` (``apply``) or by wrapping the HTTPS
or plain-HTTP ASGI app (``wrap_https`` / ``wrap_http``); endpoints know nothing of it.
Each declares the requirement ids (conformance/requirements.toml) it must break, or
(``expects="incomplete"``) that no verdict is possible against it: the run must end
incomplete (exit 4), with no pass, fail or warn resting on the fault's answers.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable
from typing import ClassVar

from starlette.types import ASGIApp

from qbtsuite.server.parts import Parts

__all__ = [
    "EXPECTS",
    "FAULTS",
    "Fault",
    "UnknownFaultError",
    "fault",
    "load_faults",
    "select",
]

# What a run against a fault must show: its declared requirements failing, or no
# verdict at all (the answers are the run's own trouble, e.g. its key throttled).
EXPECTS = ("failures", "incomplete")


class Fault:
    """Base class: by default a fault changes nothing."""

    name: ClassVar[str]
    area: ClassVar[str]
    description: ClassVar[str]
    breaks: ClassVar[tuple[str, ...]]
    collateral: ClassVar[tuple[str, ...]] = ()
    # Why the fault cannot be seen from outside, when it cannot; None if it can.
    invisible_because: ClassVar[str | None] = None
    expects: ClassVar[str] = "failures"  # one of EXPECTS

    def apply(self, parts: Parts) -> None:
        """Swap parts of the server (called once, before the app is built)."""

    def wrap_https(self, app: ASGIApp) -> ASGIApp:
        """Wrap the HTTPS app."""
        return app

    def wrap_http(self, app: ASGIApp, https_port: int) -> ASGIApp:
        """Wrap (or replace) the plain-HTTP app."""
        return app


FAULTS: dict[str, type[Fault]] = {}


class UnknownFaultError(KeyError):
    """A fault name that is not in the catalogue."""

    def __str__(self) -> str:
        return f"unknown fault {self.args[0]!r} (see 'qbtsuite serve --list-faults')"


def fault(
    name: str,
    *,
    area: str,
    breaks: Iterable[str],
    description: str,
    collateral: Iterable[str] = (),
    invisible_because: str | None = None,
    expects: str = "failures",
) -> Callable[[type[Fault]], type[Fault]]:
    """Register a fault class under ``name``.

    ``expects="incomplete"``: the fault leaves nothing to judge (it declares no
    requirement it breaks); the run against it must end incomplete.
    """
    if expects not in EXPECTS:
        raise ValueError(f"fault {name!r}: expects must be one of {EXPECTS}")

    def register(cls: type[Fault]) -> type[Fault]:
        if name in FAULTS:
            raise ValueError(f"fault {name!r} registered twice")
        cls.name, cls.area, cls.description = name, area, description
        cls.breaks, cls.collateral = tuple(breaks), tuple(collateral)
        cls.invisible_because = invisible_because
        cls.expects = expects
        FAULTS[name] = cls
        return cls

    return register


def load_faults() -> dict[str, type[Fault]]:
    """Import every fault module of this package and return the catalogue."""
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")
    return FAULTS


def select(names: Iterable[str]) -> list[Fault]:
    """Instances of the named faults, in order; :class:`UnknownFaultError` if unknown."""
    catalogue = load_faults()
    chosen = []
    for name in names:
        if name not in catalogue:
            raise UnknownFaultError(name)
        chosen.append(catalogue[name]())
    return chosen
