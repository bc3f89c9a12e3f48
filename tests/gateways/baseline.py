"""``python -m tests.gateways.baseline``: the conformance suite against each gateway
behaviour, one fresh reference server and emulator per behaviour, and a Markdown
table of what it concluded (exit code, outcome counts, requirements that did not
pass, and which verdicts differ from the transparent proxy's).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from qbtsuite.target.resolve import EMBEDDED_SERVER_ARGS
from tests.gateways.behaviours import BEHAVIOURS, Behaviour
from tests.gateways.harness import reference_and_gateway
from tests.gateways.suiterun import OUTCOMES, SuiteRun, run_suite

__all__ = ["main"]

# As the embedded server runs for the suite: a short window keeps rate checks short.
SERVER_ARGS = EMBEDDED_SERVER_ARGS


def _run(behaviour: Behaviour, out: Path, scratch: Path) -> SuiteRun:
    slug = behaviour.name.replace(" ", "-")
    with reference_and_gateway(behaviour.options, scratch / slug, SERVER_ARGS) as gw:
        run = run_suite(gw, out / slug, behaviour.models)
    if run.run_dir.is_dir():  # what the user saw; the suite redacts keys itself
        (run.run_dir / "terminal.txt").write_text(run.terminal, encoding="utf-8")
    return run


def _first_line(messages: Sequence[str]) -> str:
    text = " | ".join(m.replace("\n", " / ") for m in messages)
    return text if len(text) <= 240 else text[:237] + "..."


def _report(runs: list[tuple[Behaviour, SuiteRun]]) -> str:
    head = "| behaviour | exit | " + " | ".join(OUTCOMES) + " |"
    lines = [head, "|" + "---|" * (len(OUTCOMES) + 2)]
    for behaviour, run in runs:
        counts = " | ".join(str(run.totals.get(o, 0)) for o in OUTCOMES)
        lines.append(f"| {behaviour.name} | {run.exit_code} | {counts} |")
    control = runs[0][1] if runs and runs[0][0].name == "transparent" else None
    for behaviour, run in runs:
        lines += ["", f"## {behaviour.name}", ""]
        for rid, verdict in sorted(run.verdicts.items()):
            if verdict.outcome == "pass":
                continue
            same = control is not None and control.outcome(rid) == verdict.outcome
            mark = " (as transparent)" if same and behaviour is not runs[0][0] else ""
            lines.append(
                f"- {rid} {verdict.level} **{verdict.outcome}**{mark}: "
                f"{_first_line(verdict.messages)}"
            )
        if control is not None and behaviour is not runs[0][0]:
            for rid in sorted(control.verdicts):
                if control.outcome(rid) != "pass" and run.outcome(rid) == "pass":
                    lines.append(
                        f"- {rid} **pass** (transparent: {control.outcome(rid)})"
                    )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.gateways.baseline")
    names = [b.name for b in BEHAVIOURS]
    p.add_argument("--behaviour", action="append", choices=names, default=None)
    p.add_argument("--out", type=Path, required=True, help="folder for the run folders")
    args = p.parse_args(argv)
    chosen = [
        b for b in BEHAVIOURS if args.behaviour is None or b.name in args.behaviour
    ]
    runs: list[tuple[Behaviour, SuiteRun]] = []
    with tempfile.TemporaryDirectory(prefix="baseline-") as scratch:
        for behaviour in chosen:
            sys.stderr.write(f"running the suite against: {behaviour.name}\n")
            runs.append((behaviour, _run(behaviour, args.out, Path(scratch))))
    report = _report(runs)
    (args.out / "baseline.md").write_text(report, encoding="utf-8")
    sys.stdout.write(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
