"""``qbtsuite requirements``: print the requirements catalogue, or one requirement.

As a table sized to the terminal (the default; statements wrap), as Markdown (for
READMEs and job summaries) or as JSON (for tools), filtered by area, level and
capability; or the table of optional capabilities (``--capabilities``).
``qbtsuite requirements SSE-009`` shows one requirement whole: statement, quote,
source, level and its reason, the tests that check it and the checks they call, and
the reference server's faults that break it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

from qbtsuite.capabilities import CAPABILITIES, Assumed
from qbtsuite.errors import ConfigError
from qbtsuite.exitcodes import ExitCode
from qbtsuite.requirements import AREAS, LEVELS, Catalogue, Requirement, load_catalogue

__all__ = ["register", "render_markdown", "render_one", "render_table", "run"]

_FORMATS = ("table", "markdown", "json")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "requirements",
        help="List the requirements the suite checks",
        description="Print the requirements catalogue (conformance/requirements.toml).",
    )
    p.add_argument(
        "id",
        nargs="?",
        metavar="ID",
        help="Show this one requirement whole (e.g. SSE-009)",
    )
    p.add_argument(
        "--area",
        action="append",
        choices=sorted(AREAS),
        default=[],
        help="Only this area (repeatable)",
    )
    p.add_argument("--level", choices=LEVELS, help="Only MUST or only SHOULD")
    p.add_argument(
        "--capability",
        metavar="NAME",
        help="Only the requirements this optional capability gates",
    )
    p.add_argument(
        "--capabilities",
        action="store_true",
        help="List the optional capabilities (--capabilities of 'qbtsuite run')",
    )
    p.add_argument("--format", choices=_FORMATS, default="table", help="Output format")
    p.add_argument(
        "--guidance",
        action="store_true",
        help="List the documented statements that are not requirements, and why",
    )
    p.add_argument(
        "--catalogue",
        type=Path,
        help="Catalogue file to read (default: the bundled one)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        catalogue = load_catalogue(args.catalogue)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    if args.guidance:
        print(_render_guidance(catalogue, args.format))
        return ExitCode.OK
    if args.id:
        return _show_one(catalogue, args.id.strip().upper(), args)
    if args.capabilities:
        print(render_capabilities(catalogue, args.format))
        return ExitCode.OK
    if args.capability is not None and args.capability not in CAPABILITIES:
        print(
            f"error: unknown capability {args.capability!r} "
            f"(known: {', '.join(CAPABILITIES)})",
            file=sys.stderr,
        )
        return ExitCode.USAGE
    selected = [
        r
        for r in catalogue
        if (not args.area or r.area in args.area)
        and (args.level is None or r.level == args.level)
        and (args.capability is None or args.capability in r.capabilities)
    ]
    if args.capability is not None and args.format == "table":
        capability = CAPABILITIES[args.capability]
        print(
            f"capability {capability.name}: {capability.description}; "
            f"{_assumed(capability.assumed)}. Not declared, these are not run "
            f"(skipped), nor are the {capability.name} cases of other tests:\n"
        )
    if args.format == "json":
        payload = {
            "digest": catalogue.digest,
            "requirements": [_as_json(r) for r in selected],
        }
        print(json.dumps(payload, indent=2, ensure_ascii=False))
    elif args.format == "markdown":
        print(render_markdown(selected))
    else:
        width = shutil.get_terminal_size(fallback=(120, 24)).columns
        print(render_table(selected, width))
        musts = sum(r.is_must for r in selected)
        print(
            f"\n{len(selected)} requirement(s): {musts} MUST, "
            f"{len(selected) - musts} SHOULD; * optional (needs a configured "
            f"key or capability); catalogue sha256 {catalogue.digest[:12]}"
        )
    return ExitCode.OK


_ASSUMED = {
    Assumed.EVERYWHERE: "with nothing declared its tests run",
    Assumed.QUBITTRON: "with nothing declared it is on for the embedded server and "
    "api.qubittron.ai only",
    Assumed.EMBEDDED: "with nothing declared it is on for the embedded server only",
}


def _assumed(assumed: Assumed) -> str:
    return _ASSUMED[assumed]


def render_capabilities(catalogue: Catalogue, fmt: str) -> str:
    """The capability table: name, what it is, the requirements it gates."""
    gated = {
        name: [r.id for r in catalogue if name in r.capabilities]
        for name in CAPABILITIES
    }
    if fmt == "json":
        items = [
            {
                "name": c.name,
                "description": c.description,
                "assumed": c.assumed.value,
                "requirements": gated[c.name],
            }
            for c in CAPABILITIES.values()
        ]
        return json.dumps({"capabilities": items}, indent=2, ensure_ascii=False)
    if fmt == "markdown":
        lines = ["| capability | what | requirements |", "|---|---|---|"]
        lines += [
            f"| `{c.name}` | {_md(c.description)} | {len(gated[c.name])} |"
            for c in CAPABILITIES.values()
        ]
        return "\n".join(lines)
    width = max(len(n) for n in CAPABILITIES)
    lines = [
        f"{c.name:<{width}}  {len(gated[c.name]):>3} req.  {c.description}"
        for c in CAPABILITIES.values()
    ]
    lines.append(
        "\nDeclare what the target offers: qbtsuite run --capabilities a,b (or "
        "'none'); 'qbtsuite requirements --capability NAME' lists what one gates."
    )
    return "\n".join(lines)


def _as_json(requirement: Requirement) -> dict[str, object]:
    """The requirement's fields; the level's reason stays in the catalogue file."""
    fields = dataclasses.asdict(requirement)
    del fields["level_reason"]
    return fields


def render_table(requirements: Sequence[Requirement], width: int) -> str:
    """Aligned columns; the statement wraps within ``width``, nothing is cut."""
    header = ("ID", "LEVEL", "AREA", "ENDPOINT", "STATEMENT")
    rows = [
        (r.id, r.level + ("*" if r.optional else ""), r.area, r.endpoint, r.statement)
        for r in requirements
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
    indent = sum(widths) + 2 * len(widths)
    room = max(width - indent, 30)
    lines = []
    for row in [header, *rows]:
        cells = [cell.ljust(w) for cell, w in zip(row[:4], widths, strict=True)]
        wrapped = textwrap.wrap(row[4], room, break_on_hyphens=False) or [""]
        lines.append("  ".join([*cells, wrapped[0]]).rstrip())
        lines += [" " * indent + more for more in wrapped[1:]]
    return "\n".join(lines)


def _faults_breaking(rid: str) -> tuple[list[str], list[str]]:
    """The reference server's faults that must break ``rid``, and those that may."""
    from qbtsuite.server.faults import load_faults

    faults = load_faults()
    breaks = sorted(name for name, f in faults.items() if rid in f.breaks)
    collateral = sorted(name for name, f in faults.items() if rid in f.collateral)
    return breaks, collateral


def _show_one(catalogue: Catalogue, rid: str, args: argparse.Namespace) -> int:
    if rid not in catalogue:
        print(
            f"error: unknown requirement id {rid} (see 'qbtsuite requirements')",
            file=sys.stderr,
        )
        return ExitCode.USAGE
    from qbtsuite.harness.inventory import tests_checking

    requirement = catalogue[rid]
    uses = tests_checking(rid, args.catalogue)
    breaks, collateral = _faults_breaking(rid)
    if args.format == "json":
        payload = {
            **dataclasses.asdict(requirement),
            "tests": [dataclasses.asdict(u) for u in uses],
            "faults": breaks,
            "collateral_faults": collateral,
        }
        print(json.dumps(payload, indent=2, ensure_ascii=False))
        return ExitCode.OK
    width = shutil.get_terminal_size(fallback=(100, 24)).columns
    print(render_one(requirement, uses, breaks, collateral, width))
    return ExitCode.OK


def render_one(
    r: Requirement,
    uses: Sequence[object],
    breaks: Sequence[str],
    collateral: Sequence[str],
    width: int,
) -> str:
    """One requirement whole, wrapped to ``width``."""
    room = max(width - 12, 40)

    def field(label: str, text: str) -> list[str]:
        wrapped = textwrap.wrap(text, room, break_on_hyphens=False) or [""]
        return [f"{label:<12}{wrapped[0]}", *(" " * 12 + w for w in wrapped[1:])]

    level = r.level + (f" — {r.level_reason}" if r.level_reason else "")
    lines = [
        f"{r.id}  {r.level}  {r.area} · endpoint {r.endpoint} · origin {r.origin}"
        + (" · optional (needs a configured key or capability)" if r.optional else ""),
        "",
        *field("statement", r.statement),
        *field("quote", f"“{r.quote}”"),
        *field("source", f"spec/{r.source}"),
        *field("level", level),
        "",
    ]
    declared = [u for u in uses if getattr(u, "declared", True)]
    judged = [u for u in uses if not getattr(u, "declared", True)]
    lines.append(f"tests ({len(declared)})" + ("" if declared else ": none declare it"))
    for use in declared:
        lines.append(f"  {getattr(use, 'nodeid', '')}")
        checks = getattr(use, "checks", ())
        if checks:
            lines += field("    checks", ", ".join(checks))
    if judged:
        checks = sorted({c for u in judged for c in getattr(u, "checks", ())})
        lines += [
            "",
            f"also judged on the error answers of {len(judged)} other test(s)"
            + (f" by {', '.join(checks)}" if checks else ""),
        ]
    lines += ["", f"faults that break it ({len(breaks)})"]
    lines += [f"  {name}" for name in breaks] or ["  none"]
    if collateral:
        lines += ["may also break it (collateral)", *(f"  {n}" for n in collateral)]
    return "\n".join(lines)


def render_markdown(requirements: Sequence[Requirement]) -> str:
    """A GitHub-flavoured Markdown table of the requirements."""
    lines = [
        "| id | level | area | endpoint | origin | optional | statement |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in requirements:
        cells = (
            r.id,
            r.level,
            r.area,
            r.endpoint,
            r.origin,
            "yes" if r.optional else "no",
            r.statement,
        )
        lines.append("| " + " | ".join(_md(c) for c in cells) + " |")
    return "\n".join(lines)


def _render_guidance(catalogue: Catalogue, fmt: str) -> str:
    if fmt == "json":
        items = [dataclasses.asdict(g) for g in catalogue.guidance]
        return json.dumps({"guidance": items}, indent=2, ensure_ascii=False)
    if fmt == "table":
        return "\n\n".join(
            f"{g.source}: {g.quote}\n  → {g.why_not_a_requirement}"
            for g in catalogue.guidance
        )
    lines = ["| source | quote | why not a requirement |", "|---|---|---|"]
    for g in catalogue.guidance:
        cells = (g.source, g.quote, g.why_not_a_requirement)
        lines.append("| " + " | ".join(_md(c) for c in cells) + " |")
    return "\n".join(lines)


def _md(text: str) -> str:
    # A pipe inside a cell would end it; escape it as GitHub Markdown expects.
    return text.replace("|", "\\|")
