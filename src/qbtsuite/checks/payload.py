"""Successful JSON bodies: content type, schema conformance, and fields every endpoint shares.

Schema checks name the JSON path of each violation (``$.choices[0].message``), from
:func:`qbtsuite.schemas.validate`. Usage arithmetic is a check rather than a schema
rule: ``total_tokens = prompt_tokens + completion_tokens`` (METER-001/003/006).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from qbtsuite import schemas
from qbtsuite.checks._format import (
    ResponseLike,
    describe_response,
    describe_value,
    failure,
    media_type,
    parse_json,
)
from qbtsuite.checks._registry import check

__all__ = [
    "MAX_VIOLATIONS_SHOWN",
    "conforms_to_schema",
    "content_type_is_json",
    "id_has_prefix",
    "model_is",
    "response_conforms_to_schema",
    "usage_adds_up",
]

MAX_VIOLATIONS_SHOWN = 5


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


@check
def content_type_is_json(response: ResponseLike) -> None:
    """The answer is ``application/json`` (a charset parameter allowed)."""
    if media_type(response) != "application/json":
        raise failure(
            "Response is not JSON",
            describe_response(response),
            "Content-Type application/json",
        )


@check
def conforms_to_schema(instance: Any, schema_name: str, where: str = "") -> None:
    """``instance`` validates against ``schemas/<schema_name>.json``.

    ``where`` prefixes the message (``"chunk #3"``); each violation is named by its
    JSON path. At most :data:`MAX_VIOLATIONS_SHOWN` are listed.
    """
    violations = schemas.validate(schema_name, instance)
    if not violations:
        return
    shown = "; ".join(str(v) for v in violations[:MAX_VIOLATIONS_SHOWN])
    more = len(violations) - MAX_VIOLATIONS_SHOWN
    if more > 0:
        shown += f"; and {more} more"
    prefix = f"{where}: " if where else ""
    raise failure(
        f"Body does not match schema {schema_name}",
        f"{prefix}{shown} in {describe_value(instance, 200)}",
        f"a body valid against schemas/{schema_name}.json",
    )


@check
def response_conforms_to_schema(response: ResponseLike, schema_name: str) -> None:
    """JSON content type, a JSON body, and that body valid against the schema."""
    content_type_is_json(response)
    body = parse_json(response, f"Body does not match schema {schema_name}")
    conforms_to_schema(body, schema_name, where=str(response.status_code))


def _usage_problems(usage: Mapping[str, Any], min_prompt_tokens: int) -> list[str]:
    problems = []
    for name in ("prompt_tokens", "total_tokens"):
        if not _is_count(usage.get(name)):
            problems.append(f"{name} is {describe_value(usage.get(name), 40)}")
    completion = usage.get("completion_tokens", 0)
    if not _is_count(completion):
        problems.append(f"completion_tokens is {describe_value(completion, 40)}")
    if problems:
        return problems
    prompt, total = usage["prompt_tokens"], usage["total_tokens"]
    if prompt < min_prompt_tokens:
        problems.append(f"prompt_tokens {prompt} < {min_prompt_tokens}")
    if total != prompt + completion:
        problems.append(
            f"total_tokens {total} ≠ prompt_tokens {prompt} "
            f"+ completion_tokens {completion}"
        )
    return problems


@check
def usage_adds_up(body: Any, min_prompt_tokens: int = 1) -> None:
    """``usage`` is present with integer counts and total = prompt + completion.

    A missing ``completion_tokens`` counts as 0 (embeddings have none). A prompt is
    never empty, hence ``prompt_tokens >= 1`` by default.
    """
    usage = body.get("usage") if isinstance(body, Mapping) else None
    expected = (
        f"usage with integer prompt_tokens ≥ {min_prompt_tokens}, completion_tokens, "
        "total_tokens = prompt_tokens + completion_tokens"
    )
    if not isinstance(usage, Mapping):
        shown = "no usage" if usage is None else f"usage {describe_value(usage)}"
        raise failure("Usage missing", shown, expected)
    problems = _usage_problems(usage, min_prompt_tokens)
    if problems:
        raise failure(
            "Usage does not add up",
            f"usage {describe_value(usage)} ({'; '.join(problems)})",
            expected,
        )


@check
def model_is(body: Any, model: str) -> None:
    """The response names the requested model id (COMP-002, CHAT-003, EMB-005)."""
    got = body.get("model") if isinstance(body, Mapping) else None
    if got != model:
        raise failure(
            "Response names another model",
            f"model {describe_value(got)}",
            f"model {describe_value(model)} (the requested id)",
        )


@check
def id_has_prefix(body: Any, prefix: str) -> None:
    """The object's ``id`` is a string starting with ``prefix`` (``cmpl-``, ``chatcmpl-``)."""
    got = body.get("id") if isinstance(body, Mapping) else None
    if not isinstance(got, str) or not got.startswith(prefix):
        raise failure(
            "Unexpected id form",
            f"id {describe_value(got)}",
            f"a string id starting with {prefix!r}",
        )
