"""The load suite's orchestration, outside of Locust (no module here imports it).

One job per module: ``plan`` (the resolved plan and the open-loop schedule),
``profile`` (profile files and command-line overrides), ``bodies`` (request bodies),
``stream`` (stream timing), ``samples`` (the exact per-request records), ``stats``
(figures), ``slo`` (objectives and verdicts), ``plots``, ``report`` and ``result``
(``load.json`` and its renderings), ``target`` (which target, and may it be loaded),
``processes`` (Locust child processes) and ``run`` (one run from start to verdict).
Locust itself runs in child processes from ``load/locustfile.py``.
"""

from __future__ import annotations

__all__: list[str] = []
