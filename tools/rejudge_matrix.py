"""Re-judge every recorded run of a fault matrix and compare with its live verdicts.

    python tools/rejudge_matrix.py MATRIX_DIR [--jobs N] [--output DIR]

MATRIX_DIR is a ``qbtsuite selftest --output`` folder: one recorded run per fault
(and ``clean``). Each is re-judged (``qbtsuite rejudge``, no network) into
``--output/<fault>``; a fault *agrees* when the re-judged run has the live run's
verdict, every requirement its live outcome and every test its live outcome. Prints
a line per fault, then ``agree/all`` and how many tests were re-judged; exit 0 when
every fault agrees.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from qbtsuite.harness.rejudge import NOT_REJUDGED
from qbtsuite.results.store import read_results

RUN_TIMEOUT = 600.0  # seconds for one rejudge


@dataclass(frozen=True)
class Agreement:
    fault: str
    agrees: bool
    rejudged: int  # tests judged again from the recording
    kept: int  # tests that kept their recorded outcome (not re-judged)
    differences: tuple[str, ...]
    seconds: float


def _one(live_dir: Path, out_dir: Path) -> Agreement:
    import time

    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "qbtsuite", "rejudge", str(live_dir),
         "--output", str(out_dir), "--overwrite"],
        capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False,
    )  # fmt: skip
    seconds = time.monotonic() - started
    if not (out_dir / "results.json").is_file():
        line = (done.stderr.strip().splitlines() or ["no results"])[-1]
        return Agreement(
            live_dir.name, False, 0, 0, (f"rejudge failed: {line}",), seconds
        )
    live, again = read_results(live_dir), read_results(out_dir)
    differences = []
    if live.verdict != again.verdict:
        differences.append(f"verdict {live.verdict} → {again.verdict}")
    for rid in sorted(set(live.requirements) | set(again.requirements)):
        old = live.requirements.get(rid)
        new = again.requirements.get(rid)
        if (old and old.outcome) != (new and new.outcome):
            differences.append(
                f"{rid} {old.outcome if old else 'absent'} → {new.outcome if new else 'absent'}"
            )
    for nodeid, test in live.tests.items():
        other = again.tests.get(nodeid)
        if other is None or other.outcome != test.outcome:
            differences.append(
                f"{nodeid} {test.outcome} → {other.outcome if other else 'absent'}"
            )
    kept = sum(
        1
        for t in again.tests.values()
        if any(n.startswith(NOT_REJUDGED) for n in t.notes)
    )
    return Agreement(
        live_dir.name, not differences, len(again.tests) - kept, kept,
        tuple(differences), seconds,
    )  # fmt: skip


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("matrix", type=Path)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    out = args.output or args.matrix.with_name(args.matrix.name + "-rejudged")
    runs = sorted(p for p in args.matrix.iterdir() if (p / "results.json").is_file())
    if not runs:
        print(f"error: no recorded runs in {args.matrix}", file=sys.stderr)
        return 2
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        found = list(pool.map(lambda p: _one(p, out / p.name), runs))
    for a in found:
        mark = "agree   " if a.agrees else "DISAGREE"
        print(
            f"{mark} {a.fault:<42} re-judged {a.rejudged:>3}, not re-judged "
            f"{a.kept:>3}  ({a.seconds:.1f} s)"
        )
        for d in a.differences[:5]:
            print(f"           {d}")
    agree = sum(a.agrees for a in found)
    rejudged = sum(a.rejudged for a in found)
    kept = sum(a.kept for a in found)
    faults = [a for a in found if a.fault != "clean"]
    only_kept = sum(1 for a in found if a.rejudged == 0)
    print(
        f"\n{agree}/{len(found)} runs agree with their live verdicts "
        f"({len(faults)} faults{' + clean' if len(faults) < len(found) else ''}; "
        f"faults agreeing {sum(a.agrees for a in faults)}/{len(faults)}); "
        f"{only_kept} run(s) re-judged no test (each of their tests judges live timing or needs requests past the recording); "
        f"tests re-judged {rejudged}, not re-judged {kept}"
    )
    return 0 if agree == len(found) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
