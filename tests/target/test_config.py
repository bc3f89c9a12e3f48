"""Target configuration: precedence, validation, derived values, secrets."""

from __future__ import annotations

from pathlib import Path

import pytest
import trustme

from qbtsuite.errors import ConfigError
from qbtsuite.target.config import (
    CATALOGUE,
    EMBEDDED_LOW_LIMIT_RPM,
    EMBEDDED_REQUEST_BUDGET,
    Secret,
    TargetConfig,
    load_settings,
)
from qbtsuite.target.embedded import ServerTarget

CANARY = "qbt_canary_0123456789abcdef"


def _toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "target.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_command_line_beats_environment_beats_file_beats_defaults(
    tmp_path: Path,
) -> None:
    file = _toml(
        tmp_path,
        'base_url = "https://file.example/v1"\nretries = 1\nrequest_budget = 50\n'
        "[timeouts]\nread = 5\n",
    )
    env = {"QUBITTRON_BASE_URL": "https://env.example/v1", "QBTSUITE_RETRIES": "2"}
    settings = load_settings({"base_url": "https://cli.example/v1"}, env, file)
    target = settings.target(require_key=False)
    assert target.base_url == "https://cli.example/v1"  # CLI over env and file
    assert target.retries == 2  # env over file
    assert target.request_budget == 50  # file over default
    assert target.read_timeout == 5.0
    assert target.connect_timeout == 10.0  # default
    assert target.upload_cap == 25 * 1024 * 1024  # default


def test_config_file_from_environment_variable_is_read(tmp_path: Path) -> None:
    file = _toml(tmp_path, 'base_url = "https://file.example/v1"\n')
    settings = load_settings({}, {"QBTSUITE_CONFIG": str(file)})
    assert settings.base_url == "https://file.example/v1"


def test_empty_environment_values_count_as_unset() -> None:
    settings = load_settings({}, {"QUBITTRON_BASE_URL": "", "QBTSUITE_RETRIES": ""})
    assert settings.needs_embedded
    assert "retries" not in settings.values


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://api.example/v1", "scheme must be https:// or http://"),
        ("https:///v1", "no host"),
        ("api.example/v1", "scheme must be"),
        ("https://user:pw@api.example/v1", "credentials in the URL"),
        ("https://api.example/v1?x=1", "no query"),
        ("https://api.example:99999/v1", "port"),
        ("https://api example/v1", "spaces"),
    ],
)
def test_a_bad_base_url_is_a_config_error_with_one_clear_line(
    url: str, reason: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({"base_url": url}, {})
    message = str(info.value)
    assert reason in message
    assert "\n" not in message
    assert "pw" not in message


def test_http_url_is_derived_from_the_base_url_on_port_80() -> None:
    settings = load_settings({"base_url": "https://api.example:8443/v1/"}, {})
    target = settings.target(require_key=False)
    assert target.base_url == "https://api.example:8443/v1"
    assert target.http_url == "http://api.example/v1"


def test_an_http_base_url_is_its_own_plain_http_url() -> None:
    settings = load_settings({"base_url": "http://127.0.0.1:8080/v1"}, {})
    assert settings.target(require_key=False).http_url == "http://127.0.0.1:8080/v1"


def test_http_url_can_be_given() -> None:
    env = {
        "QUBITTRON_BASE_URL": "https://a.example/v1",
        "QBTSUITE_HTTP_URL": "http://a.example:8080/v1",
    }
    assert (
        load_settings({}, env).target(require_key=False).http_url
        == "http://a.example:8080/v1"
    )


def test_a_remote_target_without_a_main_key_is_a_config_error() -> None:
    settings = load_settings({"base_url": "https://a.example/v1"}, {})
    with pytest.raises(ConfigError, match="QUBITTRON_API_KEY"):
        settings.target()


def test_keys_come_from_the_environment_as_secrets() -> None:
    env = {
        "QUBITTRON_BASE_URL": "https://a.example/v1",
        "QUBITTRON_API_KEY": CANARY,
        "QBTSUITE_SECOND_KEY": CANARY + "2",
    }
    target = load_settings({}, env).target()
    main = target.key("main")
    assert main is not None and main.reveal() == CANARY
    assert target.has_key("second") and not target.has_key("zero_balance")
    assert CANARY not in repr(target)
    assert CANARY not in str(target.redacted())


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("QBTSUITE_RETRIES", "7", "between 0 and 3"),
        ("QBTSUITE_RETRIES", "two", "expected an integer"),
        ("QBTSUITE_TIMEOUT", "-1", "positive"),
        ("QBTSUITE_INSECURE", "maybe", "true or false"),
        ("QBTSUITE_CA_BUNDLE", "/nonexistent/ca.pem", "file not found"),
        ("QBTSUITE_CAPABILITIES", "images,Bad Name", "capability"),
        ("QBTSUITE_DEADLINE", "0", "positive"),
        ("QBTSUITE_STREAM_DEADLINE", "soon", "number of seconds"),
        ("QBTSUITE_MAX_BODY", "12", ">= 1024"),
        ("QBTSUITE_NO_ANSWER_LIMIT", "-1", ">= 0"),
        ("QUBITTRON_BASE_URL", "https://[::1", "not a URL"),
        ("QBTSUITE_MAIN_KEY_RPM", "0", ">= 1"),
        ("QBTSUITE_MAX_THROTTLE_WAIT", "-5", "seconds >= 0"),
        ("QBTSUITE_MAX_THROTTLE_WAIT", "long", "a number of seconds"),
    ],
)
def test_bad_values_name_their_source_and_setting(
    variable: str, value: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({}, {variable: value})
    assert str(info.value).startswith("environment: ")
    assert expected in str(info.value)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not a certificate\n",
        b"\x00\x01binary",
        b"-----BEGIN CERTIFICATE-----\nAA\n",
    ],
    ids=["empty", "text", "binary", "broken-pem"],
)
def test_a_ca_bundle_that_is_not_pem_is_a_config_error_naming_the_file(
    tmp_path: Path, content: bytes
) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_bytes(content)
    with pytest.raises(ConfigError) as info:
        load_settings({}, {"QBTSUITE_CA_BUNDLE": str(ca)})
    assert "is not a PEM CA bundle" in str(info.value)
    assert str(ca) in str(info.value) and "\n" not in str(info.value)


def test_deadlines_caps_and_the_no_answer_limit_come_from_every_source(
    tmp_path: Path,
) -> None:
    file = _toml(
        tmp_path,
        "[timeouts]\ndeadline = 7\nstream_deadline = 70\n"
        "[limits]\nbody = 2048\nheaders = 4096\nno_answer = 5\n",
    )
    env = {"QBTSUITE_STREAM_DEADLINE": "9", "QBTSUITE_MAX_HEADERS": "8192"}
    cli = {"base_url": "https://a.example/v1", "no_answer_limit": 0}
    target = load_settings(cli, env, file).target(require_key=False)
    assert (target.deadline, target.stream_deadline) == (7.0, 9.0)
    assert (target.max_body, target.max_headers) == (2048, 8192)
    assert target.no_answer_limit == 0
    default = load_settings({"base_url": "https://a.example/v1"}, {}).target(
        require_key=False
    )
    assert (default.deadline, default.stream_deadline) == (30.0, 120.0)
    assert (default.max_body, default.max_headers) == (64 * 1024**2, 64 * 1024)
    assert default.no_answer_limit == 3


def test_a_bad_key_value_is_not_echoed() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({}, {"QUBITTRON_API_KEY": "qbt_abc def_secret"})
    assert "def_secret" not in str(info.value)


def test_unknown_settings_in_the_file_are_errors(tmp_path: Path) -> None:
    file = _toml(tmp_path, 'base_ulr = "https://a.example/v1"\n')
    with pytest.raises(ConfigError, match="unknown setting 'base_ulr'"):
        load_settings({}, {}, file)
    file = _toml(tmp_path, "[models]\nspeech = 'x'\n")
    with pytest.raises(ConfigError, match=r"models\.speech"):
        load_settings({}, {}, file)


def test_a_missing_or_broken_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings({}, {}, tmp_path / "none.toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings({}, {}, _toml(tmp_path, "base_url = \n"))


def test_models_and_capabilities_from_every_source(tmp_path: Path) -> None:
    file = _toml(tmp_path, '[models]\nchat = "file-model"\nembeddings = "bge-m3"\n')
    env = {
        "QBTSUITE_MODELS_CHAT": "env-model",
        "QBTSUITE_CAPABILITIES": "images, transcriptions",
    }
    settings = load_settings({"base_url": "https://a.example/v1"}, env, file)
    target = settings.target(require_key=False)
    assert target.model("chat") == "env-model"
    assert target.model("embeddings") == "bge-m3"
    assert target.model("images") is None
    assert target.capabilities == ("images", "transcriptions")
    none = load_settings({}, {"QBTSUITE_CAPABILITIES": "none"})
    assert none.values["capabilities"] == ()


def test_insecure_and_ca_bundle_decide_verification(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(ca))
    base = {"base_url": "https://a.example/v1"}
    assert load_settings(base, {}).target(require_key=False).verify is True
    with_ca = load_settings({**base, "ca_bundle": str(ca)}, {}).target(
        require_key=False
    )
    assert with_ca.verify == str(ca.resolve())
    insecure = load_settings({**base, "insecure": True}, {}).target(require_key=False)
    assert insecure.verify is False


def test_the_embedded_server_becomes_a_target_with_its_keys_and_ca() -> None:
    server = ServerTarget(
        https_url="https://127.0.0.1:1/v1",
        http_url="http://127.0.0.1:2/v1",
        ca="/tmp/ca.pem",
        keys={"main": CANARY, "low_limit": CANARY + "L"},
        faults=[],
        rate_window=10.0,
        upload_cap=123,
        latency={},
    )
    target = load_settings({}, {"QBTSUITE_RETRIES": "1"}).embedded(server)
    assert target.embedded and target.base_url == server.https_url
    assert target.http_url == server.http_url and target.ca_bundle == "/tmp/ca.pem"
    assert target.rate_limit_rpm == EMBEDDED_LOW_LIMIT_RPM
    assert target.rate_limit_window == 10.0 and target.upload_cap == 123
    assert target.retries == 1
    assert target.request_budget == EMBEDDED_REQUEST_BUDGET  # the local server is free
    assert target.declares(CATALOGUE) is True  # it serves the documented models
    capped = load_settings({"request_budget": 7}, {}).embedded(server)
    assert capped.request_budget == 7


def test_the_embedded_low_limit_matches_the_reference_server_role() -> None:
    from qbtsuite.server.keys import DEFAULT_ROLES

    assert DEFAULT_ROLES["low_limit"][0] == EMBEDDED_LOW_LIMIT_RPM


def test_a_target_survives_the_trip_to_a_worker() -> None:
    env = {"QUBITTRON_BASE_URL": "https://a.example/v1", "QUBITTRON_API_KEY": CANARY}
    target = load_settings({"capabilities": "images"}, env).target()
    again = TargetConfig.from_wire(target.to_wire())
    assert again.redacted() == target.redacted()
    key = again.key("main")
    assert key is not None and key.reveal() == CANARY


def test_a_secret_never_shows_itself() -> None:
    secret = Secret(CANARY)
    assert CANARY not in repr(secret)
    assert CANARY not in str(secret)
    assert CANARY not in f"{secret}"
    assert secret.reveal() == CANARY


def test_the_commented_example_config_is_valid() -> None:
    example = Path(__file__).resolve().parents[2] / "target.example.toml"
    settings = load_settings({}, {}, example)
    assert settings.base_url == "https://api.qubittron.ai/v1"


def test_the_embedding_width_comes_from_the_environment_or_the_models_table(
    tmp_path: Path,
) -> None:
    base = {"base_url": "https://a.example/v1"}
    env = {"QBTSUITE_EMBEDDING_DIMENSIONS": "768"}
    assert (
        load_settings(base, env).target(require_key=False).embeddings_dimensions == 768
    )
    file = _toml(tmp_path, "[models]\nembeddings = 'e'\nembeddings_dimensions = 384\n")
    target = load_settings(base, {}, file).target(require_key=False)
    assert target.embeddings_dimensions == 384 and target.model("embeddings") == "e"
    assert (
        load_settings(base, {}).target(require_key=False).embeddings_dimensions is None
    )
    with pytest.raises(ConfigError, match="embeddings_dimensions: expected an integer"):
        load_settings(base, {"QBTSUITE_EMBEDDING_DIMENSIONS": "wide"})
    with pytest.raises(ConfigError, match=">= 1, got 0"):
        load_settings(base, {"QBTSUITE_EMBEDDING_DIMENSIONS": "0"})


def _declared(base_url: str, capabilities: str | None = None) -> TargetConfig:
    cli = {"base_url": base_url, "capabilities": capabilities}
    return load_settings(cli, {}).target(require_key=False)


def test_the_catalogue_is_qubittrons_own_by_default_only_on_its_host() -> None:
    assert _declared("https://api.qubittron.ai/v1").declares(CATALOGUE) is True
    assert _declared("https://gateway.example/v1").declares(CATALOGUE) is False
    assert _declared("https://api.qubittron.ai.example/v1").declares(CATALOGUE) is False
    # Other capabilities keep "not declared": their tests run.
    assert _declared("https://gateway.example/v1").declares("images") is None


def test_a_declaration_decides_every_capability_the_catalogue_included() -> None:
    elsewhere = _declared("https://gateway.example/v1", "catalogue,images")
    assert elsewhere.declares(CATALOGUE) is True and elsewhere.declares("images")
    assert elsewhere.declares("transcriptions") is False
    listed = _declared("https://api.qubittron.ai/v1", "images")
    assert listed.declares(CATALOGUE) is False
    assert _declared("https://api.qubittron.ai/v1", "none").declares(CATALOGUE) is False


def test_another_endpoints_model_is_of_another_category_unless_shared() -> None:
    env = {
        "QBTSUITE_MODELS_CHAT": "one-model",
        "QBTSUITE_MODELS_EMBEDDINGS": "one-model",
        "QBTSUITE_MODELS_IMAGES": "painter",
    }
    target = load_settings({"base_url": "https://a.example/v1"}, env).target(
        require_key=False
    )
    assert target.other_category_model("images", "embeddings") == "painter"
    assert target.other_category_model("chat", "embeddings") is None  # shared
    assert target.other_category_model("transcriptions", "embeddings") is None


def test_throttle_settings_come_from_every_source_with_a_two_minute_default(
    tmp_path: Path,
) -> None:
    base = {"QUBITTRON_BASE_URL": "https://gw.example/v1", "QUBITTRON_API_KEY": CANARY}
    default = load_settings({}, base).target()
    assert (default.main_key_rpm, default.max_throttle_wait) == (None, 120.0)
    config = _toml(tmp_path, "max_throttle_wait = 30\n[rate_limit]\nmain_key_rpm = 6\n")
    from_file = load_settings({}, base, config).target()
    assert (from_file.main_key_rpm, from_file.max_throttle_wait) == (6, 30.0)
    env = {**base, "QBTSUITE_MAIN_KEY_RPM": "3", "QBTSUITE_MAX_THROTTLE_WAIT": "0"}
    from_env = load_settings({}, env, config).target()
    assert (from_env.main_key_rpm, from_env.max_throttle_wait) == (3, 0.0)
    cli = {"main_key_rpm": 12, "max_throttle_wait": 3600}
    from_cli = load_settings(cli, env, config).target()
    assert (from_cli.main_key_rpm, from_cli.max_throttle_wait) == (12, 3600.0)
    assert TargetConfig.from_wire(from_cli.to_wire()).main_key_rpm == 12
