"""Declaring capabilities on the embedded reference server: ``none`` leaves the image,
transcription and catalogue tests unrun, each saying why; declaring them runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from qbtsuite.capabilities import CAPABILITIES
from qbtsuite.results.model import RunResults
from qbtsuite.results.outcomes import Outcome
from qbtsuite.results.store import read_results

pytestmark = pytest.mark.slow

AREAS = ("--area", "images", "--area", "transcriptions", "--area", "models")
GATED = ("images", "transcriptions", "catalogue")


def _run(folder: Path, capabilities: str) -> RunResults:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("QBTSUITE_", "QUBITTRON_"))
    }
    done = subprocess.run(
        [sys.executable, "-m", "qbtsuite", "run", "--capabilities", capabilities,
         *AREAS, "--output", str(folder)],
        capture_output=True, text=True, timeout=600, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    return read_results(folder)


def _reason(name: str) -> str:
    return f"capability not declared: {name} ({CAPABILITIES[name].description})"


def test_with_capabilities_none_the_gated_tests_are_not_run_and_say_why(
    tmp_path: Path,
) -> None:
    results = _run(tmp_path / "none", "none")
    by_id = results.requirements
    for rid in ("IMG-001", "IMG-012", "AUD-001", "AUD-013", "MODEL-003", "MODEL-008"):
        assert by_id[rid].outcome is Outcome.SKIPPED, rid
        assert by_id[rid].messages[0].startswith("capability not declared: "), rid
    assert by_id["IMG-001"].messages == (_reason("images"),)
    assert by_id["AUD-001"].messages == (_reason("transcriptions"),)
    assert by_id["MODEL-003"].messages == (_reason("catalogue"),)
    # not run: no request was sent for any test skipped for a capability
    unrun = [t for t in results.tests.values() if t.reason.startswith("capability not")]
    assert len(unrun) > 40
    assert all(not t.transcripts and t.outcome is Outcome.SKIPPED for t in unrun)
    assert by_id["MODEL-001"].outcome is by_id["MODEL-002"].outcome is Outcome.PASS


def test_declaring_images_transcriptions_and_catalogue_runs_their_tests(
    tmp_path: Path,
) -> None:
    results = _run(tmp_path / "declared", ",".join(GATED))
    outcomes = {rid: r.outcome for rid, r in results.requirements.items()}
    gated = [
        rid
        for rid in outcomes
        if rid.startswith(("IMG-", "AUD-"))
        or rid in {f"MODEL-00{i}" for i in range(3, 9)}
    ]
    assert len(gated) == 12 + 13 + 6
    assert all(outcomes[rid] is Outcome.PASS for rid in gated), outcomes
    # what stays undeclared is still not run
    assert outcomes["MODEL-009"] is outcomes["MODEL-010"] is Outcome.SKIPPED
