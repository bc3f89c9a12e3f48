"""The Authorization parser accepts exactly RFC 6750's ``Bearer`` 1*SP token form.

The server parses the header with string methods; this compares it with the grammar
written as a regular expression (scheme case-insensitive, token ``[A-Za-z0-9_-]+``).
"""

from __future__ import annotations

import itertools
import re

import pytest

from qbtsuite.server.gate import _bearer_token

GRAMMAR = re.compile(r"(?i:Bearer) +([A-Za-z0-9_\-]+)")
PIECES = ["a", "Z", "0", "_", "-", " ", "\t", "=", "é", "²", "K"]


def expected(value: str) -> str | None:
    match = GRAMMAR.fullmatch(value)
    return match.group(1) if match else None


@pytest.mark.parametrize(
    "value",
    [
        "Bearer qbt_x",
        "bearer qbt_x",
        "BEARER   qbt_x-y",
        "Bearer",
        "Bearer ",
        "Bearerqbt_x",
        "Basic qbt_x",
        " Bearer qbt_x",
        "Bearer\tqbt_x",
        "Bearer qbt_x ",
        "Bearer qbt_x=",
    ],
)
def test_the_bearer_parser_follows_the_grammar(value: str) -> None:
    assert _bearer_token(value) == expected(value), repr(value)


def test_every_short_token_is_judged_as_the_grammar_judges_it() -> None:
    for chars in itertools.product(PIECES, repeat=3):
        value = "Bearer " + "".join(chars)
        assert _bearer_token(value) == expected(value), repr(value)
