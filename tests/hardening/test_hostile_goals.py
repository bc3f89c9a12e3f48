"""Against hostile targets every run ends within its bounds, small, saying why, leaking nothing.

The hostile matrix (``tests.hostile.matrix``) over representative modes: a target
that trickles its answers, one that never answers, a gzip bomb, one that echoes the
key in every encoding, one that sends a GiB body and one that answers every request
with 2 MB of nested JSON (the recording keeps such answers once, within a budget). Each mode runs ``qbtsuite run
--profile full`` and ``qbtsuite load smoke`` under the matrix's supervision, with
short deadlines so the test takes minutes. The goals: the documented exit code,
well inside the wall-clock caps, one clear last line, peak RSS of the whole process
tree ≤ 400 MB, no key (in any encoding) in any file or the terminal, nothing left
running.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.hostile.matrix import main

MODES = ("trickle", "silent", "gzip-bomb", "echo-auth", "huge-body", "deep-json")
RUN_CAP, LOAD_CAP = 240.0, 120.0
PEAK_MB = 400
# The documented outcome of each command against each mode (README, "Exit codes").
EXPECTED = {
    ("trickle", "run"): 3,  # target not answering: the breaker tripped
    ("silent", "run"): 3,
    ("gzip-bomb", "run"): 1,  # every bomb is a failure: answer too large
    ("echo-auth", "run"): 1,  # AUTH-010 (and the hostile server's own shapes)
    ("huge-body", "run"): 1,
    ("deep-json", "run"): 1,  # JSON nested past the decoder: a target failure
    ("trickle", "load"): 3,  # no request got a complete answer
    ("silent", "load"): 3,
    ("gzip-bomb", "load"): 5,  # answered, with bodies past the cap: errors
    ("echo-auth", "load"): 0,
    ("huge-body", "load"): 5,
    ("deep-json", "load"): 5,
}


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Any]:
    out = tmp_path_factory.mktemp("matrix")
    code = main(
        [
            "--modes",
            *MODES,
            "--jobs",
            "2",
            "--run-cap",
            str(RUN_CAP),
            "--load-cap",
            str(LOAD_CAP),
            "--env",
            "QBTSUITE_DEADLINE=5",
            "--env",
            "QBTSUITE_STREAM_DEADLINE=10",
            "--output",
            str(out),
        ]
    )
    assert code == 0
    document = json.loads((out / "matrix.json").read_text(encoding="utf-8"))
    return {(r["mode"], r["command"]): r for r in document["rows"]}


@pytest.mark.slow
@pytest.mark.parametrize(("mode", "command"), sorted(EXPECTED))
def test_a_hostile_target_gets_the_documented_exit_within_the_caps_small_and_sealed(
    rows: dict[tuple[str, str], Any], mode: str, command: str
) -> None:
    row = rows[(mode, command)]
    what = f"{command} against {mode}: {row['last_line']!r}"
    assert row["exit_code"] == EXPECTED[(mode, command)], (
        f"exit {row['exit_code']}, {what}"
    )
    assert not row["stopped_by"], f"stopped by the matrix ({row['stopped_by']}), {what}"
    cap = RUN_CAP if command == "run" else LOAD_CAP
    assert row["wall"] < cap / 2, f"{row['wall']} s, {what}"
    assert row["peak_rss_mb"] <= PEAK_MB, f"peak {row['peak_rss_mb']} MB, {what}"
    assert row["key_hits"] == 0 and row["terminal_key_hits"] == 0, (
        f"the key leaked: {row['key_hits_by_form']} in {row['files_with_key']}"
    )
    assert not row["leftovers"] and not row["tmp_left"], f"left behind: {row}"
    line = row["last_line"]
    assert line and "Traceback" not in line and line != "(no output)", what
