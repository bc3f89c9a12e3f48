"""Extra headers (-H): from every source, sent to the target's hosts only, and a
secret-looking value never shown."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from qbtsuite import redact
from qbtsuite.errors import ConfigError
from qbtsuite.results.model import TargetSummary
from qbtsuite.target.client import SuiteClient, build_http_client
from qbtsuite.target.config import TargetConfig, load_settings
from qbtsuite.target.headers import looks_secret, parse_headers

PROXY_SECRET = "proxy_canary_0123456789abcdef"
ENV = {
    "QUBITTRON_BASE_URL": "https://gw.example/v1",
    "QUBITTRON_API_KEY": "qbt_k_0123456789",
}


def _target(
    cli: list[str] | None = None,
    env: dict[str, str] | None = None,
    config: Path | None = None,
) -> TargetConfig:
    return load_settings({"headers": cli}, {**ENV, **(env or {})}, config).target()


def test_headers_come_from_the_command_line_the_environment_and_the_file(
    tmp_path: Path,
) -> None:
    toml = tmp_path / "target.toml"
    toml.write_text('[headers]\nX-From-File = "f"\nX-Shared = "file"\n')
    target = _target(
        ["X-Shared: cli", "x-from-cli: c"],
        {"QBTSUITE_HEADERS": "X-From-Env: e\nX-Shared: env"},
        toml,
    )
    # every source adds; for one name (any case) the higher source wins
    assert dict(target.headers) == {
        "X-From-File": "f",
        "X-From-Env": "e",
        "X-Shared": "cli",
        "x-from-cli": "c",
    }


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ("no colon here", "expected 'Name: value'"),
        (
            "Authorization: Bearer x",
            "Authorization is set by the suite itself from the configured keys",
        ),
        ("Content-Length: 3", "Content-Length is set by the suite itself"),
        ("Bad Name: v", "'Bad Name' is not a header name"),
    ],
)
def test_a_header_that_cannot_be_sent_is_one_config_error(
    given: str, said: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        _target([given])
    assert str(caught.value).startswith(f"command line: headers: {said}")


def test_a_malformed_secret_header_is_refused_without_its_value() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({}, {**ENV, "QBTSUITE_HEADERS": f"X-Api-Token {PROXY_SECRET}"})
    assert PROXY_SECRET not in str(caught.value)


def test_names_that_carry_credentials_look_secret() -> None:
    for name in (
        "Proxy-Authorization",
        "X-Api-Key",
        "Cookie",
        "X-Auth-Token",
        "X-Client-Secret",
    ):
        assert looks_secret(name), name
    for name in ("X-Request-Id", "User-Agent", "X-Team"):
        assert not looks_secret(name), name
    assert parse_headers({"X-Team": " a "}) == {"X-Team": "a"}


def test_headers_go_to_the_target_s_hosts_only_and_transcripts_hide_secret_values() -> (
    None
):
    target = _target([f"X-Proxy-Token: {PROXY_SECRET}", "X-Team: qa"])
    seen: dict[str, httpx.Headers] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen[request.url.host] = request.headers
        return httpx.Response(200, json={}, request=request)

    transcripts: list[str] = []
    client = SuiteClient(
        target,
        http=build_http_client(target, httpx.MockTransport(handler)),
        on_exchange=lambda e: transcripts.append(e.transcript),
    )
    client.request("GET", "models")
    client.request("GET", "https://images.cdn.example/a.png", key=None)
    assert seen["gw.example"]["x-proxy-token"] == PROXY_SECRET
    assert seen["gw.example"]["x-team"] == "qa"
    assert "x-proxy-token" not in seen["images.cdn.example"]  # not for another host
    assert "x-team" not in seen["images.cdn.example"]
    assert "> x-proxy-token: [REDACTED]" in transcripts[0]
    assert "> x-team: qa" in transcripts[0]
    assert PROXY_SECRET not in "".join(transcripts)


def test_the_results_name_a_secret_header_and_hide_its_value() -> None:
    target = _target([f"X-Proxy-Token: {PROXY_SECRET}", "X-Team: qa"])
    summary = TargetSummary.of(target).to_json()
    assert summary["headers"] == {"X-Proxy-Token": "[REDACTED]", "X-Team": "qa"}
    assert PROXY_SECRET not in json.dumps(target.redacted())
    assert PROXY_SECRET not in redact.scrub(f"leak {PROXY_SECRET}")  # registered
    # workers get the real value, as they get the keys
    again = TargetConfig.from_wire(target.to_wire())
    assert again.headers["X-Proxy-Token"] == PROXY_SECRET
