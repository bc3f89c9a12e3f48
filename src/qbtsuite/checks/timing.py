"""Is a stream sent as it is produced? Judged from the arrival times of its chunks.

Why not "the first content chunk arrives before half the stream's duration": a
correct gateway with a long queue before the first token (2 s) and a quick
generation (0.5 s) would fail that rule, since time to first token is not a
property of streaming. What only a buffering hop produces is content that arrives
*all at once*: a buffered stream is delivered in one or a few reads, so its content
chunks share (nearly) one arrival time, however long generation took.

The rule: with at least ``min_content_chunks`` content chunks, the first and the
last must arrive at least ``(chunks - 1) × min_gap`` apart. The default gap, 0.25 ms,
is 4000 chunks per second for one request, faster than any decoder streams a
single completion, and tolerant of a hiccup that bunches part of a stream: the
whole stream must collapse for the check to fail. A stream too short to judge
passes (ask for enough tokens, e.g. ``max_tokens`` 32). It cannot give a false
verdict on a slow gateway: slowness only spreads the chunks further.
"""

from __future__ import annotations

from qbtsuite.checks._format import failure
from qbtsuite.checks._registry import check
from qbtsuite.checks.chunks import chunk_content, json_chunks
from qbtsuite.sse import SSEStream

__all__ = ["MIN_CONTENT_CHUNKS", "MIN_GAP_SECONDS", "sse_is_incremental"]

MIN_CONTENT_CHUNKS = 4
MIN_GAP_SECONDS = 0.00025


@check
def sse_is_incremental(
    stream: SSEStream,
    min_content_chunks: int = MIN_CONTENT_CHUNKS,
    min_gap: float = MIN_GAP_SECONDS,
) -> None:
    """Content chunks arrive spread over time, not in one burst (SSE-014).

    Needs arrival times: parse the stream with timestamps (``SSEParser.feed(data,
    at)``); a stream parsed without them raises ``ValueError`` (a suite error).
    """
    times: list[float] = []
    for chunk in json_chunks(stream):
        if chunk.is_error:
            continue
        if any(chunk_content(c) for c in chunk.choices()):
            at = chunk.event.received_at
            if at is None:
                raise ValueError("sse_is_incremental needs arrival times")
            times.append(at)
    if len(times) < min_content_chunks:
        return  # too short to tell streaming from buffering
    spread = times[-1] - times[0]
    needed = (len(times) - 1) * min_gap
    if spread < needed:
        raise failure(
            "Stream delivered at once",
            f"{len(times)} content chunks arrived within {spread * 1000:.3f} ms "
            "of each other",
            f"chunks sent as produced: the first content chunk at least "
            f"{needed * 1000:.2f} ms before the last (a buffered stream arrives "
            "in one burst)",
        )
