"""Scrub API keys from any text before it is written or shown.

Every writer (transcripts, records, results, reports, JUnit, Allure, terminal) passes
its text through :func:`scrub`. Three nets, so one missed path does not leak a key:

1. every value registered with :func:`register` (each :class:`~qbtsuite.target.config.Secret`
   registers itself when created) is replaced wherever it appears, and so are its
   first or last ten or more characters (truncated reprs show both ends);
2. anything shaped like an ``Authorization`` credential (``Bearer <token>``, the
   token holding a digit or ``_`` as generated tokens do);
3. anything shaped like a Qubittron key (``qbt_…``) or an OpenAI-style ``sk-…`` key.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["REDACTED", "register", "registered_count", "scrub", "scrub_obj"]

REDACTED = "[REDACTED]"

# Shorter values would scrub ordinary words; real keys are far longer.
_MIN_SECRET_LENGTH = 8
_FRAGMENT = 10  # heads or tails of a secret this long are scrubbed too

_lock = threading.Lock()
_known: set[str] = set()

# A credential after "Bearer": token68 characters with a digit or "_" in them, so
# prose ("Bearer header", "Bearer authentication") is left alone.
_BEARER = re.compile(
    r"(?i)\b(bearer)([ \t]+)(?!\[REDACTED\])(?=[A-Za-z0-9._~+/=\-]*[0-9_])"
    r"[A-Za-z0-9._~+/=\-]{6,}"
)
_KEY_SHAPES = re.compile(
    r"\b(?:qbt_(?!\[REDACTED\])[A-Za-z0-9_\-]{4,}|sk-[A-Za-z0-9_\-]{16,})"
)


def register(value: str) -> None:
    """Remember ``value`` as a secret: from now on :func:`scrub` removes it."""
    if len(value) >= _MIN_SECRET_LENGTH:
        with _lock:
            _known.add(value)


def registered_count() -> int:
    """How many distinct secrets are known (for tests and diagnostics)."""
    return len(_known)


def scrub(text: str) -> str:
    """Return ``text`` with every known secret and key-shaped token redacted."""
    with _lock:
        known = sorted(_known, key=len, reverse=True)
    for value in known:
        if value in text:
            text = text.replace(value, REDACTED)
        text = _scrub_fragments(text, value)
    text = _BEARER.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    return _KEY_SHAPES.sub(_shape_replacement, text)


def _scrub_fragments(text: str, value: str) -> str:
    """Remove long heads and tails of ``value``: truncating reprs (pytest's
    ``'abc...xyz'``) show both ends of a string, never the whole."""
    for size in range(len(value) - 1, _FRAGMENT - 1, -1):
        for fragment in (value[:size], value[-size:]):
            if fragment in text:
                text = text.replace(fragment, REDACTED)
    return text


def _shape_replacement(match: re.Match[str]) -> str:
    token = match.group(0)
    return "qbt_" + REDACTED if token.startswith("qbt_") else "sk-" + REDACTED


def scrub_obj(value: Any) -> Any:
    """Scrub every string inside a JSON-like structure (dicts, lists, scalars)."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, Mapping):
        return {scrub(str(k)): scrub_obj(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        return [scrub_obj(v) for v in value]
    return value
