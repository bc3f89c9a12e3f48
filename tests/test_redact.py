"""Redaction: known secrets and key-shaped text never leave the suite."""

from __future__ import annotations

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
