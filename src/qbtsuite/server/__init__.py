"""The Qubittron reference server: a faithful, loopback-only implementation of the API."""

from __future__ import annotations

__all__: list[str] = []
