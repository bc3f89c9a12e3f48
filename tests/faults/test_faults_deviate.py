"""Every fault in the catalogue really deviates, and its probe can tell.

For each fault: its probe returns None against a clean server and a description of
the deviation against a server started with that fault.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from qbtsuite.server.faults import load_faults
from qbtsuite.target.embedded import EmbeddedServer, ServerTarget
from tests.faults.probes import PROBES

ARGS = ["--ttft", "0.01", "--itl", "0.05", "--rate-window", "2"]
RATE_PROBES = {name for name in PROBES if name.startswith("rate.")}
# A case with a server of its own takes seconds: slow (the fast loop keeps the
# clean-server probes that share one server).
CLEAN_CASES = [
    pytest.param(name, marks=[pytest.mark.slow] if name in RATE_PROBES else [])
    for name in sorted(PROBES)
]


@pytest.fixture(scope="module")
def clean() -> Iterator[ServerTarget]:
    with EmbeddedServer(args=ARGS) as target:
        yield target


def test_every_fault_has_a_probe() -> None:
    missing = sorted(set(load_faults()) - set(PROBES))
    assert not missing, f"faults without a probe: {missing}"


def test_every_probe_names_a_real_fault() -> None:
    unknown = sorted(set(PROBES) - set(load_faults()))
    assert not unknown, f"probes for unknown faults: {unknown}"


@pytest.mark.parametrize("name", CLEAN_CASES)
def test_probe_sees_nothing_wrong_on_the_clean_server(
    name: str, clean: ServerTarget
) -> None:
    if name in RATE_PROBES:  # these spend a key's limit: each needs its own server
        with EmbeddedServer(args=ARGS) as fresh:
            assert PROBES[name](fresh) is None
        return
    assert PROBES[name](clean) is None


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PROBES))
def test_fault_makes_the_server_deviate(name: str) -> None:
    with EmbeddedServer(faults=[name], args=ARGS) as target:
        seen = PROBES[name](target)
    assert seen is not None, f"fault {name} did not deviate"
