"""Scrub API keys from any text before it is written or shown.

Every writer (transcripts, records, results, reports, JUnit, Allure, terminal) passes
its text through :func:`scrub`. Three nets, so one missed path does not leak a key:

1. every value registered with :func:`register` (each :class:`~qbtsuite.target.config.Secret`
   registers itself when created) is replaced in every form a target may echo it in:
   as is; its first or last ten or more characters (truncated reprs show both ends);
   base64, standard and URL-safe, alone or inside a longer base64 text (padding or
   not); percent-encoded and JSON ``\\uXXXX``-escaped, for some or all of its
   characters, hex digits of either case; and hex, upper or lower case;
2. anything shaped like an ``Authorization`` credential (``Bearer <token>``, the
   token holding a digit or ``_`` as generated tokens do);
3. anything shaped like a Qubittron key (``qbt_…``) or an OpenAI-style ``sk-…`` key.

A ``Bearer <key>`` value in any of those encodings holds the key's own encoding (a
base64 text of it holds one of the key's three aligned cores, see
:func:`_base64_cores`), so the key's forms cover it. The patterns of a secret are
built once, when it is registered; a text pays for a pattern only when a cheap
test (a substring, a ``%`` or a backslash) says it could match.
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "REDACTED",
    "Snapshot",
    "found_in",
    "register",
    "registered_count",
    "restore",
    "scrub",
    "scrub_obj",
    "snapshot",
]

REDACTED = "[REDACTED]"

# Shorter values would scrub ordinary words; real keys are far longer.
_MIN_SECRET_LENGTH = 8
_FRAGMENT = 10  # heads or tails of a secret this long are scrubbed too
# ...when they hold this many distinct characters: a run of one character
# ("0000000000") is in ordinary ids and hashes, and scrubbing it there would
# damage the very evidence a report shows.
_FRAGMENT_VARIETY = 5

# A credential after "Bearer": token68 characters with a digit or "_" in them, so
# prose ("Bearer header", "Bearer authentication") is left alone.
_BEARER = re.compile(
    r"(?i)\b(bearer)([ \t]+)(?!\[REDACTED\])(?=[A-Za-z0-9._~+/=\-]*[0-9_])"
    r"[A-Za-z0-9._~+/=\-]{6,}"
)
_BEARER_AT = re.compile(
    r"(?i)(bearer)([ \t]+)(?!\[REDACTED\])(?=[A-Za-z0-9._~+/=\-]*[0-9_])"
    r"[A-Za-z0-9._~+/=\-]{6,}"
)  # _BEARER without the word boundary, matched where str.find found "bearer"
_KEY_SHAPES = re.compile(
    r"\b(?:qbt_(?!\[REDACTED\])[A-Za-z0-9_\-]{4,}|sk-[A-Za-z0-9_\-]{16,})"
)
# One percent-encoded byte or one JSON \u escape (hex digits of either case).
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}|\\u[0-9A-Fa-f]{4}")


def _base64_cores(raw: bytes) -> list[str]:
    """The base64 characters a secret always produces, in each alignment.

    Inside a longer text the secret starts at some decoded offset; base64 encodes
    3-byte groups into 4 characters (RFC 4648 §4), so only the groups that lie wholly
    inside the secret give characters that do not depend on its neighbours. For
    the three offsets mod 3 those characters are fixed: the "cores". A base64 text
    holding the secret, padded or not, holds one of them; URL-safe base64 (§5) only
    swaps two letters of the alphabet.
    """
    cores = []
    for skip in range(3):
        whole = raw[skip:]
        whole = whole[: len(whole) - len(whole) % 3]
        if len(whole) >= 6:  # 8 characters or more: never an ordinary word
            text = base64.b64encode(whole).decode("ascii")
            cores += [text, text.replace("+", "-").replace("/", "_")]
    return cores


def _hex_class(value: int, width: int) -> str:
    """``value`` as ``width`` hex digits, each letter matching either case."""
    digits = f"{value:0{width}x}"
    return "".join(f"[{d}{d.upper()}]" if d.isalpha() else d for d in digits)


def _escapes_of(char: str) -> tuple[str, str]:
    """``char`` percent-encoded (its UTF-8 bytes, RFC 3986 §2.1) and JSON-escaped
    (``\\uXXXX``, a surrogate pair beyond the BMP, RFC 8259 §7), lower-case hex."""
    percent = "".join(f"%{b:02x}" for b in char.encode("utf-8"))
    units = char.encode("utf-16-be")
    json = "".join(
        f"\\u{units[i]:02x}{units[i + 1]:02x}" for i in range(0, len(units), 2)
    )
    return percent, json


def _escaped_char(char: str) -> str:
    """A regex for one character as is, percent-encoded or JSON-escaped."""
    percent = "".join("%" + _hex_class(b, 2) for b in char.encode("utf-8"))
    units = char.encode("utf-16-be")
    json = "".join(
        r"\\u" + _hex_class(int.from_bytes(units[i : i + 2], "big"), 4)
        for i in range(0, len(units), 2)
    )
    return f"(?:{re.escape(char)}|{percent}|{json})"


@dataclass(frozen=True, slots=True)
class _Patterns:
    """Everything :func:`scrub` looks for of one secret, prepared once."""

    value: str
    literals: tuple[str, ...]  # whole forms, longest first
    head: str  # the shortest head and tail that are scrubbed ("" if none is)
    tail: str
    escapes: frozenset[str]  # the first escape of each character, lower-case
    escaped: re.Pattern[str]  # the secret with some or all characters escaped

    @classmethod
    def of(cls, value: str) -> _Patterns:
        raw = value.encode("utf-8")
        forms = {value, raw.hex(), raw.hex().upper(), *_base64_cores(raw)}
        escapes = set()
        for char in value:
            percent, json = _escapes_of(char)
            escapes |= {percent[:3], json[:6]}
        return cls(
            value=value,
            literals=tuple(sorted(forms, key=len, reverse=True)),
            head=next((f for f in _heads(value) if _varied(f)), ""),
            tail=next((f for f in _tails(value) if _varied(f)), ""),
            escapes=frozenset(escapes),
            escaped=re.compile("".join(_escaped_char(c) for c in value)),
        )

    def scrub(
        self, text: str, escapes: frozenset[str], *, fragments: bool = True
    ) -> str:
        """``text`` without this secret; ``escapes`` are the escapes ``text`` holds."""
        for form in self.literals:
            if form in text:
                text = text.replace(form, REDACTED)
        if fragments and self.shows_an_end(text):
            text = _scrub_fragments(text, (self,))
        if not escapes.isdisjoint(self.escapes):  # an escaped form is possible
            text = self.escaped.sub(REDACTED, text)
        return text

    def shows_an_end(self, text: str) -> bool:
        return bool(self.head and self.head in text) or bool(
            self.tail and self.tail in text
        )

    def fragments(self) -> Iterator[str]:
        """Its varied heads and tails, ``_FRAGMENT`` characters or longer."""
        for fragment in (*_heads(self.value), *_tails(self.value)):
            if _varied(fragment):
                yield fragment


def _heads(value: str) -> Iterator[str]:
    """``value``'s proper heads, shortest first, from ``_FRAGMENT`` characters."""
    return (value[:size] for size in range(_FRAGMENT, len(value)))


def _tails(value: str) -> Iterator[str]:
    return (value[-size:] for size in range(_FRAGMENT, len(value)))


def _varied(fragment: str) -> bool:
    return len(set(fragment)) >= _FRAGMENT_VARIETY


def _scrub_fragments(text: str, secrets: Iterable[_Patterns]) -> str:
    """Remove long heads and tails: truncating reprs (pytest's ``'abc...xyz'``)
    show both ends of a string, never the whole. The longest fragment of any secret
    goes first, so a secret that shares an end with another is removed whole."""
    fragments = sorted(
        {f for s in secrets for f in s.fragments()}, key=len, reverse=True
    )
    for fragment in fragments:
        if fragment in text:
            text = text.replace(fragment, REDACTED)
    return text


_lock = threading.Lock()
_known: dict[str, _Patterns] = {}
_ordered: tuple[_Patterns, ...] = ()  # longest secret first


def register(value: str) -> None:
    """Remember ``value`` as a secret: from now on :func:`scrub` removes it."""
    global _ordered
    if len(value) < _MIN_SECRET_LENGTH or value in _known:
        return
    patterns = _Patterns.of(value)
    with _lock:
        _known.setdefault(value, patterns)
        _ordered = tuple(sorted(_known.values(), key=lambda p: -len(p.value)))


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The registry as it stood at one moment (see :func:`snapshot`)."""

    known: tuple[tuple[str, _Patterns], ...]


def snapshot() -> Snapshot:
    """The secrets known now, to :func:`restore` later: a test that registers a
    key must not leave it scrubbing the texts of the tests after it."""
    with _lock:
        return Snapshot(tuple(_known.items()))


def restore(state: Snapshot) -> None:
    """Forget every secret registered since ``state`` was taken."""
    global _ordered
    with _lock:
        _known.clear()
        _known.update(state.known)
        _ordered = tuple(sorted(_known.values(), key=lambda p: -len(p.value)))


def registered_count() -> int:
    """How many distinct secrets are known (for tests and diagnostics)."""
    return len(_known)


def _escapes(text: str) -> frozenset[str]:
    """The distinct escapes ``text`` holds, lower-case (none without ``%`` or ``\\``)."""
    if "%" not in text and "\\" not in text:
        return frozenset()
    return frozenset(e.lower() for e in set(_ESCAPE.findall(text)))


def found_in(text: str, value: str) -> bool:
    """Whether ``value`` (registered or not) is in ``text`` in a form :func:`scrub`
    removes: as is, base64, percent- or JSON-escaped, or hex (not a mere head or tail)."""
    if len(value) < _MIN_SECRET_LENGTH:
        raise ValueError("a value this short would be found in ordinary text")
    patterns = _known.get(value) or _Patterns.of(value)
    return patterns.scrub(text, _escapes(text), fragments=False) != text


def scrub(text: str) -> str:
    """Return ``text`` with every known secret (in any form) and key-shaped token
    redacted."""
    escapes = _escapes(text)
    for patterns in _ordered:
        text = patterns.scrub(text, escapes, fragments=False)
    showing = [p for p in _ordered if p.shows_an_end(text)]
    if showing:
        text = _scrub_fragments(text, showing)
    text = _scrub_bearer(text)
    if "qbt_" in text or "sk-" in text:
        text = _KEY_SHAPES.sub(_shape_replacement, text)
    return text


def _scrub_bearer(text: str) -> str:
    """Redact ``Bearer <token>`` credentials (net 2), found with ``str.find``: a
    regex scanning every position costs ~50 µs per KB, the search ~1."""
    lowered = text.lower()
    if "bearer" not in lowered:
        return text
    if len(lowered) != len(text):  # a character lowered into two: positions differ
        return _BEARER.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    pieces: list[str] = []
    done = 0
    at = lowered.find("bearer")
    while at >= 0:
        before = text[at - 1] if at else " "
        match = (
            None if before.isalnum() or before == "_" else _BEARER_AT.match(text, at)
        )
        if match is not None:
            pieces += [text[done : match.start()], match.group(1), match.group(2)]
            pieces.append(REDACTED)
            done = match.end()
        at = lowered.find("bearer", max(at + 1, done))
    return "".join(pieces) + text[done:] if pieces else text


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
