"""Locust glue of qbtsuite's load suite: users, shape, per-process context, samples.

Only this package (and ``load/locustfile.py``) imports ``locust``; everything that can
be pure — plans, stream timing, statistics, reports — lives in ``qbtsuite.loadtest``.
"""

from __future__ import annotations

__all__: list[str] = []
