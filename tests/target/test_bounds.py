"""Every exchange ends within its deadline and its size caps, blaming the target.

The suite's client against the hostile server (``tests.hostile``, plain HTTP, one
misbehaviour per mode) with deadlines of a second and caps of a MiB: trickled and
endless answers stop at the deadline, bombs and floods at the cap, broken answers
say what broke, and the breaker stops a run whose target no longer answers.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from qbtsuite.errors import (
    AnswerTooLarge,
    BrokenAnswer,
    NoCompleteAnswer,
    TargetNotAnswering,
    TargetUnreachable,
)
from qbtsuite.target.breaker import Breaker, SharedBreaker, breaker_file, tripped
from qbtsuite.target.client import SuiteClient
from qbtsuite.target.config import TargetConfig, load_settings
from qbtsuite.target.discovery import listed_models, probe
from qbtsuite.target.exchange import Exchange
from tests.hostile.modes import Settings
from tests.hostile.payloads import MIB
from tests.hostile.rawclient import TEST_KEY
from tests.hostile.server import HostileServer

FAST = Settings(
    byte_interval=0.05,
    chunk_interval=0.01,
    continue_interval=0.005,
    body_size=16 * MIB,
    depth=100_000,
)
COMPLETION = {"model": "gpt-oss-120b", "prompt": "Hi", "max_tokens": 2}
STREAM = {**COMPLETION, "stream": True}
DEADLINE = 1.0
SLACK = 2.0  # seconds past a deadline a busy machine may take to notice


def _config(url: str, **values: Any) -> TargetConfig:
    env = {"QUBITTRON_BASE_URL": url, "QUBITTRON_API_KEY": TEST_KEY}
    cli = {
        "deadline": DEADLINE,
        "stream_deadline": DEADLINE,
        "max_body": MIB,
        "no_answer_limit": 0,
        **values,
    }
    return load_settings(cli, env).target()


@contextmanager
def client(
    mode: str, *, scope: str = "endpoints", **values: Any
) -> Iterator[tuple[SuiteClient, list[Exchange]]]:
    with HostileServer(mode, plain=True, scope=scope, settings=FAST) as info:
        seen: list[Exchange] = []
        config = _config(info.url, **values)
        breaker = Breaker(config.no_answer_limit)
        api = SuiteClient(config, breaker=breaker, on_exchange=seen.append)
        try:
            yield api, seen
        finally:
            api.close()


def _timed(fn: Any) -> tuple[BaseException, float]:
    started = time.monotonic()
    with pytest.raises(Exception) as info:
        fn()
    return info.value, time.monotonic() - started


# ─── deadlines ───────────────────────────────────────────────────────────────


@pytest.mark.slow
@pytest.mark.parametrize(
    "mode", ["trickle", "slow-headers", "continue-flood", "silent"]
)
def test_an_answer_whose_head_never_completes_fails_at_the_deadline(mode: str) -> None:
    with client(mode) as (api, seen):
        failure, took = _timed(
            lambda: api.request("POST", "completions", json=COMPLETION)
        )
    assert isinstance(failure, NoCompleteAnswer), repr(failure)
    assert failure.no_answer
    assert f"within {DEADLINE:g} s" in failure.received
    assert DEADLINE - 0.1 <= took <= DEADLINE + SLACK, f"took {took:.2f} s"
    assert len(seen) == 1 and "(no response)" in seen[0].transcript


@pytest.mark.slow
def test_the_bytes_a_trickled_head_delivered_are_in_the_transcript() -> None:
    with client("trickle") as (api, seen):
        with pytest.raises(NoCompleteAnswer) as info:
            api.request("POST", "completions", json=COMPLETION)
    assert "bytes received" in info.value.received
    assert "first bytes received: b'HTTP/1.1 2" in seen[0].transcript


@pytest.mark.slow
def test_an_endless_stream_fails_at_the_stream_deadline_with_what_it_sent() -> None:
    with client("endless-stream", stream_deadline=1.5) as (api, seen):
        failure, took = _timed(
            lambda: api.request("POST", "completions", json=STREAM, stream=True)
        )
    assert isinstance(failure, NoCompleteAnswer) and not failure.no_answer
    assert "bytes of the body within 1.5 s, not the end" in failure.received
    assert 1.4 <= took <= 1.5 + SLACK
    assert "cmpl-endless" in seen[0].transcript  # the first events, as evidence


@pytest.mark.slow
def test_a_json_answer_gets_the_short_deadline_and_a_stream_the_long_one() -> None:
    with client("endless-stream", deadline=0.5, stream_deadline=1.5) as (api, _):
        _, short = _timed(lambda: api.request("POST", "embeddings", json={}))
        _, long = _timed(
            lambda: api.request("POST", "completions", json=STREAM, stream=True)
        )
    assert short < 0.5 + SLACK and long >= 1.4


# ─── size caps ───────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("mode", "evidence"),
    [
        ("huge-body", "more than 1048576 (not read)"),  # its Content-Length says so
        ("flood", "more than 1048576 bytes, reading stopped at"),
        ("gzip-bomb", "(inflated from"),
    ],
)
def test_a_body_past_the_cap_fails_with_its_size_and_stops_being_read(
    mode: str, evidence: str
) -> None:
    with client(mode) as (api, seen):
        with pytest.raises(AnswerTooLarge) as info:
            api.request("POST", "completions", json=COMPLETION)
    assert info.value.what == "body" and evidence in info.value.received
    assert len(seen[0].body) <= 8 * 1024  # the transcript keeps a little of it


def test_a_stream_past_the_cap_fails_too() -> None:
    with client("sse-endless-line", stream_deadline=10) as (api, _):
        with pytest.raises(AnswerTooLarge):
            api.request("POST", "completions", json=STREAM, stream=True)


def test_header_fields_past_the_cap_fail_with_their_size() -> None:
    with client("big-headers") as (api, seen):
        with pytest.raises(AnswerTooLarge) as info:
            api.request("POST", "completions", json=COMPLETION)
    assert info.value.what == "header fields"
    assert "bytes in all" in info.value.received
    assert len(seen[0].transcript) < 8000  # shortened, the size noted
    assert "more header fields" in seen[0].transcript


def test_a_header_block_too_large_for_http11_is_a_broken_answer() -> None:
    with client("huge-headers") as (api, _):
        with pytest.raises(BrokenAnswer) as info:
            api.request("POST", "completions", json=COMPLETION)
    assert "not valid HTTP/1.1" in info.value.title


# ─── broken answers blame the target ─────────────────────────────────────────


def test_a_reset_says_reset_by_the_target_after_n_bytes() -> None:
    with client("reset") as (api, _):
        exchange = api.request("POST", "completions", json=COMPLETION)
        assert exchange.error.startswith("reset by the target after ")
        with pytest.raises(BrokenAnswer) as info:
            exchange.json()
    assert "reset by the target" in info.value.received


def test_a_body_shorter_than_its_content_length_says_it_broke_off() -> None:
    with client("short-body") as (api, _):
        exchange = api.request("POST", "completions", json=COMPLETION)
    assert exchange.error.startswith("the answer broke off after ")


@pytest.mark.parametrize(
    ("mode", "title"),
    [
        ("bad-utf8-json", "The JSON body is not UTF-8"),
        ("deep-json", "The JSON body nests too deeply to decode"),
        ("garbage", "The answer is not valid HTTP/1.1"),
    ],
)
def test_an_unreadable_json_answer_is_a_failure_of_the_target(
    mode: str, title: str
) -> None:
    with client(mode) as (api, _):
        with pytest.raises(BrokenAnswer) as info:
            api.request("POST", "completions", json=COMPLETION).json()
    assert info.value.title == title
    assert isinstance(info.value, ValueError)  # what callers of .json() catch


# ─── the breaker ─────────────────────────────────────────────────────────────


@pytest.mark.slow
def test_after_k_unanswered_exchanges_the_client_stops_sending() -> None:
    with client("silent", no_answer_limit=2) as (api, seen):
        for _ in range(2):
            with pytest.raises(NoCompleteAnswer):
                api.request("POST", "completions", json=COMPLETION)
        failure, took = _timed(lambda: api.request("POST", "completions", json={}))
        used = api.budget.used
    assert isinstance(failure, TargetNotAnswering)
    assert "2 exchanges in a row got no answer within their deadline" in str(failure)
    assert took < 0.2 and used == 2 and len(seen) == 2  # nothing more was sent


@pytest.mark.slow
def test_an_answer_starts_the_count_again_and_other_origins_do_not_count() -> None:
    breaker = Breaker(2)
    with HostileServer("normal", plain=True) as normal:
        with HostileServer("silent", plain=True, settings=FAST) as silent:
            api = SuiteClient(_config(silent.url), breaker=breaker)
            with pytest.raises(NoCompleteAnswer):
                api.request("POST", "completions", json=COMPLETION)
            assert api.request("GET", "models").status_code == 200
            with pytest.raises(NoCompleteAnswer):
                api.request("POST", "completions", json=COMPLETION)
            assert breaker.state.in_a_row == 1
            api.request("GET", normal.url + "/models")  # another origin
            assert breaker.state.in_a_row == 1
            api.close()
    assert not breaker.state.tripped


def test_the_shared_breaker_counts_across_processes_and_the_run_reads_it(
    tmp_path: Path,
) -> None:
    path = breaker_file(tmp_path)
    one, two = SharedBreaker(3, path), SharedBreaker(3, path)
    one.unanswered("timed out")
    two.unanswered("timed out")
    assert tripped(tmp_path) is None
    one.answered()
    assert two.state.in_a_row == 0
    for _ in range(3):
        two.unanswered("no answer within 1 s")
    with pytest.raises(TargetNotAnswering):
        one.admit()
    state = tripped(tmp_path)
    assert state is not None and state.limit == 3 and state.last.startswith("no answer")


def test_a_limit_of_zero_never_trips() -> None:
    breaker = Breaker(0)
    for _ in range(10):
        breaker.unanswered("x")
    breaker.admit()
    assert not breaker.state.tripped


# ─── the probe ───────────────────────────────────────────────────────────────


@pytest.mark.slow
def test_the_probe_says_it_connected_and_what_got_no_answer_in_time() -> None:
    with HostileServer("silent", plain=True, scope="all") as info:
        config = _config(info.url)
        started = time.monotonic()
        with pytest.raises(TargetUnreachable) as failure:
            probe(config)
        took = time.monotonic() - started
    assert "connected, but no answer to GET /v1/models within 1 s" in str(failure.value)
    assert took < DEADLINE + SLACK


@pytest.mark.slow
def test_the_models_listing_is_bounded_like_any_exchange() -> None:
    with HostileServer("trickle", plain=True, scope="all", settings=FAST) as info:
        config = _config(info.url)
        api = SuiteClient(config)
        started = time.monotonic()
        assert listed_models(config, api.http) is None
        api.close()
    assert time.monotonic() - started < DEADLINE + SLACK
