"""Shared fixtures for the project's own tests.

``server`` is one clean reference server per test session (per xdist worker); tests
that need a fault or other settings start their own with ``EmbeddedServer``.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import httpcore  # noqa: F401  (see below)
import httpx
import pytest

from qbtsuite import redact
from qbtsuite.target.embedded import EmbeddedServer, ServerTarget

# httpx imports httpcore lazily, on its first transport, and caches httpcore's exception
# classes then. In-process pytester runs drop modules first imported inside them; had
# httpcore been first imported there, later connection errors would escape httpx
# unmapped. Importing it here, before any test runs, keeps one httpcore per process.


@pytest.fixture(autouse=True)
def _forget_secrets_registered_by_the_test() -> Iterator[None]:
    """The redaction registry is per process: a key one test registers would go on
    scrubbing the texts of every later test in the same worker."""
    before = redact.snapshot()
    yield
    redact.restore(before)


@pytest.fixture(scope="session")
def server() -> Iterator[ServerTarget]:
    """A clean reference server on loopback (HTTPS + plain-HTTP redirect)."""
    with EmbeddedServer() as target:
        yield target


def client_for(target: ServerTarget, key: str | None = "main") -> httpx.Client:
    """An httpx client for ``target`` trusting its CA, authenticated as ``key``'s role."""
    headers = {} if key is None else {"Authorization": f"Bearer {target.keys[key]}"}
    return httpx.Client(
        base_url=target.https_url + "/",
        verify=ssl.create_default_context(cafile=target.ca),
        headers=headers,
        timeout=30.0,
    )


@pytest.fixture
def api(server: ServerTarget) -> Iterator[httpx.Client]:
    """A client of the session server, authenticated with the main key."""
    with client_for(server) as client:
        yield client
