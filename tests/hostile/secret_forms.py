"""Every encoding a secret may travel in, and the byte strings that find each one.

The hostile ``echo-auth`` mode sends a request's ``Authorization`` value back in each
form of :func:`echo_forms`; the run-folder scan looks for each needle of
:func:`needles`. Both derive from the same list, so a form the echo sends is a form
the scan finds.

Base64 inside a longer text: a secret starting at decoded offset ``o`` is encoded
from the first 3-byte group that lies wholly inside it, so for each alignment
``o % 3`` the characters of the whole groups inside the secret are fixed whatever
surrounds it (RFC 4648 §4, §5). Those characters are the needle of that alignment.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

__all__ = ["Form", "Needle", "echo_forms", "needles"]


@dataclass(frozen=True, slots=True)
class Form:
    """One encoded copy of a secret: a name saying how, and the ASCII text."""

    name: str
    text: str


@dataclass(frozen=True, slots=True)
class Needle:
    """Bytes whose presence in a file proves the secret is there in ``form``."""

    form: str
    data: bytes


def _b64(data: bytes, *, urlsafe: bool, padded: bool) -> str:
    text = (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(data).decode()
    return text if padded else text.rstrip("=")


def _percent(data: bytes, *, upper: bool) -> str:
    return "".join(f"%{b:02X}" if upper else f"%{b:02x}" for b in data)


def _json_escaped(text: str, *, upper: bool) -> str:
    return "".join(f"\\u{ord(c):04X}" if upper else f"\\u{ord(c):04x}" for c in text)


def _surrounded(data: bytes, alignment: int) -> bytes:
    """``data`` inside a longer text, at a decoded offset ≡ ``alignment`` (mod 3)."""
    label = b"authorization="
    lead = b"#" * ((alignment - len(label)) % 3) + label
    return lead + data + b";scope=all;expires=never"


def echo_forms(value: str) -> list[Form]:
    """``value`` (e.g. ``Bearer qbt_…``) in every encoding the echo sends."""
    raw = value.encode()
    forms = [Form("plain", value)]
    for urlsafe in (False, True):
        alphabet = "b64url" if urlsafe else "b64"
        for padded in (True, False):
            name = f"{alphabet}-{'padded' if padded else 'unpadded'}"
            forms.append(Form(name, _b64(raw, urlsafe=urlsafe, padded=padded)))
        for alignment in range(3):
            text = _b64(_surrounded(raw, alignment), urlsafe=urlsafe, padded=True)
            forms.append(Form(f"{alphabet}-in-text-{alignment}", text))
    for upper in (True, False):
        case = "upper" if upper else "lower"
        forms.append(Form(f"percent-{case}", _percent(raw, upper=upper)))
        forms.append(Form(f"json-escaped-{case}", _json_escaped(value, upper=upper)))
        forms.append(Form(f"hex-{case}", raw.hex().upper() if upper else raw.hex()))
    return forms


def needles(secret: str) -> list[Needle]:
    """Byte strings that occur in a file whenever ``secret`` is there in a known form."""
    raw = secret.encode()
    found = [Needle("plain", raw)]
    for urlsafe in (False, True):
        alphabet = "b64url" if urlsafe else "b64"
        for alignment in range(3):
            skip = (3 - alignment) % 3
            whole = raw[skip:]
            whole = whole[: len(whole) - len(whole) % 3]
            text = _b64(whole, urlsafe=urlsafe, padded=False)
            found.append(Needle(f"{alphabet}-align-{alignment}", text.encode()))
    for upper in (True, False):
        case = "upper" if upper else "lower"
        found.append(Needle(f"percent-{case}", _percent(raw, upper=upper).encode()))
        escaped = _json_escaped(secret, upper=upper)
        found.append(Needle(f"json-escaped-{case}", escaped.encode()))
        found.append(
            Needle(f"hex-{case}", (raw.hex().upper() if upper else raw.hex()).encode())
        )
    unique: dict[bytes, Needle] = {}
    for needle in found:
        unique.setdefault(needle.data, needle)  # std and URL-safe may coincide
    return list(unique.values())
