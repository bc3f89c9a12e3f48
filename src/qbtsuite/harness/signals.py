"""How a conformance test ends other than by passing or failing a check.

- :func:`unsupported` ends the test as "unsupported": the target declines an optional
  capability *in the documented envelope* (a 404 ``model_not_found``, not an HTML
  500) — never to be confused with "fail".
- :func:`skip_for_missing_key` turns :class:`~qbtsuite.errors.MissingKey` (raised by
  the HTTP client, which knows nothing of pytest) into a skip with the variable to set.
"""

from __future__ import annotations

from typing import NoReturn

import pytest

from qbtsuite.errors import MissingKey

__all__ = ["Unsupported", "skip_for_missing_key", "unsupported"]


class Unsupported(pytest.skip.Exception):  # type: ignore[name-defined,misc]
    """Raised by :func:`unsupported`; pytest shows it as a skip."""


def unsupported(reason: str) -> NoReturn:
    """End the test: the target declines this optional capability, documentedly."""
    raise Unsupported(f"unsupported: {reason}", _use_item_location=True)


def skip_for_missing_key(exc: MissingKey) -> NoReturn:
    """End the test as skipped: it needs a key this run was not given."""
    raise pytest.skip.Exception(str(exc), _use_item_location=True) from None
