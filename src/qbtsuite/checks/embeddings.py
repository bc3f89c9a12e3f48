"""Embeddings: one vector per input, in order, of the right width, in the right encoding.

With ``encoding_format: "base64"`` each ``embedding`` is a base64 string of
little-endian float32 values (protocol-facts §1.5; the OpenAI schema only says
``number[]``), so :func:`vector_of` decodes either form.
"""

from __future__ import annotations

import base64
import binascii
import math
import struct
from collections.abc import Mapping, Sequence
from typing import Any

from qbtsuite.checks._format import describe_value, failure
from qbtsuite.checks._registry import check

__all__ = [
    "DEFAULT_B64_TOLERANCE",
    "base64_embeddings_match_floats",
    "batch_embeddings_match_singles",
    "batch_prompt_tokens_add_up",
    "embedding_dimension_is",
    "embedding_usage_is_input_only",
    "embeddings_encoded_as",
    "embeddings_one_per_input_in_order",
    "embeddings_share_dimension",
    "items_of",
    "vector_of",
]

# Allowed difference, relative to the vector's largest component (at least 1).
# The two vectors come from two requests: a backend that is not bit-for-bit
# deterministic differs by ~1e-6..1e-4, while every real encoding bug (float64
# instead of float32, big-endian, another input's vector) is off by far more.
DEFAULT_B64_TOLERANCE = 1e-3


def items_of(body: Any) -> list[Mapping[str, Any]]:
    """The ``data`` items of an embedding list (non-objects dropped)."""
    data = body.get("data") if isinstance(body, Mapping) else None
    if not isinstance(data, list):
        return []
    return [item for item in data if isinstance(item, Mapping)]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def vector_of(item: Mapping[str, Any]) -> list[float]:
    """The vector of one item, from a number array or a base64 float32 string.

    Raises ``ValueError`` when the embedding is neither.
    """
    value = item.get("embedding")
    if isinstance(value, list) and all(_is_number(v) for v in value):
        return [float(v) for v in value]
    if isinstance(value, str):
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError(f"not base64: {exc}") from None
        if len(raw) % 4:
            raise ValueError(f"{len(raw)} bytes is not a whole number of float32")
        return list(struct.unpack(f"<{len(raw) // 4}f", raw))
    raise ValueError(f"embedding is {describe_value(value, 60)}")


def _vectors(body: Any, title: str) -> list[list[float]]:
    vectors = []
    for position, item in enumerate(items_of(body)):
        try:
            vectors.append(vector_of(item))
        except ValueError as exc:
            raise failure(
                title, f"$.data[{position}].embedding: {exc}", "a vector"
            ) from None
    return vectors


@check
def embeddings_one_per_input_in_order(body: Any, inputs: int) -> None:
    """``inputs`` items, item i with ``index`` i and object "embedding" (EMB-002)."""
    items = items_of(body)
    indexes = [item.get("index") for item in items]
    objects = {item.get("object") for item in items}
    if (
        len(items) != inputs
        or indexes != list(range(inputs))
        or objects - {"embedding"}
    ):
        raise failure(
            "Embeddings do not match the inputs",
            f"{len(items)} items with index {describe_value(indexes)}, "
            f"object {describe_value(sorted(map(str, objects)))}",
            f"{inputs} items of object 'embedding' with index "
            f"{list(range(inputs))} in that order",
        )


@check
def embedding_dimension_is(body: Any, dimension: int) -> None:
    """Every vector has exactly ``dimension`` components (EMB-003, EMB-012)."""
    vectors = _vectors(body, "Embedding of the wrong dimension")
    lengths = [len(v) for v in vectors]
    if not vectors or any(n != dimension for n in lengths):
        raise failure(
            "Embedding of the wrong dimension",
            f"vector lengths {describe_value(lengths)}",
            f"every vector of length {dimension}",
        )


@check
def embeddings_share_dimension(bodies: Sequence[Any]) -> None:
    """All vectors of one model have one length > 0, within and across responses (EMB-004)."""
    lengths = [[len(v) for v in _vectors(b, "Embedding widths differ")] for b in bodies]
    flat = {n for group in lengths for n in group}
    if len(flat) != 1 or 0 in flat:
        raise failure(
            "Embedding widths differ",
            f"vector lengths per response {describe_value(lengths)}",
            "one vector length > 0 for the model",
        )


@check
def embeddings_encoded_as(body: Any, encoding_format: str) -> None:
    """Arrays of numbers for "float", base64 strings for "base64" (EMB-011/013)."""
    want_str = encoding_format == "base64"
    wrong = [
        position
        for position, item in enumerate(items_of(body))
        if isinstance(item.get("embedding"), str) != want_str
    ]
    if wrong or not items_of(body):
        shape = "a base64 string" if want_str else "an array of numbers"
        first = items_of(body)[wrong[0]].get("embedding") if wrong else None
        raise failure(
            f"Embeddings not encoded as {encoding_format}",
            f"$.data[{wrong[0] if wrong else 0}].embedding is "
            f"{describe_value(first, 80)}",
            f"each embedding as {shape}",
        )


def _compare(
    title: str,
    reference: tuple[str, list[list[float]]],
    other: tuple[str, list[list[float]]],
    tolerance: float,
) -> None:
    """Fail unless ``other`` holds the same vectors as ``reference``, in order."""
    (ref_name, refs), (name, vectors) = reference, other
    if len(refs) != len(vectors) or not refs:
        raise failure(
            title,
            f"{len(vectors)} {name} vs {len(refs)} {ref_name} vectors",
            "the same",
        )
    for position, (a, b) in enumerate(zip(refs, vectors, strict=True)):
        if len(a) != len(b):
            raise failure(
                title,
                f"$.data[{position}]: {len(b)} {name} vs {len(a)} {ref_name} components",
                "vectors of the same length",
            )
        scale = max(1.0, max((abs(x) for x in a), default=0.0))
        worst = max(range(len(a)), key=lambda i: _gap(a[i], b[i]), default=0)
        if a and _gap(a[worst], b[worst]) > tolerance * scale:
            raise failure(
                title,
                f"$.data[{position}].embedding[{worst}]: {name} gives {b[worst]!r}, "
                f"{ref_name} gives {a[worst]!r}",
                f"equal within {tolerance * scale:g}",
            )


@check
def base64_embeddings_match_floats(
    float_body: Any, b64_body: Any, tolerance: float = DEFAULT_B64_TOLERANCE
) -> None:
    """The base64 vectors decode to the float vectors of the same inputs (EMB-011).

    Components may differ by ``tolerance`` × max(1, largest |component|); see
    :data:`DEFAULT_B64_TOLERANCE` for why this cannot fail a correct target.
    """
    title = "Base64 embeddings differ from the float ones"
    floats = ("float", _vectors(float_body, title))
    _compare(title, floats, ("base64", _vectors(b64_body, title)), tolerance)


@check
def batch_embeddings_match_singles(
    batch_body: Any,
    single_bodies: Sequence[Any],
    tolerance: float = DEFAULT_B64_TOLERANCE,
) -> None:
    """Item i of a batch is the vector of input i sent alone (EMB-002).

    Catches a batch returned in another order even when its ``index`` fields were
    renumbered to look right. Same tolerance as :func:`base64_embeddings_match_floats`.
    """
    title = "Batch embeddings are not those of their inputs"
    singles = [v for body in single_bodies for v in _vectors(body, title)[:1]]
    if len(singles) != len(single_bodies):
        raise failure(title, f"{len(singles)} single-input vectors", "one per input")
    _compare(
        title, ("alone", singles), ("batch", _vectors(batch_body, title)), tolerance
    )


def _gap(a: float, b: float) -> float:
    return math.inf if math.isnan(a) or math.isnan(b) else abs(a - b)


@check
def embedding_usage_is_input_only(body: Any) -> None:
    """prompt_tokens ≥ 1 equals total_tokens; completion_tokens absent or 0 (METER-006)."""
    usage = body.get("usage") if isinstance(body, Mapping) else None
    usage = usage if isinstance(usage, Mapping) else {}
    prompt, total = usage.get("prompt_tokens"), usage.get("total_tokens")
    completion = usage.get("completion_tokens", 0)
    ok = (
        isinstance(prompt, int)
        and not isinstance(prompt, bool)
        and prompt >= 1
        and total == prompt
        and completion in (0, None)
    )
    if not ok:
        raise failure(
            "Embedding usage bills more than the input",
            f"usage {describe_value(body.get('usage') if isinstance(body, Mapping) else None)}",
            "prompt_tokens ≥ 1, total_tokens = prompt_tokens, no completion tokens",
        )


@check
def batch_prompt_tokens_add_up(batch_body: Any, single_bodies: Sequence[Any]) -> None:
    """A batch's prompt_tokens is the sum over its inputs sent one by one (METER-007)."""

    def prompt_tokens(body: Any) -> Any:
        usage = body.get("usage") if isinstance(body, Mapping) else None
        return usage.get("prompt_tokens") if isinstance(usage, Mapping) else None

    singles = [prompt_tokens(b) for b in single_bodies]
    batch = prompt_tokens(batch_body)
    numbers = all(isinstance(n, int) for n in [*singles, batch])
    if not numbers or batch != sum(singles):
        raise failure(
            "Batch usage differs from its parts",
            f"batch prompt_tokens {describe_value(batch)}, "
            f"one by one {describe_value(singles)}",
            f"batch prompt_tokens = {' + '.join(map(str, singles))}",
        )
