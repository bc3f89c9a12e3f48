"""Tests that spend one key's rate budget run on one pytest-xdist worker."""

from __future__ import annotations

import pytest

# A pytest-xdist session of its own, against a server.
pytestmark = pytest.mark.slow

pytest_plugins = ["pytester"]


def test_tests_of_one_xdist_group_all_run_on_the_same_worker(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import os, pytest

        @pytest.mark.xdist_group("spends-low_limit")
        @pytest.mark.parametrize("i", range(8))
        def test_grouped(i):
            with open(f"worker-{i}.txt", "w") as out:
                out.write(os.environ["PYTEST_XDIST_WORKER"])
        """
    )
    result = pytester.runpytest_subprocess(
        "-p",
        "no:locust",
        "-p",
        "qbtsuite.harness.xdist_groups",
        "-n",
        "2",
        "--dist",
        "loadgroup",
    )
    result.assert_outcomes(passed=8)
    workers = {(pytester.path / f"worker-{i}.txt").read_text() for i in range(8)}
    assert len(workers) == 1, f"one group ran on several workers: {sorted(workers)}"
