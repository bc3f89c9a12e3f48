"""Redaction: known secrets and key-shaped text never leave the suite."""

from __future__ import annotations

import base64
import secrets

import pytest

from qbtsuite import redact
from qbtsuite.target.config import Secret


def test_a_registered_secret_is_scrubbed_everywhere_in_a_text() -> None:
    value = "plainvalue-without-shape-42"
    Secret(value)
    text = f"header {value} and again {value}"
    assert value not in redact.scrub(text)
    assert redact.scrub(text).count(redact.REDACTED) == 2


def test_bearer_credentials_and_key_shapes_are_scrubbed_without_registration() -> None:
    assert (
        redact.scrub("Authorization: Bearer abcDEF123456")
        == "Authorization: Bearer [REDACTED]"
    )
    assert "qbt_live_9f8e7d" not in redact.scrub("key=qbt_live_9f8e7d6c5b4a")
    assert "sk-" + "a" * 20 not in redact.scrub("sk-" + "a" * 20)


def test_prose_about_bearer_tokens_is_left_alone() -> None:
    text = "A Bearer header with an empty token is rejected (Bearer authentication)."
    assert redact.scrub(text) == text


def test_scrub_obj_reaches_nested_strings_and_keeps_other_values() -> None:
    value = "nested-secret-value-77"
    Secret(value)
    data = {"a": [value, 3, None], "b": {"c": f"x {value}"}, "d": True}
    clean = redact.scrub_obj(data)
    assert value not in str(clean)
    assert clean["a"][1] == 3 and clean["a"][2] is None and clean["d"] is True


def test_short_values_are_not_registered_as_secrets() -> None:
    before = redact.registered_count()
    redact.register("abc")
    assert redact.registered_count() == before
    assert redact.scrub("abc") == "abc"


def test_the_ends_of_a_secret_shown_by_a_truncating_repr_are_scrubbed() -> None:
    value = "truncated-secret-0123456789-abcdefghij"
    Secret(value)
    text = f"assert '{value[:18]}...{value[-14:]}' == 'x'"
    clean = redact.scrub(text)
    assert value[:18] not in clean and value[-14:] not in clean
    assert clean == f"assert '{redact.REDACTED}...{redact.REDACTED}' == 'x'"


def test_an_end_of_a_key_that_is_one_repeated_character_leaves_ids_alone() -> None:
    # A generated test key ending in zeros must not scrub every id that holds ten
    # zeros (stream ids, hashes): those are the evidence a report shows.
    value = "qbt_test_" + "0" * 32
    Secret(value)
    stream_id = "cmpl-e18536b367f2000000000000"
    assert redact.scrub(f"id {stream_id}") == f"id {stream_id}"
    assert value not in redact.scrub(f"key {value}")
    clean = redact.scrub(f"repr '{value[:12]}...'")
    assert value[:12] not in clean, clean


def test_registrations_a_test_makes_are_forgotten_when_it_ends() -> None:
    value = "registered-for-one-moment-" + secrets.token_hex(8)
    before = redact.snapshot()
    Secret(value)
    assert value not in redact.scrub(value)
    redact.restore(before)
    assert redact.scrub(value) == value


def test_a_secret_sharing_its_tail_with_a_longer_one_is_scrubbed_whole() -> None:
    longer = "a-much-longer-secret-value-xyz-shared-tail-9876543210"
    value = "short-secret-shared-tail-9876543210"
    Secret(longer)
    Secret(value)
    text = f"repr '{value[:16]}...{value[-26:]}'"
    clean = redact.scrub(text)
    assert clean == f"repr '{redact.REDACTED}...{redact.REDACTED}'", clean


# ─── every form a target may echo a key in ───────────────────────────────────


def _b64(data: bytes, *, urlsafe: bool, padded: bool) -> str:
    encode = base64.urlsafe_b64encode if urlsafe else base64.b64encode
    text = encode(data).decode()
    return text if padded else text.rstrip("=")


def _forms(value: str) -> dict[str, str]:
    raw = value.encode()
    forms = {"plain": value}
    for urlsafe in (False, True):
        for padded in (False, True):
            name = f"b64{'url' if urlsafe else ''}-{'padded' if padded else 'bare'}"
            forms[name] = _b64(raw, urlsafe=urlsafe, padded=padded)
            for lead in range(3):  # the value at each offset mod 3 of a longer text
                inside = b"#" * lead + b"session=" + raw + b";expires=never"
                forms[f"{name}-inside-{lead}"] = _b64(
                    inside, urlsafe=urlsafe, padded=padded
                )
    forms["percent-upper"] = "".join(f"%{b:02X}" for b in raw)
    forms["percent-lower"] = "".join(f"%{b:02x}" for b in raw)
    forms["percent-some"] = "".join(
        f"%{b:02X}" if i % 3 == 0 else chr(b) for i, b in enumerate(raw)
    )
    forms["json-upper"] = "".join(f"\\u{ord(c):04X}" for c in value)
    forms["json-lower"] = "".join(f"\\u{ord(c):04x}" for c in value)
    forms["json-some"] = "".join(
        f"\\u{ord(c):04x}" if i % 2 else c for i, c in enumerate(value)
    )
    forms["hex-upper"] = raw.hex().upper()
    forms["hex-lower"] = raw.hex()
    return forms


def _core_needles(value: str) -> list[str]:
    """What survives of the value in a scrubbed text if any form leaked: the value,
    its hex, escapes and the base64 of its whole 3-byte groups in each alignment."""
    raw = value.encode()
    found = [value, raw.hex(), raw.hex().upper()]
    found += ["".join(f"%{b:02x}" for b in raw), "".join(f"%{b:02X}" for b in raw)]
    for skip in range(3):
        whole = raw[skip:][: (len(raw) - skip) // 3 * 3]
        for urlsafe in (False, True):
            found.append(_b64(whole, urlsafe=urlsafe, padded=False))
    return found


KEY = "qbt_" + secrets.token_urlsafe(24)
Secret(KEY)


@pytest.mark.parametrize("subject", ["key", "bearer"])
@pytest.mark.parametrize("form", sorted(_forms("x")))
def test_a_registered_key_is_scrubbed_in_every_encoding_alone_or_as_a_bearer_value(
    form: str, subject: str
) -> None:
    value = KEY if subject == "key" else f"Bearer {KEY}"
    text = f'{{"echo": "{_forms(value)[form]}", "note": "after"}}'
    clean = redact.scrub(text)
    leaked = [n for n in _core_needles(KEY) if n in clean]
    assert not leaked, f"{form} of the {subject} left {leaked} in {clean!r}"
    assert clean.endswith('"note": "after"}')


def test_text_around_an_encoded_key_survives_and_unrelated_escapes_stay() -> None:
    text = f"caf\\u00e9 50%20off {_forms(KEY)['percent-upper']} done"
    assert redact.scrub(text) == f"caf\\u00e9 50%20off {redact.REDACTED} done"


def test_a_key_outside_the_basic_multilingual_plane_is_scrubbed_json_escaped() -> None:
    value = "s3cret-\U0001f511-value"
    Secret(value)
    escaped = "".join(
        c if ord(c) < 0x10000 else "\\ud83d\\udd11" for c in value
    )  # the key emoji as a UTF-16 surrogate pair (RFC 8259 §7)
    assert redact.scrub(f"[{escaped}]") == f"[{redact.REDACTED}]"
    assert redact.scrub(value.encode().hex()) == redact.REDACTED
