"""The reference server's ``server.json`` (written by ``qbtsuite serve``), read back."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from urllib.parse import urlsplit

__all__ = ["UpstreamInfo", "UpstreamInfoError", "read_upstream_info"]


class UpstreamInfoError(ValueError):
    """``server.json`` is missing, unreadable or lacks a field (one-line reason)."""


@dataclass(frozen=True)
class UpstreamInfo:
    """Where the reference server listens, the CA it uses and its keys by role."""

    https_url: str
    ca: str
    keys: Mapping[str, str]
    rate_window: float
    upload_cap: int
    pid: int

    @property
    def origin(self) -> str:
        """``https://host:port`` of the HTTPS listener."""
        parts = urlsplit(self.https_url)
        return f"{parts.scheme}://{parts.netloc}"

    def __repr__(self) -> str:  # keys stay out of every log line
        return f"UpstreamInfo({self.https_url!r}, roles={sorted(self.keys)})"


def read_upstream_info(path: Path) -> UpstreamInfo:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UpstreamInfoError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError:
        raise UpstreamInfoError(f"{path} is not JSON") from None
    try:
        keys = raw["keys"]
        if not isinstance(keys, dict) or not all(
            isinstance(v, str) for v in keys.values()
        ):
            raise TypeError
        return UpstreamInfo(
            https_url=str(raw["https_url"]),
            ca=str(raw["ca"]),
            keys=MappingProxyType({str(k): v for k, v in keys.items()}),
            rate_window=float(raw["rate_window"]),
            upload_cap=int(raw["upload_cap"]),
            pid=int(raw["pid"]),
        )
    except (KeyError, TypeError, ValueError):
        raise UpstreamInfoError(
            f"{path} lacks https_url, ca, keys, rate_window, upload_cap or pid"
        ) from None
