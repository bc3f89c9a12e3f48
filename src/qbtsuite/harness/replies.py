"""Reading successful replies in conformance tests: the body, its first choice, a stop word."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from qbtsuite.checks import choices_of, content_type_is_json, status_is
from qbtsuite.errors import CheckFailure
from qbtsuite.target.exchange import Exchange

__all__ = ["first_choice", "json_reply", "stop_word"]


def json_reply(exchange: Exchange) -> Any:
    """The decoded body, after checking the answer is 200 with a JSON content type.

    The shape of the body is the business of the shape requirement of each endpoint.
    """
    status_is(exchange, 200)
    content_type_is_json(exchange)
    return exchange.json()


def first_choice(body: Any) -> Mapping[str, Any]:
    """The first choice of a reply; a reply without choices fails the test."""
    choices = choices_of(body)
    if not choices:
        raise CheckFailure(
            title="Reply without choices",
            received=json.dumps(body)[:200],
            expected="at least one choice",
        )
    first: Mapping[str, Any] = choices[0]
    return first


def stop_word(text: str) -> str | None:
    """A word of ``text`` to use as a stop sequence: from its middle, ≥ 3 letters."""
    words = re.findall(r"[^\W\d_]{3,}", text)
    return words[len(words) // 2] if words else None
