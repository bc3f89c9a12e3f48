"""A pytest plugin for our own tests: dump each conformance test's declarations.

Loaded with ``-p tests.requirement_collector`` in a collect-only child run; writes
``{nodeid: {"requirements": [ids], "capabilities": [names]}}`` as JSON to the file
named by ``QBT_COLLECT_OUT``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest


def pytest_collection_finish(session: pytest.Session) -> None:
    out = os.environ.get("QBT_COLLECT_OUT")
    if not out:
        return
    found = {
        item.nodeid: {
            "requirements": [
                str(a) for m in item.iter_markers("requirement") for a in m.args
            ],
            "capabilities": [
                str(a) for m in item.iter_markers("capability") for a in m.args
            ],
        }
        for item in session.items
    }
    Path(out).write_text(json.dumps(found), encoding="utf-8")
