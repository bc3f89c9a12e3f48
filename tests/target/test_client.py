"""The suite's client: retry policy, budget, keys, timings and transcripts.

All against ``httpx.MockTransport`` with an injected sleep: no network, no waiting.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from qbtsuite.errors import (
    MissingKey,
    RequestBudgetExhausted,
    TargetUnreachable,
    Throttled,
)
from qbtsuite.target.budget import RequestBudget
from qbtsuite.target.client import (
    BACKOFF,
    SuiteClient,
    build_http_client,
)
from qbtsuite.target.config import load_settings
from qbtsuite.target.exchange import Exchange, RetryEvent
from qbtsuite.target.throttle import (
    MainKeyPacer,
    Throttle,
    ThrottleEvent,
    ThrottlePolicy,
    WaitAllowance,
)

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


@pytest.mark.parametrize("status", [400, 401, 404, 413])
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


# ─── throttle answers (target/throttle.py) ───────────────────────────────────


def _throttled_client(
    handler: Handler, *, retries: int = 0, **extra_env: str
) -> tuple[SuiteClient, list[float], list[RetryEvent], list[ThrottleEvent]]:
    env = {
        "QUBITTRON_BASE_URL": "https://gw.example/v1",
        "QUBITTRON_API_KEY": CANARY,
        "QBTSUITE_RETRIES": str(retries),
        **extra_env,
    }
    config = load_settings({}, env).target()
    sleeps: list[float] = []
    retried: list[RetryEvent] = []
    events: list[ThrottleEvent] = []
    client = SuiteClient(
        config,
        http=build_http_client(config, httpx.MockTransport(handler)),
        sleep=sleeps.append,
        on_retry=retried.append,
        on_throttle=events.append,
    )
    return client, sleeps, retried, events


def _answers(*answers: tuple[int, dict[str, str]]) -> Handler:
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        status, headers = queue.pop(0)
        body = {"error": {"code": "rate_limit_exceeded"}} if status == 429 else {}
        return httpx.Response(status, headers=headers, json=body, request=request)

    return handler


def test_a_429_of_the_main_key_is_waited_out_and_sent_again_never_as_a_retry() -> None:
    handler = _answers((429, {"Retry-After": "21"}), (200, {}))
    client, sleeps, retried, events = _throttled_client(handler, retries=3)
    exchange = client.request("GET", "models")
    assert exchange.status_code == 200 and exchange.retries == []
    assert sleeps == [21.0] and retried == []
    assert [(e.answer.status, e.resolved) for e in events] == [(429, True)]
    assert client.budget.used == 2  # the second sending is a request of the budget


def test_a_5xx_with_retry_after_is_a_throttle_not_a_retry_of_the_5xx_policy() -> None:
    handler = _answers((503, {"Retry-After": "2"}), (200, {}))
    client, sleeps, retried, events = _throttled_client(handler, retries=3)
    assert client.request("GET", "models").status_code == 200
    assert sleeps == [2.0] and retried == []
    assert events[0].answer.status == 503 and events[0].resolved


def test_a_throttle_not_waited_out_is_transcribed_then_raised_as_throttled() -> None:
    exchanges: list[Exchange] = []
    client, sleeps, _, events = _throttled_client(_answers((429, {})))
    client._on_exchange = exchanges.append
    with pytest.raises(Throttled, match="the main key was throttled") as raised:
        client.request("GET", "models")
    assert raised.value.role == "main"
    assert "no Retry-After" in str(raised.value)
    assert sleeps == [] and not events[0].resolved
    assert "< HTTP/1.1 429 Too Many Requests" in exchanges[0].transcript


def test_a_key_the_test_spends_gets_its_429_as_it_came() -> None:
    handler = _answers((429, {"Retry-After": "5"}))
    client, sleeps, _, events = _throttled_client(
        handler, QBTSUITE_LOW_LIMIT_KEY="qbt_low_limit_key_value_1"
    )
    spending = client.bind(policy=ThrottlePolicy(frozenset({"low_limit"})))
    assert spending.request("GET", "models", key="low_limit").status_code == 429
    assert sleeps == [] and events == []


def test_a_body_factory_is_called_again_for_the_second_sending() -> None:
    bodies: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(request.read())
        status = 429 if len(bodies) == 1 else 200
        return httpx.Response(status, headers={"Retry-After": "1"}, request=request)

    client, sleeps, _, _ = _throttled_client(handler)

    def body() -> Iterator[bytes]:
        yield b"x" * 10

    exchange = client.request("POST", "audio/transcriptions", content=body)
    assert exchange.status_code == 200
    assert bodies == [b"x" * 10, b"x" * 10] and sleeps == [1.0]


def test_a_generator_body_cannot_be_sent_twice_so_its_throttle_is_unresolved() -> None:
    client, sleeps, _, _ = _throttled_client(_answers((429, {"Retry-After": "1"})))

    def body() -> Iterator[bytes]:
        yield b"x"

    with pytest.raises(Throttled, match="cannot be sent a second time"):
        client.request("POST", "audio/transcriptions", content=body())
    assert sleeps == []


def test_a_stream_request_throttled_for_good_raises_before_yielding() -> None:
    client, _, _, _ = _throttled_client(_answers((429, {})))
    with pytest.raises(Throttled):
        with client.stream_request("POST", "chat/completions", json={}):
            pytest.fail("the block must not run on a throttle answer")


def test_the_main_key_is_paced_when_its_limit_is_declared(tmp_path: Path) -> None:
    config = load_settings(
        {}, {"QUBITTRON_BASE_URL": "https://gw.example/v1", "QUBITTRON_API_KEY": CANARY}
    ).target()
    sleeps: list[float] = []
    paced: list[float] = []
    pacer = MainKeyPacer(1, tmp_path / "pace", margin=0.0, clock=lambda: 0.0)
    client = SuiteClient(
        config,
        http=build_http_client(config, httpx.MockTransport(_sequence(200, 200, 200))),
        throttle=Throttle(WaitAllowance(0), pacer, sleep=sleeps.append),
        on_pace=paced.append,
    )
    client.request("GET", "models")
    client.request("GET", "models", key=None)  # no key: nothing to pace
    client.request("GET", "models")
    assert sleeps == [60.0] and paced == [60.0]


def test_the_role_of_an_authorization_value_is_the_key_it_carries() -> None:
    client, _, _, _ = _throttled_client(_answers())
    assert client.role_of(f"Bearer {CANARY}") == "main"
    assert client.role_of(f"bearer  {CANARY} ") == "main"  # malformed, still the key
    assert client.role_of("Bearer qbt_someone_else") is None
    assert client.role_of(None) is None
