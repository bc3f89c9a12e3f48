"""Settings of one reference-server instance."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["UPLOAD_CAP_BYTES", "LatencyModel", "ServerSettings"]

UPLOAD_CAP_BYTES = 25 * 1024 * 1024  # "Max 25 MB" (spec/audio-transcriptions.txt)


@dataclass(frozen=True, slots=True)
class LatencyModel:
    """Simulated generation timing: time to first token, then a delay per token."""

    ttft: float = 0.010
    itl: float = 0.002


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """Everything one server instance is started with."""

    host: str = "127.0.0.1"
    https_port: int = 0
    http_port: int = 0
    state_dir: Path = field(default_factory=lambda: Path("reports/server"))
    keys_file: Path | None = None
    latency: LatencyModel = field(default_factory=LatencyModel)
    upload_cap: int = UPLOAD_CAP_BYTES
    rate_window: float = 60.0  # seconds; "evaluated per minute" (getting-started.txt)
    faults: tuple[str, ...] = ()
    hsts: bool = True
