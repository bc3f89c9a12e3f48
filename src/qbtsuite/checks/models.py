"""The model listing: OpenAI's shape, and every documented model in it exactly once.

``GET /v1/models`` answers ``{"object": "list", "data": [Model]}`` where a Model is
``{id, object: "model", created: unix seconds, owned_by}`` (protocol-facts §1.2).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from qbtsuite.checks._format import describe_value, failure
from qbtsuite.checks._registry import check

__all__ = [
    "model_ids",
    "model_list_contains",
    "model_list_has_ids",
    "model_list_shape",
    "model_object_is",
]


def model_ids(body: Any) -> list[str]:
    """The string ids of the listing, in order (duplicates kept)."""
    data = body.get("data") if isinstance(body, Mapping) else None
    if not isinstance(data, list):
        return []
    return [
        m["id"] for m in data if isinstance(m, Mapping) and isinstance(m.get("id"), str)
    ]


def _model_problems(model: Any) -> list[str]:
    if not isinstance(model, Mapping):
        return [f"is {describe_value(model, 60)}, not an object"]
    problems = []
    if not isinstance(model.get("id"), str) or not model["id"]:
        problems.append(f"id {describe_value(model.get('id'), 40)}")
    if model.get("object") != "model":
        problems.append(f"object {describe_value(model.get('object'), 40)}")
    created = model.get("created")
    if not isinstance(created, int) or isinstance(created, bool) or created < 0:
        problems.append(f"created {describe_value(created, 40)}")
    if not isinstance(model.get("owned_by"), str):
        problems.append(f"owned_by {describe_value(model.get('owned_by'), 40)}")
    return problems


@check
def model_list_has_ids(body: Any) -> None:
    """A JSON object whose ``data`` is an array of models with string ids (MODEL-001).

    Only what the docs' own example reads (``json.data.map(m => m.id)``); OpenAI's
    full shape is :func:`model_list_shape`.
    """
    expected = '{"data": [{"id": <non-empty string>, …}, …]}'
    if not isinstance(body, Mapping) or not isinstance(body.get("data"), list):
        raise failure("Model list unreadable", describe_value(body), expected)
    bad = [
        f"$.data[{position}] {describe_value(model, 60)}"
        for position, model in enumerate(body["data"])
        if not isinstance(model, Mapping)
        or not isinstance(model.get("id"), str)
        or not model["id"]
    ]
    if bad:
        more = f"; and {len(bad) - 3} more" if len(bad) > 3 else ""
        raise failure(
            "Model list entries without an id", "; ".join(bad[:3]) + more, expected
        )


@check
def model_list_shape(body: Any) -> None:
    """object "list"; data of models with id, object "model", created, owned_by (MODEL-001/002)."""
    expected = (
        '{"object": "list", "data": [{"id": str, "object": "model", '
        '"created": int, "owned_by": str}, …]}'
    )
    if not isinstance(body, Mapping) or not isinstance(body.get("data"), list):
        raise failure("Model list misshapen", describe_value(body), expected)
    problems = []
    if body.get("object") != "list":
        problems.append(f"$.object is {describe_value(body.get('object'), 40)}")
    for position, model in enumerate(body["data"]):
        problems += [f"$.data[{position}] {p}" for p in _model_problems(model)]
    if problems:
        shown = "; ".join(problems[:5])
        if len(problems) > 5:
            shown += f"; and {len(problems) - 5} more"
        raise failure("Model list misshapen", shown, expected)


@check
def model_list_contains(body: Any, ids: Iterable[str]) -> None:
    """Every id in ``ids`` is listed, each exactly once (MODEL-003)."""
    counts = Counter(model_ids(body))
    wanted = list(ids)
    missing = [i for i in wanted if counts[i] == 0]
    repeated = sorted(i for i, n in counts.items() if n > 1)
    if missing or repeated:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing)}")
        if repeated:
            parts.append(f"listed more than once {', '.join(repeated)}")
        raise failure(
            "Model list incomplete",
            f"{'; '.join(parts)} (listed {len(counts)} distinct ids)",
            f"each of {', '.join(wanted)} exactly once",
        )


@check
def model_object_is(body: Any, model_id: str) -> None:
    """``GET /v1/models/{id}`` answers that model's object (MODEL-009)."""
    problems = _model_problems(body)
    if not problems and body["id"] != model_id:
        problems.append(f"id {describe_value(body['id'], 60)}")
    if problems:
        raise failure(
            "Model object misshapen",
            f"{describe_value(body)} ({'; '.join(problems)})",
            f'{{"id": "{model_id}", "object": "model", "created": int, "owned_by": str}}',
        )
