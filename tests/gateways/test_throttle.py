"""--throttle-rpm: every key, the main key too, gets N requests per sliding window;
the next is a 429 in the envelope with Retry-After in whole seconds.

Each test spends a key of its own, so none waits for another's window.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.gateways.conftest import emulator
from tests.gateways.harness import RunningGateway
from tests.gateways.options import GatewayOptions
from tests.gateways.throttle import SlidingWindowLimiter

LIMIT, WINDOW = 3, 1.5


@pytest.fixture(scope="module")
def throttled(
    upstream_info: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningGateway]:
    options = GatewayOptions(throttle_rpm=LIMIT, throttle_window=WINDOW)
    with emulator(upstream_info, tmp_path_factory, options) as running:
        yield running


def test_the_limiter_admits_n_per_window_and_names_the_wait() -> None:
    limiter = SlidingWindowLimiter(2, 60.0)
    assert limiter.admit("k", 0.0).admitted
    assert limiter.admit("k", 10.0).admitted
    refused = limiter.admit("k", 20.5)
    assert not refused.admitted
    assert refused.retry_after == 40  # the first hit leaves the window at 60 s
    assert limiter.admit("k", 60.0).admitted
    assert limiter.admit("other", 20.5).admitted


def test_the_limiter_never_announces_less_than_one_second() -> None:
    limiter = SlidingWindowLimiter(1, 1.0)
    limiter.admit("k", 0.0)
    assert limiter.admit("k", 0.999).retry_after == 1


def test_the_main_key_is_throttled_with_429_and_retry_after(
    throttled: RunningGateway,
) -> None:
    with throttled.client("main") as api:
        statuses = [api.get("models").status_code for _ in range(LIMIT)]
        refused = api.get("models")
    assert statuses == [200] * LIMIT, f"Received: {statuses}"
    assert refused.status_code == 429, f"Received: {refused.status_code}"
    error = refused.json()["error"]
    assert (error["type"], error["code"]) == ("rate_limit_error", "rate_limit_exceeded")
    assert "max-age=" in refused.headers.get("strict-transport-security", "")
    retry_after = refused.headers.get("retry-after", "")
    assert retry_after.isdigit() and 1 <= int(retry_after) <= 2, (
        f"Received: Retry-After {retry_after!r}; Expected: 1..2 seconds"
    )


@pytest.mark.slow
def test_a_throttled_key_is_admitted_again_after_retry_after(
    throttled: RunningGateway,
) -> None:
    with throttled.client("second") as api:
        for _ in range(LIMIT):
            api.get("models")
        refused = api.get("models")
        assert refused.status_code == 429, f"Received: {refused.status_code}"
        time.sleep(int(refused.headers["retry-after"]))
        again = api.get("models")
    assert again.status_code == 200, f"Received: {again.status_code}"


def test_each_key_has_its_own_budget(throttled: RunningGateway) -> None:
    with (
        throttled.client("low_limit") as spent,
        throttled.client("zero_balance") as other,
    ):
        for _ in range(LIMIT + 1):
            spent.get("models")
        response = other.get("models")
    assert response.status_code != 429, f"Received: {response.status_code}"


def test_a_refused_key_is_told_401_not_throttled(throttled: RunningGateway) -> None:
    with throttled.client(role=None) as api:
        headers = {"Authorization": "Bearer qbt_not-a-key"}
        statuses = [
            api.get("models", headers=headers).status_code for _ in range(LIMIT + 2)
        ]
    assert statuses == [401] * (LIMIT + 2), f"Received: {statuses}"
