"""The bounds of one exchange with the target, and their defaults.

A target under test is broken by definition, so nothing it sends may hold a run
forever or fill its memory:

- a wall-clock deadline per exchange, from sending to the last byte of the body or
  stream: :data:`DEADLINE` for a JSON answer, :data:`STREAM_DEADLINE` for a stream
  or an upload (the read timeout is per read: a target trickling one byte a second
  never trips it);
- the size of a body, counted after Content-Encoding is undone (:data:`MAX_BODY`,
  above the largest legitimate answer: a 2048×2048 PNG as base64, a long
  transcript), and of an answer's header fields (:data:`MAX_HEADERS`);
- :data:`NO_ANSWER_LIMIT` exchanges in a row without an answer in time, after which
  the run stops sending (the target is not answering).
"""

from __future__ import annotations

__all__ = [
    "DEADLINE",
    "MAX_BODY",
    "MAX_HEADERS",
    "NO_ANSWER_LIMIT",
    "STREAM_DEADLINE",
]

DEADLINE = 30.0
STREAM_DEADLINE = 120.0
MAX_BODY = 64 * 1024 * 1024
MAX_HEADERS = 64 * 1024
NO_ANSWER_LIMIT = 3
