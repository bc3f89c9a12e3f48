"""Locate the data folders the suite ships: conformance/, load/, schemas/, fixtures/.

In a checkout (editable install) they sit at the repository root; in a wheel they are
bundled under ``qbtsuite/_bundled/``.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["data_dir"]

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """Return the folder ``name`` (e.g. ``"schemas"``), bundled or from the checkout."""
    bundled = _PACKAGE / "_bundled" / name
    if bundled.is_dir():
        return bundled
    checkout = _PACKAGE.parent.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(
        f"qbtsuite data folder {name!r} is missing from this install"
    )
