"""Fixtures: one reference server per session (per xdist worker) and, per test
module, the emulator with the behaviours that module proves."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.gateways.harness import RunningGateway, gateway, reference_server
from tests.gateways.options import GatewayOptions

WAV = Path(__file__).resolve().parents[2] / "fixtures" / "audio" / "speech-like.wav"


@pytest.fixture(scope="session")
def upstream_info(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """``server.json`` of a reference server with a slow enough token pace that a
    buffered stream would show (20 ms between tokens)."""
    with reference_server(
        tmp_path_factory.mktemp("upstream"), ["--itl", "0.02"]
    ) as info:
        yield info


@contextmanager
def emulator(
    upstream_info: Path,
    tmp_path_factory: pytest.TempPathFactory,
    options: GatewayOptions,
) -> Iterator[RunningGateway]:
    with gateway(upstream_info, options, tmp_path_factory.mktemp("gateway")) as running:
        yield running
