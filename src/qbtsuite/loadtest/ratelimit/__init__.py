"""The ``ratelimit`` load profile: measure a rate limiter, key by key.

No load tool measures a limiter (load-metrics.md §4): they count 429s as errors and
move on. This profile drives each key under test above its declared limit and judges
what the limiter did, from the exact samples:

- ``settings``: the scenario's parameters (travel inside the plan);
- ``scenario``: the script a Locust process runs through a small driver interface;
- ``windows``: counting admitted requests in windows, Retry-After and envelopes;
- ``checks``: one verdict per check and key, with figures;
- ``plot`` and ``report``: the timeline plot and the report sections.
"""

from __future__ import annotations

__all__: list[str] = []
