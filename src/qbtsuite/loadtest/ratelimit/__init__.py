"""The ``ratelimit`` load profile: measure a rate limiter, key by key.

No load tool measures a limiter (load/README.md, 'The ratelimit profile'): they count
429s as errors and move on. This profile drives each key under test above its declared limit and judges
what the limiter did, from the exact samples:

- ``settings``: the scenario's parameters (they travel inside the plan);
- ``driver`` and ``scenario``: what an engine must offer, and the script it runs;
- ``windows``: counting admitted requests in windows, reading Retry-After and 429s;
- ``verdict``, ``criteria``, ``keyview``: verdicts, their wording, a key's samples;
- ``checks`` (limit, rejections, boundary), ``recovery``, ``isolation`` (and the
  429 latency figures), gathered by ``judge`` into ``load.json``'s section;
- ``plot`` and ``report``: the timeline plot and the report sections.
"""

from __future__ import annotations

__all__: list[str] = []
