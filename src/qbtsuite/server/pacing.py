"""The latency model in time: when each generated token becomes available."""

from __future__ import annotations

import asyncio

from qbtsuite.server.settings import LatencyModel

__all__ = ["Pacer"]


class Pacer:
    """Sleeps to absolute deadlines ``start + ttft + step * itl`` so delays never drift."""

    def __init__(self, latency: LatencyModel) -> None:
        self.latency = latency
        self._loop = asyncio.get_running_loop()
        self._start = self._loop.time()

    async def until_step(self, step: int) -> None:
        """Wait until token ``step`` (0 = first token) is due."""
        due = self._start + self.latency.ttft + step * self.latency.itl
        delay = due - self._loop.time()
        if delay > 0:
            await asyncio.sleep(delay)

    async def whole(self, tokens: int) -> None:
        """Wait as long as generating ``tokens`` tokens takes (non-streamed replies)."""
        await self.until_step(max(tokens - 1, 0))
