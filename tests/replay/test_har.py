"""``transcripts.har`` is a HAR 1.2 document (the structure of the HAR 1.2 spec:
log.version, log.creator, log.entries with request, response, cache, timings)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from qbtsuite.reporting.har import render_har
from qbtsuite.target.wirelog import read_exchanges
from tests.replay.test_wirelog import KEY, _record

_PAIR = {
    "type": "object",
    "required": ["name", "value"],
    "properties": {"name": {"type": "string"}, "value": {"type": "string"}},
}
# HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/): the required members.
HAR_12 = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["log"],
    "properties": {
        "log": {
            "type": "object",
            "required": ["version", "creator", "entries"],
            "properties": {
                "version": {"const": "1.2"},
                "creator": {
                    "type": "object",
                    "required": ["name", "version"],
                    "properties": {
                        "name": {"type": "string"},
                        "version": {"type": "string"},
                    },
                },
                "entries": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": [
                            "startedDateTime",
                            "time",
                            "request",
                            "response",
                            "cache",
                            "timings",
                        ],
                        "properties": {
                            "startedDateTime": {
                                "type": "string",
                                "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$",
                            },
                            "time": {"type": "number", "minimum": 0},
                            "request": {
                                "type": "object",
                                "required": [
                                    "method",
                                    "url",
                                    "httpVersion",
                                    "cookies",
                                    "headers",
                                    "queryString",
                                    "headersSize",
                                    "bodySize",
                                ],
                                "properties": {
                                    "headers": {"type": "array", "items": _PAIR},
                                    "queryString": {"type": "array", "items": _PAIR},
                                    "postData": {
                                        "type": "object",
                                        "required": ["mimeType"],
                                    },
                                    "headersSize": {"type": "integer"},
                                    "bodySize": {"type": "integer"},
                                },
                            },
                            "response": {
                                "type": "object",
                                "required": [
                                    "status",
                                    "statusText",
                                    "httpVersion",
                                    "cookies",
                                    "headers",
                                    "content",
                                    "redirectURL",
                                    "headersSize",
                                    "bodySize",
                                ],
                                "properties": {
                                    "status": {"type": "integer"},
                                    "headers": {"type": "array", "items": _PAIR},
                                    "content": {
                                        "type": "object",
                                        "required": ["size", "mimeType"],
                                        "properties": {"encoding": {"const": "base64"}},
                                    },
                                },
                            },
                            "cache": {"type": "object"},
                            "timings": {
                                "type": "object",
                                "required": ["send", "wait", "receive"],
                                "properties": {
                                    "send": {"type": "number", "minimum": -1},
                                    "wait": {"type": "number", "minimum": -1},
                                    "receive": {"type": "number", "minimum": -1},
                                },
                            },
                        },
                    },
                },
            },
        }
    },
}


def test_the_har_export_is_a_valid_har_1_2_document_without_the_key(
    tmp_path: Path,
) -> None:
    exchanges = read_exchanges(_record(tmp_path))
    text = render_har(exchanges)
    document = json.loads(text)
    jsonschema.validate(document, HAR_12)
    entries = document["log"]["entries"]
    assert len(entries) == 3
    assert entries[0]["request"]["method"] == "POST"
    assert entries[0]["response"]["status"] == 401
    assert [e["_test"] for e in entries] == ["test_a.py::test_one"] * 3
    assert "_chunks" in entries[1]["response"]
    assert KEY not in text


def test_an_invalid_document_fails_the_har_structure() -> None:
    broken = {
        "log": {
            "version": "1.1",
            "creator": {"name": "x", "version": "1"},
            "entries": [],
        }
    }
    errors = list(jsonschema.Draft202012Validator(HAR_12).iter_errors(broken))
    assert errors


def test_a_body_past_64_kib_is_shortened_in_the_har_and_says_so() -> None:
    from qbtsuite.reporting.har import HAR_BODY_UP_TO, render_har
    from qbtsuite.target.wirelog import (
        WireChunk,
        WireExchange,
        WireRequest,
        WireResponse,
    )

    body = ("é" * 50_000).encode()  # a cut inside a two-byte character
    request = WireRequest(
        "GET", "https://gw.test/v1/models", (), "none", b"", 0, True, "m"
    )
    response = WireResponse(
        200, "HTTP/1.1", "OK", (("content-type", "application/json"),),
        (WireChunk(0.1, body),), False,
    )  # fmt: skip
    har = json.loads(
        render_har([WireExchange("t", 1, "local", 0.0, request, response)])
    )
    content = har["log"]["entries"][0]["response"]["content"]
    assert content["size"] == len(body) == 100_000
    assert len(content["text"].encode()) <= HAR_BODY_UP_TO
    assert content["text"] == "é" * (HAR_BODY_UP_TO // 2)
    assert "shortened" in content["comment"] and "encoding" not in content
