"""Shared views of ``results.json`` for the report writers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "OUTCOMES",
    "PROBLEMS",
    "area_counts",
    "by_area",
    "problems",
    "target_label",
]

OUTCOMES = ("pass", "fail", "warn", "unsupported", "skipped", "error")
PROBLEMS = ("fail", "warn", "error")  # outcomes a report lists with details


def _area_order() -> list[str]:
    try:
        from qbtsuite.requirements import AREAS
    except ImportError:  # pragma: no cover - the catalogue module ships with us
        return []
    return list(AREAS)


def by_area(results: Mapping[str, Any]) -> dict[str, list[Mapping[str, Any]]]:
    """Requirements grouped by area, areas in catalogue order, ids in order."""
    grouped: dict[str, list[Mapping[str, Any]]] = {}
    for req in results.get("requirements", {}).values():
        grouped.setdefault(str(req.get("area") or "other"), []).append(req)
    order = _area_order()
    rank = {a: i for i, a in enumerate(order)}
    areas = sorted(grouped, key=lambda a: (rank.get(a, len(order)), a))
    return {a: sorted(grouped[a], key=lambda r: str(r["id"])) for a in areas}


def area_counts(reqs: list[Mapping[str, Any]]) -> dict[str, int]:
    counts = dict.fromkeys(OUTCOMES, 0)
    for req in reqs:
        counts[str(req["outcome"])] = counts.get(str(req["outcome"]), 0) + 1
    return counts


def problems(results: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Requirements that failed, warned or errored: fails first, then by id."""
    rank = {o: i for i, o in enumerate(PROBLEMS)}
    found = [
        r for r in results.get("requirements", {}).values() if r["outcome"] in rank
    ]
    return sorted(found, key=lambda r: (rank[r["outcome"]], str(r["id"])))


def target_label(results: Mapping[str, Any]) -> str:
    target = results.get("target") or {}
    url = str(target.get("base_url") or "(no target)")
    return f"{url} (embedded reference server)" if target.get("embedded") else url
