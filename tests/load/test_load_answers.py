"""Reading answers in the Locust users (``load/qbtlocust/answers.py``).

geventhttpclient imports gevent, which must never reach this pytest process, so the
checks on its real header objects run in a child interpreter.
"""

from __future__ import annotations

import json
import subprocess
import sys

from qbtsuite.resources import data_dir

_PROBE = r"""
import itertools, json, sys
sys.path.insert(0, sys.argv[1])
from geventhttpclient.header import Headers
from qbtlocust.answers import LIMIT_HEADERS, limit_headers

class Answer:
    def __init__(self, headers):
        self.headers = headers

def answer(pairs):
    headers = Headers()
    for name, value in [("Content-Type", "application/json"), ("Server", "x"), *pairs]:
        headers.add(name, value)
    return Answer(headers)

wrong = []
# Every subset of the limit headers, each value empty or not, names in mixed case.
for mask in range(1 << len(LIMIT_HEADERS)):
    for filled in (0, mask & 0x55, mask):
        pairs, expected = [], {}
        for i, name in enumerate(LIMIT_HEADERS):
            if mask >> i & 1:
                value = str(i) if filled >> i & 1 else ""
                pairs.append((name.title() if i % 2 else name.upper(), value))
                expected[name] = value
        want = expected if any(expected.values()) else None
        got = limit_headers(answer(pairs))
        if got != want or (got is not None and list(got) != list(want)):
            wrong.append([pairs, got, want])
repeated = limit_headers(answer([("x-ratelimit-limit-requests", "10"),
                                 ("X-RateLimit-Limit-Requests", "20")]))
print(json.dumps({
    "wrong": wrong[:3],
    "count": len(wrong),
    "repeated": repeated,
    "none": limit_headers(Answer(None)),
    "empty": limit_headers(Answer(Headers())),
}))
"""


def test_rate_limit_headers_are_kept_in_any_case_when_one_has_a_value() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, str(data_dir("load"))],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    found = json.loads(out.stdout)
    assert found["count"] == 0, (
        f"Received: {found['count']} wrong header sets, e.g. {found['wrong']}. "
        "Expected: every present limit header, in LIMIT_HEADERS order, when at "
        "least one has a value; None otherwise"
    )
    assert found["repeated"] == {"x-ratelimit-limit-requests": "10,20"}, (
        f"Received: {found['repeated']}. Expected: repeats joined by commas"
    )
    assert found["none"] is None and found["empty"] is None, (
        f"Received: {found['none']}, {found['empty']}. Expected: None for an answer "
        "without headers"
    )
