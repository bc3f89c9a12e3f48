"""Completions and chat: choices, finish reasons, max_tokens and stop, beyond the schema.

The bodies are decoded JSON of ``text_completion`` (``choices[].text``) or
``chat.completion`` (``choices[].message.content``); the helpers read either.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from qbtsuite.checks._format import describe_value, failure
from qbtsuite.checks._registry import check

__all__ = [
    "MAX_WORDS_PER_TOKEN",
    "choice_text",
    "choices_count_is",
    "choices_of",
    "completion_tokens_cover_output",
    "completion_tokens_within_max",
    "finish_reason_is",
    "text_avoids_stop",
    "truncated_after_one_token",
]

# One token never spans more words than this, in any tokenizer the suite knows of
# (BPE pre-tokenizers split on word boundaries; SentencePiece merges are sub-word).
MAX_WORDS_PER_TOKEN = 2


def choices_of(body: Any) -> list[Mapping[str, Any]]:
    """The choice objects of a body (non-objects are dropped; the schema reports them)."""
    choices = body.get("choices") if isinstance(body, Mapping) else None
    if not isinstance(choices, list):
        return []
    return [c for c in choices if isinstance(c, Mapping)]


def choice_text(choice: Mapping[str, Any]) -> str | None:
    """``text`` of a completion choice, ``message.content`` of a chat choice."""
    if isinstance(choice.get("text"), str):
        text: str = choice["text"]
        return text
    message = choice.get("message")
    if isinstance(message, Mapping) and isinstance(message.get("content"), str):
        content: str = message["content"]
        return content
    return None


def _completion_tokens(body: Any) -> Any:
    usage = body.get("usage") if isinstance(body, Mapping) else None
    return usage.get("completion_tokens") if isinstance(usage, Mapping) else None


@check
def choices_count_is(body: Any, n: int) -> None:
    """Exactly ``n`` choices, with the indexes 0..n-1 each once (COMP-004/012, CHAT-012)."""
    choices = choices_of(body)
    indexes = sorted(i for c in choices if isinstance(i := c.get("index"), int))
    if len(choices) != n or indexes != list(range(n)):
        raise failure(
            "Wrong number of choices",
            f"{len(choices)} choices with indexes {indexes}",
            f"{n} choices with indexes {list(range(n))}",
        )


@check
def finish_reason_is(body: Any, reason: str) -> None:
    """Every choice ended for ``reason`` (e.g. ``length`` with max_tokens=1)."""
    choices = choices_of(body)
    got = [c.get("finish_reason") for c in choices]
    if not choices or any(r != reason for r in got):
        raise failure(
            "Unexpected finish_reason",
            f"finish_reason {describe_value(got)}",
            f"finish_reason {reason!r} on every choice",
        )


@check
def completion_tokens_within_max(
    body: Any, max_tokens: int, n: int | None = None
) -> None:
    """``usage.completion_tokens`` ≤ ``max_tokens`` × n (METER-002/004).

    ``n`` defaults to the number of choices in the body: usage counts all choices.
    """
    count = n if n is not None else max(len(choices_of(body)), 1)
    limit = max_tokens * count
    tokens = _completion_tokens(body)
    if not isinstance(tokens, int) or isinstance(tokens, bool) or tokens > limit:
        raise failure(
            "Completion exceeds max_tokens",
            f"usage.completion_tokens {describe_value(tokens)}",
            f"an integer ≤ {limit} (max_tokens {max_tokens} × {count} choice(s))",
        )


@check
def completion_tokens_cover_output(body: Any) -> None:
    """``usage.completion_tokens`` ≥ 1 whenever some choice returned text."""
    texts = [choice_text(c) for c in choices_of(body)]
    tokens = _completion_tokens(body)
    if any(texts) and not (isinstance(tokens, int) and tokens >= 1):
        raise failure(
            "Output not counted",
            f"text {describe_value(next(t for t in texts if t), 80)} with "
            f"usage.completion_tokens {describe_value(tokens)}",
            "completion_tokens ≥ 1 when text was returned",
        )


@check
def truncated_after_one_token(body: Any) -> None:
    """Every choice is cut ("length") after one token, as max_tokens=1 asks (COMP-010).

    "length" alone is not enough: a target that drops max_tokens and stops at its own
    default length also says "length". One token is at most one completion token per
    choice in ``usage`` when reported, and never more than
    :data:`MAX_WORDS_PER_TOKEN` words of text.
    """
    choices = choices_of(body)
    expected = 'finish_reason "length" after one token of output per choice'
    reasons = [c.get("finish_reason") for c in choices]
    if not choices or any(r != "length" for r in reasons):
        texts = [choice_text(c) or "" for c in choices]
        one_token = all(0 < len(t.split()) <= MAX_WORDS_PER_TOKEN for t in texts)
        raise failure(
            # A one-token text that does not say "length" was cut and misreported.
            'max_tokens=1 cut not reported as "length"'
            if choices and one_token
            else "max_tokens=1 not applied",
            f"finish_reason {describe_value(reasons)} with text "
            f"{describe_value([choice_text(c) for c in choices], 120)}",
            expected,
        )
    tokens = _completion_tokens(body)
    if isinstance(tokens, int) and tokens > len(choices):
        raise failure(
            "max_tokens=1 not applied",
            f"finish_reason length but usage.completion_tokens {tokens} "
            f"for {len(choices)} choice(s)",
            expected,
        )
    for choice in choices:
        text = choice_text(choice) or ""
        if len(text.split()) > MAX_WORDS_PER_TOKEN:
            raise failure(
                "max_tokens=1 not applied",
                f"choice {choice.get('index')}: finish_reason length after "
                f"{len(text.split())} words {describe_value(text, 120)}",
                expected,
            )


def _stops(stop: str | Sequence[str]) -> list[str]:
    return [stop] if isinstance(stop, str) else [s for s in stop if s]


@check
def text_avoids_stop(body: Any, stop: str | Sequence[str]) -> None:
    """No returned text contains a stop sequence (COMP-011, CHAT-011)."""
    for choice in choices_of(body):
        text = choice_text(choice) or ""
        for sequence in _stops(stop):
            at = text.find(sequence)
            if at >= 0:
                raise failure(
                    "Text runs past a stop sequence",
                    f"choice {choice.get('index')}: {describe_value(text)} "
                    f"contains {sequence!r} at character {at}",
                    f"no text containing any of {describe_value(_stops(stop))}",
                )
