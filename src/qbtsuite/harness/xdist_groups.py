"""Make pytest-xdist's ``--dist loadgroup`` group again under pytest 9.

pytest-xdist (3.8) marks a test's group by appending ``@<group>`` to
``item._nodeid`` on the workers; pytest 9 builds node ids from ``item._id`` instead,
so the suffix is lost and grouped tests spread over workers. Tests that spend one
key's rate budget must run on one worker, so this sets the suffix where pytest 9
reads it. It does nothing when xdist already did (pytest 8) or outside loadgroup.
"""

from __future__ import annotations

import pytest

__all__ = ["pytest_collection_modifyitems"]


def _group_names(item: pytest.Item) -> list[str]:
    names = set()
    for mark in item.iter_markers("xdist_group"):
        name = mark.args[0] if mark.args else mark.kwargs.get("name", "default")
        names.add(str(name))
    return sorted(names)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    # xdist turns "--dist loadgroup" into the worker option "loadgroup".
    if not hasattr(config, "workerinput") or not config.getoption("loadgroup", False):
        return
    for item in items:
        groups = _group_names(item)
        if not groups or "@" in item.nodeid:
            continue
        nodeid = f"{item.nodeid}@{'_'.join(groups)}"
        try:
            from _pytest.nodeid import coerce_node_id  # pytest >= 9
        except ImportError:  # pragma: no cover - pytest 8 honours _nodeid
            item._nodeid = nodeid  # type: ignore[attr-defined]
        else:
            item._id = coerce_node_id(nodeid)
