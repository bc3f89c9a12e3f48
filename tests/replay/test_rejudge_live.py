"""``qbtsuite rejudge`` over a real recorded run: the same verdicts with no network,
rate-limit tests and tests past the recording kept as recorded, marked."""

from __future__ import annotations

from pathlib import Path

import pytest

from qbtsuite.cli import main
from qbtsuite.harness.rejudge import NOT_REJUDGED
from qbtsuite.results.store import read_results


@pytest.mark.slow
def test_rejudging_a_recorded_fault_run_gives_its_live_verdicts(tmp_path: Path) -> None:
    live, again = tmp_path / "live", tmp_path / "again"
    argv = ["run", "--output", str(live), "--no-allure", "--fault", "streaming.no_done"]
    assert main([*argv, "--area", "streaming", "--area", "rate-limits"]) == 1
    assert (live / "exchanges" / "local.jsonl").is_file()
    assert (live / "transcripts.har").is_file()
    assert main(["rejudge", str(live), "--output", str(again)]) == 0
    old, new = read_results(live), read_results(again)
    assert new.verdict == old.verdict
    assert {r: v.outcome for r, v in new.requirements.items()} == {
        r: v.outcome for r, v in old.requirements.items()
    }
    kept = {
        n
        for n, t in new.tests.items()
        if any(x.startswith(NOT_REJUDGED) for x in t.notes)
    }
    assert kept and all(n.startswith("test_rate_limits.py") for n in kept)
    assert len(kept) < len(new.tests)


def test_a_run_without_a_recording_is_refused_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from qbtsuite.results.store import write_results
    from tests.harness.synthetic import synthetic_results

    write_results(tmp_path, synthetic_results())
    assert main(["rejudge", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no recorded exchanges" in err
