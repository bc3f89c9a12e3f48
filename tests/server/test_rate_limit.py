"""Per-key rate limits on the real server (spec/getting-started.txt "Rate limits").

"Limits are per API key ... A 429 response includes a Retry-After header in seconds;
back off and retry." The server runs with a 3-second window so a test can wait one
out; each test has its own 30-per-window key, so tests stay independent (and can run
on different workers).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterator

import httpx
import pytest

from qbtsuite.server.keys import generate_key
from qbtsuite.target.embedded import EmbeddedServer, ServerTarget
from tests.conftest import client_for
from tests.server.apicheck import expect_error, expect_ok

WINDOW = 3.0
LIMIT = 30  # the low_limit role's requests per window
ROLES = ["low_limit", "waits", "isolated", "mixed", "header"]


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerTarget]:
    folder = tmp_path_factory.mktemp("rate")
    keys = folder / "keys.toml"
    entries = [
        f'[[keys]]\nrole = "{role}"\nkey = "{generate_key()}"\nrpm = {LIMIT}\n'
        for role in ROLES
    ]
    entries.append(f'[[keys]]\nrole = "main"\nkey = "{generate_key()}"\nrpm = 100000\n')
    keys.write_text("\n".join(entries), encoding="utf-8")
    args = ["--rate-window", str(WINDOW), "--keys", str(keys)]
    with EmbeddedServer(args=args, state_dir=folder / "state") as target:
        yield target


def _use_up(client: httpx.Client, count: int = LIMIT) -> None:
    for i in range(count):
        response = client.get("models")
        assert response.status_code == 200, (
            f"Received: {response.status_code} on request {i + 1} of {count} / "
            f"Expected: 200 within the limit of {LIMIT}"
        )


def _retry_after(response: httpx.Response) -> int:
    value = response.headers.get("retry-after", "")
    assert re.fullmatch(r"[0-9]+", value), (
        f"Received: Retry-After {value!r} / Expected: an integer number of seconds"
    )
    return int(value)


def test_the_request_over_the_limit_gets_429_rate_limit_exceeded(
    limited: ServerTarget,
) -> None:
    with client_for(limited, "low_limit") as client:
        _use_up(client)
        response = client.get("models")
    expect_error(response, 429, "rate_limit_exceeded", "rate_limit_error")


def test_a_429_carries_an_integer_retry_after_within_the_window(
    limited: ServerTarget,
) -> None:
    with client_for(limited, "header") as client:
        _use_up(client)
        response = client.get("models")
    expect_error(response, 429, "rate_limit_exceeded")
    seconds = _retry_after(response)
    assert 1 <= seconds <= math.ceil(WINDOW), (
        f"Received: Retry-After {seconds} / Expected: 1..{math.ceil(WINDOW)}"
    )


@pytest.mark.slow
def test_after_waiting_retry_after_the_key_is_admitted_again(
    limited: ServerTarget,
) -> None:
    with client_for(limited, "waits") as client:
        _use_up(client)
        refused = client.get("models")
        expect_error(refused, 429, "rate_limit_exceeded")
        seconds = _retry_after(refused)
        expect_error(client.get("models"), 429, "rate_limit_exceeded")
        time.sleep(seconds)
        expect_ok(client.get("models"))


def test_another_key_is_unaffected_by_a_limited_key(limited: ServerTarget) -> None:
    with (
        client_for(limited, "isolated") as client,
        client_for(limited, "main") as other,
    ):
        _use_up(client)
        expect_error(client.get("models"), 429, "rate_limit_exceeded")
        expect_ok(other.get("models"))
        expect_ok(
            other.post("embeddings", json={"model": "bge-m3", "input": "still fine"})
        )
        expect_error(client.get("models"), 429, "rate_limit_exceeded")


def test_the_limit_counts_requests_to_every_endpoint_together(
    limited: ServerTarget,
) -> None:
    with client_for(limited, "mixed") as client:
        _use_up(client, LIMIT // 2)
        for _ in range(LIMIT - LIMIT // 2):
            expect_ok(client.post("embeddings", json={"model": "bge-m3", "input": "x"}))
        response = client.post(
            "chat/completions",
            json={
                "model": "gpt-oss-20b",
                "messages": [{"role": "user", "content": "x"}],
            },
        )
    expect_error(response, 429, "rate_limit_exceeded", "rate_limit_error")
