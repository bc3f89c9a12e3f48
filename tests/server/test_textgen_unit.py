"""The deterministic text generator and token counter behind the text endpoints.

Output depends only on (model, prompt, choice index); ``max_tokens`` cuts with
``finish_reason`` "length"; a stop sequence ends the text where it begins, with
"stop" (OpenAI: "the returned text will not contain the stop sequence").
"""

from __future__ import annotations

import itertools
import re

import pytest

from qbtsuite.server.textgen import TextGenerator, count_tokens

MODEL = "gpt-oss-20b"
GEN = TextGenerator()


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("", 0),
        ("   \n", 0),
        ("hello", 1),
        ("Hello, world.", 4),
        ("don't", 3),
        ("a  b\tc", 3),
        ("2+2=4", 5),
    ],
)
def test_a_word_or_a_punctuation_mark_is_one_token(text: str, tokens: int) -> None:
    assert count_tokens(text) == tokens


def test_the_same_inputs_give_the_same_pieces() -> None:
    assert GEN.generate(MODEL, "p", 0, None) == GEN.generate(MODEL, "p", 0, None)


@pytest.mark.parametrize(
    "other", [("gpt-oss-120b", "p", 0), (MODEL, "q", 0), (MODEL, "p", 1)]
)
def test_model_prompt_and_choice_index_each_change_the_output(
    other: tuple[str, str, int],
) -> None:
    assert GEN.generate(*other, None).text != GEN.generate(MODEL, "p", 0, None).text


@pytest.mark.parametrize("prompt", [f"prompt {i}" for i in range(40)])
def test_a_natural_reply_is_6_to_29_tokens_ending_in_a_period(prompt: str) -> None:
    reply = GEN.generate(MODEL, prompt, 0, None)
    assert 6 <= len(reply.pieces) <= 29
    assert reply.text.endswith(".")
    assert reply.finish_reason == "stop"
    assert reply.text == "".join(reply.pieces)
    assert count_tokens(reply.text) == len(reply.pieces)


def test_max_tokens_below_the_natural_length_cuts_with_length() -> None:
    full = GEN.generate(MODEL, "cut", 0, None)
    for limit in range(len(full.pieces)):
        reply = GEN.generate(MODEL, "cut", 0, limit)
        assert reply.pieces == full.pieces[:limit]
        assert reply.finish_reason == "length"


def test_max_tokens_at_or_above_the_natural_length_ends_with_stop() -> None:
    full = GEN.generate(MODEL, "cut", 0, None)
    for limit in (len(full.pieces), len(full.pieces) + 1, 1000):
        assert GEN.generate(MODEL, "cut", 0, limit) == full


@pytest.mark.parametrize("prompt", ["stop a", "stop b", "stop c"])
def test_every_stop_substring_cuts_the_text_where_it_first_begins(prompt: str) -> None:
    full = GEN.generate(MODEL, prompt, 0, None).text
    for start in range(len(full)):
        for length in (1, 2, 3, 5, 8):
            stop = full[start : start + length]
            reply = GEN.generate(MODEL, prompt, 0, None, [stop])
            expected = full[: full.find(stop)]
            assert reply.text == expected, (
                f"Received: {reply.text!r} for stop {stop!r} / Expected: {expected!r}"
            )
            assert stop not in reply.text
            assert reply.finish_reason == "stop"
            assert all(reply.pieces), "Expected no empty pieces"


def test_a_stop_beyond_max_tokens_does_not_apply() -> None:
    full = GEN.generate(MODEL, "late stop", 0, None)
    stop = full.pieces[-2]
    reply = GEN.generate(MODEL, "late stop", 0, 2, [stop])
    assert reply.pieces == full.pieces[:2]
    assert reply.finish_reason == "length"


def test_an_empty_stop_string_is_ignored() -> None:
    full = GEN.generate(MODEL, "empty stop", 0, None)
    assert GEN.generate(MODEL, "empty stop", 0, None, [""]) == full


def test_the_earliest_of_several_stops_wins() -> None:
    full = GEN.generate(MODEL, "two stops", 0, None)
    early, late = full.pieces[1], full.pieces[-1]
    reply = GEN.generate(MODEL, "two stops", 0, None, [late, early])
    assert reply.text == full.text[: full.text.find(early)]


def test_ascii_text_is_counted_exactly_as_the_unicode_rule_counts_it() -> None:
    # count_tokens takes an ASCII-only fast path; it must agree on every character,
    # including the separators \x1c-\x1f that only Unicode \s treats as spaces.
    unicode_rule = re.compile(r"\w+|[^\w\s]")
    chars = [chr(i) for i in range(128)]
    for a, b in itertools.product(chars, repeat=2):
        text = f"{a}{b}x{a} {b}"
        assert count_tokens(text) == len(unicode_rule.findall(text)), repr(text)
