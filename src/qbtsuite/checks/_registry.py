"""The registry of checks: every check function, by name.

Reports and the requirement catalogue refer to checks by name; the registry lets them
find a check's docstring (the property it asserts) and proves names are unique.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["CHECKS", "check"]

CHECKS: dict[str, Callable[..., None]] = {}

F = TypeVar("F", bound=Callable[..., Any])


def check(fn: F) -> F:
    """Register ``fn`` under its own name (a check returns None or raises)."""
    name = fn.__name__
    known = CHECKS.get(name)
    if known is not None and known is not fn:
        raise ValueError(f"two checks are named {name!r}")
    CHECKS[name] = fn
    return fn
