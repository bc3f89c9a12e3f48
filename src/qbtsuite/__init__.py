"""qbtsuite: conformance and load-test suite for the Qubittron API."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
