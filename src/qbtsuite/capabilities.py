"""The optional capabilities of a target, declared once.

A capability is a part of the API a target may lack without breaking the contract:
an endpoint (images, transcriptions), a key the vendor provides for a check (a
second key, an exhausted one, a low-limit one), or a hook only some targets have.
The catalogue names the capabilities each optional requirement needs
(``capabilities = [...]``); a conformance test of one carries
``@pytest.mark.capability(name)``. A run declares what its target offers with
``--capabilities a,b`` (or ``none``):

- declared: the tests run and must pass; "unsupported" is then a failure;
- not declared (when a declaration is given): the tests do not run and are reported
  ``skipped`` with "capability not declared: NAME";
- nothing declared: every test runs, except where :attr:`Capability.default` says
  the capability is only assumed of some targets (Qubittron's own, the embedded
  reference server).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

__all__ = [
    "CAPABILITIES",
    "CATALOGUE",
    "Assumed",
    "Capability",
    "by_endpoint",
    "not_declared_reason",
    "unknown_capabilities",
]


class Assumed(StrEnum):
    """Where a capability is taken as offered when the run declares nothing."""

    EVERYWHERE = "everywhere"  # the tests run (and may end "unsupported")
    QUBITTRON = "qubittron"  # the embedded server and api.qubittron.ai only
    EMBEDDED = "embedded"  # the embedded reference server only


@dataclass(frozen=True, slots=True)
class Capability:
    """One optional capability: its name, what it is, and what it needs."""

    name: str
    description: str
    assumed: Assumed = Assumed.EVERYWHERE
    endpoint: str | None = None  # the endpoint it is (requirements of it need it)
    key_roles: tuple[str, ...] = ()  # keys a declaration must come with
    needs_rate_limit: bool = False  # a declaration needs the low-limit key's limit


CATALOGUE = "catalogue"

_TABLE = (
    Capability(
        "images",
        "image generation, POST /v1/images/generations",
        endpoint="images",
    ),
    Capability(
        "transcriptions",
        "speech to text, POST /v1/audio/transcriptions: multipart uploads, the 25 MB cap",
        endpoint="transcriptions",
    ),
    Capability(
        CATALOGUE,
        "the target serves Qubittron's own model catalogue: the documented models, "
        "their widths and categories",
        assumed=Assumed.QUBITTRON,
    ),
    Capability(
        "second_key",
        "a second key, of another account, for the isolation checks "
        "(QBTSUITE_SECOND_KEY)",
        key_roles=("second",),
    ),
    Capability(
        "zero_balance",
        "a key whose credit is exhausted, for 402 insufficient_funds "
        "(QBTSUITE_ZERO_BALANCE_KEY)",
        key_roles=("zero_balance",),
    ),
    Capability(
        "rate_limits",
        "a key with a small per-minute limit and that limit, for the 429 scenario "
        "(QBTSUITE_LOW_LIMIT_KEY, QBTSUITE_RATE_LIMIT_RPM)",
        key_roles=("low_limit",),
        needs_rate_limit=True,
    ),
    Capability(
        "model_retrieval",
        "GET /v1/models/{id}, OpenAI's retrieve (not in the Qubittron docs)",
    ),
    Capability(
        "tts",
        "the TTS path /api/v1/tts/text_to_audio, one level above the base URL",
    ),
    Capability(
        "transcription_usage",
        "transcription responses report usage.seconds",
    ),
    Capability(
        "simulated_failures",
        "the X-Qbtsuite-Simulate request header provokes upstream_error, "
        "service_unavailable and stream_error (the reference server's test hook)",
        assumed=Assumed.EMBEDDED,
    ),
)

CAPABILITIES: Mapping[str, Capability] = MappingProxyType({c.name: c for c in _TABLE})


def unknown_capabilities(names: Iterable[str]) -> list[str]:
    """The names that are no capability, in order."""
    return [n for n in names if n not in CAPABILITIES]


def by_endpoint(endpoint: str) -> Capability | None:
    """The capability that is ``endpoint`` itself (images, transcriptions), if any."""
    return next((c for c in _TABLE if c.endpoint == endpoint), None)


def not_declared_reason(missing: Iterable[str]) -> str:
    """Why a test needing the ``missing`` capabilities is not run."""
    names = list(missing)
    what = "; ".join(
        f"{n} ({CAPABILITIES[n].description})" if n in CAPABILITIES else n
        for n in names
    )
    return f"capability not declared: {what}"
