"""The suite's client: retry policy, budget, keys, timings and transcripts.

All against ``httpx.MockTransport`` with an injected sleep: no network, no waiting.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from qbtsuite.errors import MissingKey, RequestBudgetExhausted, TargetUnreachable
from qbtsuite.target.budget import RequestBudget
from qbtsuite.target.client import (
    BACKOFF,
    SuiteClient,
    build_http_client,
)
from qbtsuite.target.config import load_settings
from qbtsuite.target.exchange import Exchange, RetryEvent

CANARY = "qbt_canary_client_0123456789"

Handler = Callable[[httpx.Request], httpx.Response]


def _client(
    handler: Handler, *, retries: int = 0, budget: int = 100
) -> tuple[SuiteClient, list[float], list[RetryEvent], list[Exchange]]:
    env = {
        "QUBITTRON_BASE_URL": "https://gw.example/v1",
        "QUBITTRON_API_KEY": CANARY,
        "QBTSUITE_RETRIES": str(retries),
        "QBTSUITE_REQUEST_BUDGET": str(budget),
    }
    config = load_settings({}, env).target()
    sleeps: list[float] = []
    retried: list[RetryEvent] = []
    exchanges: list[Exchange] = []
    http = build_http_client(config, httpx.MockTransport(handler))
    client = SuiteClient(
        config,
        http=http,
        sleep=sleeps.append,
        on_retry=retried.append,
        on_exchange=exchanges.append,
    )
    return client, sleeps, retried, exchanges


def _sequence(*responses: int | Exception) -> Handler:
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        item = queue.pop(0)
        if isinstance(item, Exception):
            raise item
        return httpx.Response(item, json={"ok": item}, request=request)

    return handler


def test_5xx_is_retried_with_1_2_4_second_backoff_and_each_retry_is_reported() -> None:
    client, sleeps, retried, _ = _client(_sequence(502, 503, 500, 200), retries=3)
    exchange = client.request("GET", "models")
    assert exchange.status_code == 200
    assert sleeps == list(BACKOFF) == [1.0, 2.0, 4.0]
    assert [r.reason for r in retried] == [
        "502 Bad Gateway",
        "503 Service Unavailable",
        "500 Internal Server Error",
    ]
    assert [r.attempt for r in exchange.retries] == [1, 2, 3]


def test_network_errors_are_retried_when_retries_are_enabled() -> None:
    error = httpx.ConnectError("connection refused")
    client, sleeps, retried, _ = _client(_sequence(error, 200), retries=1)
    assert client.request("GET", "models").status_code == 200
    assert sleeps == [1.0]
    assert "ConnectError" in retried[0].reason


@pytest.mark.parametrize("status", [400, 401, 404, 413, 429])
def test_4xx_is_never_retried(status: int) -> None:
    client, sleeps, retried, _ = _client(_sequence(status, 200), retries=3)
    assert client.request("GET", "models").status_code == status
    assert sleeps == [] and retried == []


def test_without_retries_a_5xx_is_returned_as_is() -> None:
    client, sleeps, _, _ = _client(_sequence(503, 200))
    assert client.request("GET", "models").status_code == 503
    assert sleeps == []


def test_a_body_streamed_from_a_generator_is_never_retried() -> None:
    client, sleeps, _, _ = _client(_sequence(503, 200), retries=3)

    def body() -> Iterator[bytes]:
        yield b"x" * 10

    assert (
        client.request("POST", "audio/transcriptions", content=body()).status_code
        == 503
    )
    assert sleeps == []


def test_an_unreachable_target_raises_target_unreachable_once_retries_are_spent() -> (
    None
):
    error = httpx.ConnectError("[Errno 111] Connection refused")
    client, sleeps, _, _ = _client(_sequence(error, error), retries=1)
    with pytest.raises(TargetUnreachable, match=r"cannot reach gw\.example"):
        client.request("GET", "models")
    assert sleeps == [1.0]


def test_the_request_budget_stops_the_run_with_a_clear_error() -> None:
    client, _, _, _ = _client(_sequence(200, 200, 200), budget=2)
    client.request("GET", "models")
    client.request("GET", "models")
    with pytest.raises(RequestBudgetExhausted, match="request budget exhausted"):
        client.request("GET", "models")


def test_retries_count_against_the_budget() -> None:
    client, _, _, _ = _client(_sequence(503, 503, 200), retries=3, budget=2)
    with pytest.raises(RequestBudgetExhausted):
        client.request("GET", "models")


def test_key_roles_literal_keys_and_no_key_set_the_authorization_header() -> None:
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("authorization"))
        return httpx.Response(200)

    client, _, _, _ = _client(handler)
    client.request("GET", "models")
    client.request("GET", "models", key="qbt_literal_value_1")
    client.request("GET", "models", key=None)
    assert seen == [f"Bearer {CANARY}", "Bearer qbt_literal_value_1", None]


def test_an_unconfigured_key_role_skips_the_test() -> None:
    client, _, _, _ = _client(_sequence(200))
    with pytest.raises(MissingKey, match="QBTSUITE_ZERO_BALANCE_KEY"):
        client.request("GET", "models", key="zero_balance")


def test_paths_join_the_base_url_and_absolute_urls_pass_through() -> None:
    urls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        urls.append(str(request.url))
        return httpx.Response(200)

    client, _, _, _ = _client(handler)
    client.request("GET", "/models")
    client.request("GET", "chat/completions")
    client.request("GET", "http://gw.example/v1/models", key=None)
    assert urls == [
        "https://gw.example/v1/models",
        "https://gw.example/v1/chat/completions",
        "http://gw.example/v1/models",
    ]


def test_redirects_are_not_followed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(308, headers={"Location": "https://gw.example/v1/models"})

    client, _, _, _ = _client(handler)
    assert client.request("GET", "http://gw.example/v1/models").status_code == 308


def test_the_transcript_shows_the_exchange_but_never_the_key() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": {"message": f"bad key {CANARY}"}})

    client, _, _, exchanges = _client(handler)
    exchange = client.request(
        "POST", "chat/completions", json={"model": "m", "messages": []}
    )
    text = exchange.transcript
    assert "> POST https://gw.example/v1/chat/completions" in text
    assert "> authorization: Bearer [REDACTED]" in text
    assert '"model": "m"' in text
    assert "< HTTP/1.1 401 Unauthorized" in text
    assert CANARY not in text
    assert exchanges == [exchange]


def test_timings_are_ordered_and_stream_chunks_keep_their_arrival_times() -> None:
    ticks = iter(float(i) for i in range(100))

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=iter([b"data: 1\n\n", b"data: 2\n\n"]))

    client, _, _, _ = _client(handler)
    client._clock = lambda: next(ticks)  # a deterministic clock
    exchange = client.request("POST", "completions", json={}, stream=True)
    assert exchange.sent < exchange.first_byte <= exchange.done
    assert exchange.chunks is not None
    assert [c for c, _ in exchange.chunks] == [b"data: 1\n\n", b"data: 2\n\n"]
    times = [t for _, t in exchange.chunks]
    assert times == sorted(times) and times[0] >= exchange.first_byte


def test_stream_request_yields_chunks_and_records_the_exchange_on_close() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            headers={"content-type": "text/event-stream"},
            content=iter([b"data: a\n\n", b"data: [DONE]\n\n"]),
        )

    client, _, _, exchanges = _client(handler)
    with client.stream_request(
        "POST", "chat/completions", json={"stream": True}
    ) as stream:
        assert stream.status_code == 200
        body = b"".join(chunk for chunk, _ in stream)
    assert body == b"data: a\n\ndata: [DONE]\n\n"
    assert stream.first_chunk is not None
    assert len(exchanges) == 1 and "data: [DONE]" in exchanges[0].transcript


def test_a_local_budget_counts_requests() -> None:
    budget = RequestBudget(1)
    budget.take()
    assert budget.used == 1
    with pytest.raises(RequestBudgetExhausted):
        budget.take()
