"""Conformance: invalid bodies of the JSON endpoints, generated from the request schemas.

:func:`qbtsuite.payloads.negative.negative_cases` turns a small valid body of each JSON endpoint
(completions, chat, embeddings, images) into the requests a target must refuse: each
required member removed, each member given a wrong JSON type, each bound crossed,
each enum given a non-member; malformed JSON, an empty body, a JSON array, a
text/plain or missing Content-Type; an unknown model and a model of another
category. Every case is one test, answered with 400, the documented code and the
error envelope (spec/getting-started.txt: "400 invalid_request Body failed
validation", "400 model_not_found Model unknown or doesn't support this endpoint").
Whether the error's ``param`` or message names the field is reported as a note: no
requirement asks for it.

Which requirement a case checks (the catalogue's statements, literally):

- missing model/prompt/messages/input, an empty ``messages``, an empty model id →
  COMP-005, CHAT-005, EMB-006, IMG-008 (an empty model id may also be answered
  ``model_not_found``: the docs' "Model unknown" fits it as well);
- the wrong types the statements list (completions: model, prompt, stream,
  max_tokens; chat: the messages; embeddings: model, input; images: model, prompt,
  n, size; chat's model) → COMP-006, CHAT-006, EMB-007, IMG-009, CHAT-005;
- every other invalid value, including wrong types of fields the docs call
  "passthrough" (an upstream may coerce ``"0.5"``) → the SHOULD requirements
  COMP-013, CHAT-013, IMG-010, and for embeddings EMB-008 (empty input), EMB-012
  (dimensions), EMB-014 (encoding_format);
- malformed JSON, an empty body, a JSON array → ERR-007; text/plain or no
  Content-Type → ERR-008 (SHOULD); unknown model → COMP-007, CHAT-007, EMB-009,
  IMG-011; a model of another category → COMP-008, CHAT-008, EMB-010, IMG-012.

Left out, because no requirement covers them and a target that wrongly accepted
them would be billed for real work: embeddings ``input`` with 2049 items, ``user``
of the wrong type and ``dimensions`` as a string (a target may honour ``"8"``);
images ``n`` 11 (our docs set no maximum; eleven images if accepted). At most
:data:`CAP` cases per endpoint: every MUST case, then SHOULD cases in generation
order. Base bodies ask for ``max_tokens`` 1 and one 256x256 image, so a wrongly
accepted case costs little. Case ids are fixed at collection time from documented
models; the request itself is rebuilt with the target's configured models.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

import pytest

from qbtsuite.checks import error_code_is
from qbtsuite.harness.recording import RequirementRecorder
from qbtsuite.harness.selection import endpoint_marks
from qbtsuite.modelcatalog import models_for
from qbtsuite.payloads.negative import NegativeCase, negative_cases
from qbtsuite.requirements import load_catalogue
from qbtsuite.target.client import SuiteClient
from qbtsuite.target.config import TargetConfig
from qbtsuite.target.discovery import ENDPOINT_CATEGORY
from qbtsuite.target.exchange import Exchange

CAP = 40
UNKNOWN_MODEL = "qbtsuite-no-such-model"
PATHS = {
    "completions": "completions",
    "chat": "chat/completions",
    "embeddings": "embeddings",
    "images": "images/generations",
}
# The endpoint whose configured model is "a model of another category".
OTHER_CATEGORY = {
    "completions": "embeddings",
    "chat": "embeddings",
    "embeddings": "chat",
    "images": "embeddings",
}
INVALID_REQUEST = ("invalid_request",)
EITHER_400 = ("invalid_request", "model_not_found")

TRANSPORT = {
    "malformed_json": "ERR-007",
    "empty": "ERR-007",
    "json_array": "ERR-007",
    "text_plain": "ERR-008",
    "missing": "ERR-008",  # content_type.missing
}
UNKNOWN = {
    "completions": "COMP-007",
    "chat": "CHAT-007",
    "embeddings": "EMB-009",
    "images": "IMG-011",
}
WRONG_CATEGORY = {
    "completions": "COMP-008",
    "chat": "CHAT-008",
    "embeddings": "EMB-010",
    "images": "IMG-012",
}
# (field, kind) → requirement; kind "*" matches any kind; None leaves the case out.
RULES: dict[str, dict[tuple[str, str], str | None]] = {
    "completions": {
        ("model", "missing"): "COMP-005",
        ("prompt", "missing"): "COMP-005",
        ("model", "too_short"): "COMP-005",
        ("model", "wrong_type"): "COMP-006",
        ("prompt", "wrong_type"): "COMP-006",
        ("stream", "wrong_type"): "COMP-006",
        ("max_tokens", "wrong_type"): "COMP-006",
        ("*", "*"): "COMP-013",
    },
    "chat": {
        ("model", "missing"): "CHAT-005",
        ("model", "too_short"): "CHAT-005",
        ("model", "wrong_type"): "CHAT-005",
        ("messages", "missing"): "CHAT-005",
        ("messages", "too_few_items"): "CHAT-005",
        ("messages", "wrong_type"): "CHAT-006",
        ("messages[0].role", "*"): "CHAT-006",
        ("messages[0].content", "missing"): "CHAT-006",
        ("messages[0].content", "wrong_type"): "CHAT-006",
        ("*", "*"): "CHAT-013",
    },
    "embeddings": {
        ("model", "missing"): "EMB-006",
        ("input", "missing"): "EMB-006",
        ("model", "too_short"): "EMB-006",
        ("model", "wrong_type"): "EMB-007",
        ("input", "wrong_type"): "EMB-007",
        ("input", "too_short"): "EMB-008",
        ("input", "too_few_items"): "EMB-008",
        ("input", "too_many_items"): None,
        ("encoding_format", "*"): "EMB-014",
        ("dimensions", "below_minimum"): "EMB-012",
        ("*", "*"): None,
    },
    "images": {
        ("model", "missing"): "IMG-008",
        ("prompt", "missing"): "IMG-008",
        ("model", "too_short"): "IMG-008",
        ("model", "wrong_type"): "IMG-009",
        ("prompt", "wrong_type"): "IMG-009",
        ("n", "wrong_type"): "IMG-009",
        ("size", "wrong_type"): "IMG-009",
        ("n", "above_maximum"): None,
        ("*", "*"): "IMG-010",
    },
}


def base_body(endpoint: str, model: str) -> dict[str, Any]:
    """A small valid body of ``endpoint``: cheap if a broken target accepts a case."""
    if endpoint == "completions":
        return {"model": model, "prompt": "Hi", "max_tokens": 1}
    if endpoint == "chat":
        messages = [{"role": "user", "content": "Hi"}]
        return {"model": model, "messages": messages, "max_tokens": 1}
    if endpoint == "embeddings":
        return {"model": model, "input": "Hi"}
    return {"model": model, "prompt": "a red dot", "n": 1, "size": "256x256"}


@functools.cache
def _cases(endpoint: str, model: str, other: str | None) -> dict[str, NegativeCase]:
    cases = negative_cases(
        endpoint,
        base_body(endpoint, model),
        unknown_model=UNKNOWN_MODEL,
        other_category_model=other,
        cap=1000,
    )
    return {case.id: case for case in cases}


@dataclass(frozen=True, slots=True)
class Plan:
    """One generated case as a test: what it checks and which codes are right."""

    endpoint: str
    case_id: str
    requirement: str
    codes: tuple[str, ...]


def plan(case: NegativeCase) -> Plan | None:
    """The requirement ``case`` checks and its accepted codes; None to leave it out."""
    endpoint = case.endpoint
    if case.field is None:  # transport cases
        requirement: str | None = TRANSPORT[case.kind]
    elif case.kind == "unknown" and case.expected_code == "model_not_found":
        requirement = UNKNOWN[endpoint]
    elif case.kind == "wrong_category":
        requirement = WRONG_CATEGORY[endpoint]
    else:
        rules = RULES[endpoint]
        for key in ((case.field, case.kind), (case.field, "*"), ("*", "*")):
            if key in rules:
                requirement = rules[key]
                break
    if requirement is None:
        return None
    empty_model = case.field == "model" and case.kind == "too_short"
    codes = EITHER_400 if empty_model else (case.expected_code,)
    return Plan(endpoint, case.id, requirement, codes)


def _documented(endpoint: str) -> str:
    return models_for(ENDPOINT_CATEGORY[endpoint])[0].id


def plans(endpoint: str) -> list[Plan]:
    """The cases of ``endpoint``, at most :data:`CAP`: MUST cases first to be kept."""
    generated = _cases(
        endpoint, _documented(endpoint), _documented(OTHER_CATEGORY[endpoint])
    )
    planned = [p for case in generated.values() if (p := plan(case)) is not None]
    catalogue = load_catalogue()
    must = [p for p in planned if catalogue[p.requirement].is_must]
    room = max(CAP - len(must), 0)
    should = [p for p in planned if p not in must][:room]
    return [p for p in planned if p in must or p in should]


def _params() -> list[Any]:
    return [
        pytest.param(
            p,
            id=p.case_id,
            marks=[
                pytest.mark.requirement(p.requirement),
                pytest.mark.spend(requests=1),
                *endpoint_marks(p.endpoint),
            ],
        )
        for endpoint in PATHS
        for p in plans(endpoint)
    ]


def _field_note(exchange: Exchange, case: NegativeCase) -> str | None:
    """Whether the error's param or message names the invalid field (OpenAI does)."""
    if case.field is None:
        return None
    try:
        error = json.loads(exchange.content)["error"]
    except (ValueError, KeyError, TypeError):
        return None
    leaf = case.field.rsplit(".", 1)[-1].split("[")[0]
    if error.get("param") == case.field:
        return f"error.param names the field {case.field!r}"
    if leaf in str(error.get("message", "")):
        return f"the message names the field {leaf!r} (param {error.get('param')!r})"
    return f"neither param ({error.get('param')!r}) nor message names {case.field!r}"


@pytest.mark.parametrize("planned", _params())
def test_an_invalid_body_is_rejected_with_400_and_the_documented_code(
    api: SuiteClient,
    target_config: TargetConfig,
    record: RequirementRecorder,
    planned: Plan,
) -> None:
    endpoint = planned.endpoint
    model = target_config.model(endpoint)
    if not model:
        pytest.skip(f"no {endpoint} model configured (models.{endpoint})")
    other = target_config.model(OTHER_CATEGORY[endpoint])
    case = _cases(endpoint, model, other).get(planned.case_id)
    if case is None:
        pytest.skip(f"no {OTHER_CATEGORY[endpoint]} model configured to use here")
    record.note(case.description)
    exchange = api.request(
        "POST", PATHS[endpoint], content=case.content(), headers=case.headers()
    )
    error_code_is(exchange, 400, planned.codes)
    note = _field_note(exchange, case)
    if note:
        record.note(note)
