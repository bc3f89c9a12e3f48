"""Optional capabilities: declared once, named by the catalogue, carried by every
test of them, and gating what a run sends.

The table is :data:`qbtsuite.capabilities.CAPABILITIES`; the catalogue names the
capabilities of each optional requirement; the conformance tests carry
``capability(name)``. These tests hold the three together, then drive the plugin
with a small suite of its own to check what declaring (or not) does.
"""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path
from typing import Any

import pytest

from qbtsuite.capabilities import CAPABILITIES, Assumed, by_endpoint
from qbtsuite.cli import main
from qbtsuite.errors import ConfigError
from qbtsuite.requirements import load_catalogue
from qbtsuite.target.config import TargetConfig, load_settings
from tests.test_requirement_coverage import declarations

pytest_plugins = ["pytester"]

NAME = re.compile(r"^[a-z][a-z0-9_]*$")


# ─── one table, one catalogue, the tests ─────────────────────────────────────


def test_every_capability_has_a_name_and_says_what_it_is() -> None:
    for name, capability in CAPABILITIES.items():
        assert NAME.match(name) and capability.name == name
        assert len(capability.description) > 20, name


def test_every_capability_gates_some_requirement_of_the_catalogue() -> None:
    named = {c for r in load_catalogue() for c in r.capabilities}
    assert set(CAPABILITIES) == named, (
        f"Received: capabilities no requirement needs: {set(CAPABILITIES) - named}\n"
        "Expected: each capability gates at least one requirement"
    )


def test_every_requirement_of_an_optional_endpoint_needs_that_endpoint() -> None:
    wrong = [
        r.id
        for r in load_catalogue()
        if (cap := by_endpoint(r.endpoint)) is not None
        and cap.name not in r.capabilities
    ]
    assert not wrong, f"requirements of images/transcriptions without it: {wrong}"


@pytest.mark.slow
def test_every_capability_on_a_test_is_in_the_table() -> None:
    unknown = {
        (node, c)
        for node, d in declarations().items()
        for c in d["capabilities"]
        if c not in CAPABILITIES
    }
    assert not unknown, f"Received: {sorted(unknown)[:5]}\nExpected: names of the table"


@pytest.mark.slow
def test_every_optional_requirement_is_checked_only_by_tests_carrying_its_capability() -> (
    None
):
    catalogue = load_catalogue()
    bare = sorted(
        (node, rid)
        for node, d in declarations().items()
        for rid in d["requirements"]
        if catalogue[rid].optional
        and not set(catalogue[rid].capabilities) & set(d["capabilities"])
    )
    assert not bare, (
        f"Received: tests of optional requirements without their capability: "
        f"{bare[:5]}\nExpected: each carries capability(name) of the requirement"
    )


@pytest.mark.slow
def test_a_test_carries_every_capability_all_its_requirements_need() -> None:
    # Then a test that needs an undeclared capability is skipped before it sends
    # anything; a requirement needing more than its test (RATE-007 in the
    # rate-limit scenario) is gated alone by the harness.
    catalogue = load_catalogue()
    missing = []
    for node, d in declarations().items():
        needs = [set(catalogue[rid].capabilities) for rid in d["requirements"]]
        common = set.intersection(*needs) if needs else set()
        if not common <= set(d["capabilities"]):
            missing.append((node, sorted(common - set(d["capabilities"]))))
    assert not missing, f"Received: {missing[:5]}"


def test_every_requirement_that_is_not_optional_has_a_test_needing_no_capability() -> (
    None
):
    catalogue = load_catalogue()
    free = {
        rid
        for d in declarations().values()
        if not d["capabilities"]
        for rid in d["requirements"]
    }
    gated = sorted(r.id for r in catalogue if not r.optional and r.id not in free)
    assert not gated, (
        f"Received: {gated}\nExpected: a requirement every test of which needs a "
        "capability is optional (optional = true, capabilities = [...])"
    )


# ─── declaring ───────────────────────────────────────────────────────────────


def test_an_unknown_capability_is_refused_listing_the_valid_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"capabilities": "images,teleport"}, env={})
    message = str(caught.value)
    assert message.startswith(
        "command line: capabilities: unknown capability 'teleport'"
    )
    assert all(name in message for name in CAPABILITIES)


def test_none_declares_nothing_and_a_declaration_is_the_whole_list() -> None:
    settings = load_settings({"capabilities": "none"}, env={})
    assert settings.values["capabilities"] == ()
    config = TargetConfig("https://api.qubittron.ai/v1", "", {}, {}, capabilities=())
    assert all(config.declares(c) is False for c in CAPABILITIES)


def test_without_a_declaration_a_capability_is_assumed_where_its_table_says() -> None:
    own = TargetConfig("https://api.qubittron.ai/v1", "", {}, {})
    other = TargetConfig("https://gw.example/v1", "", {}, {})
    for capability in CAPABILITIES.values():
        expected = {
            Assumed.EVERYWHERE: (None, None),
            Assumed.QUBITTRON: (True, False),
            Assumed.EMBEDDED: (False, False),
        }[capability.assumed]
        assert (own.declares(capability.name), other.declares(capability.name)) == (
            expected
        ), capability.name


@pytest.mark.parametrize(
    ("capability", "env", "message"),
    [
        ("zero_balance", {}, "no zero_balance key is given (QBTSUITE_ZERO_BALANCE_KEY"),
        ("second_key", {}, "no second key is given (QBTSUITE_SECOND_KEY"),
        ("rate_limits", {"QBTSUITE_LOW_LIMIT_KEY": "qbt_low"}, "the low_limit key's limit is not (QBTSUITE_RATE_LIMIT_RPM"),
    ],
)  # fmt: skip
def test_a_declared_capability_without_its_key_is_a_configuration_error(
    capability: str, env: dict[str, str], message: str
) -> None:
    env = {
        "QUBITTRON_BASE_URL": "https://gw.example/v1",
        "QUBITTRON_API_KEY": "qbt_k",
        **env,
    }
    settings = load_settings({"capabilities": capability}, env=env)
    with pytest.raises(ConfigError, match=re.escape(message)):
        settings.target()


def test_requirements_lists_what_a_capability_gates(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["requirements", "--capability", "images", "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)["requirements"]
    expected = [r.id for r in load_catalogue() if "images" in r.capabilities]
    assert [r["id"] for r in listed] == expected and "IMG-001" in expected
    assert main(["requirements", "--capability", "teleport"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown capability 'teleport' (known: images,")
    assert main(["requirements", "--capabilities"]) == 0
    table = capsys.readouterr().out
    assert all(re.search(rf"^{name} +\d+ req\.", table, re.M) for name in CAPABILITIES)


# ─── what a run does with them ───────────────────────────────────────────────

_CATALOGUE = """
[[requirement]]
id = "AUTH-001"
area = "auth"
endpoint = "all"
level = "MUST"
origin = "qubittron"
statement = "A plain requirement."
source = "getting-started.txt"
quote = "q"
optional = false

[[requirement]]
id = "RATE-001"
area = "rate-limits"
endpoint = "all"
level = "MUST"
origin = "qubittron"
statement = "Needs the low-limit key."
source = "getting-started.txt"
quote = "q"
optional = true
capabilities = ["rate_limits"]

[[requirement]]
id = "RATE-002"
area = "rate-limits"
endpoint = "all"
level = "MUST"
origin = "qubittron"
statement = "Needs the second key too."
source = "getting-started.txt"
quote = "q"
optional = true
capabilities = ["rate_limits", "second_key"]
"""

_SUITE = """
import pytest

@pytest.mark.capability("rate_limits")
@pytest.mark.requirement("RATE-001", "RATE-002")
def test_scenario(record):
    with record.check("RATE-001"):
        pass
    with record.check("RATE-002"):
        pass

@pytest.mark.requirement("AUTH-001")
def test_plain():
    pass
"""


@pytest.fixture
def suite(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> pytest.Pytester:
    (pytester.path / "requirements.toml").write_text(_CATALOGUE)
    monkeypatch.setenv("QUBITTRON_BASE_URL", "https://gateway.invalid/v1")
    for variable in (
        "QUBITTRON_API_KEY",
        "QBTSUITE_SECOND_KEY",
        "QBTSUITE_LOW_LIMIT_KEY",
    ):
        monkeypatch.setenv(variable, "qbt_" + secrets.token_urlsafe(24))
    monkeypatch.setenv("QBTSUITE_RATE_LIMIT_RPM", "30")
    for endpoint in ("COMPLETIONS", "CHAT", "EMBEDDINGS", "IMAGES", "TRANSCRIPTIONS"):
        monkeypatch.setenv(f"QBTSUITE_MODELS_{endpoint}", "m")  # no discovery
    return pytester


def _run(
    suite: pytest.Pytester, *args: str, subprocess: bool = False
) -> tuple[pytest.RunResult, dict[str, Any]]:
    out = suite.path / "out"
    run = suite.runpytest_subprocess if subprocess else suite.runpytest
    result = run(
        "-p", "qbtsuite.harness.plugin", "-p", "no:cacheprovider",
        "-p", "no:hypothesispytest",
        "--qbt-catalogue", str(suite.path / "requirements.toml"),
        "--qbt-results-dir", str(out), *args,
    )  # fmt: skip
    path = out / "results.json"
    return result, json.loads(path.read_text()) if path.exists() else {}


def _outcomes(results: dict[str, Any]) -> dict[str, str]:
    return {rid: r["outcome"] for rid, r in results["requirements"].items()}


def test_a_requirement_needing_an_undeclared_capability_is_skipped_inside_a_run_test(
    suite: pytest.Pytester,
) -> None:
    suite.makepyfile(_SUITE)
    _, results = _run(suite, "--qbt-capabilities", "rate_limits")
    assert _outcomes(results) == {
        "AUTH-001": "pass",
        "RATE-001": "pass",
        "RATE-002": "skipped",
    }
    assert results["requirements"]["RATE-002"]["messages"] == [
        f"capability not declared: second_key ({CAPABILITIES['second_key'].description})"
    ]
    _, results = _run(suite, "--qbt-capabilities", "rate_limits,second_key")
    assert set(_outcomes(results).values()) == {"pass"}
    _, results = _run(suite, "--qbt-capabilities", "none")
    assert _outcomes(results) == {
        "AUTH-001": "pass",
        "RATE-001": "skipped",
        "RATE-002": "skipped",
    }
    _, results = _run(suite)  # nothing declared: everything runs
    assert set(_outcomes(results).values()) == {"pass"}


def test_a_test_naming_an_unknown_capability_is_a_collection_error(
    suite: pytest.Pytester,
) -> None:
    suite.makepyfile(
        """
        import pytest
        @pytest.mark.capability("teleport")
        @pytest.mark.requirement("AUTH-001")
        def test_x():
            pass
        """
    )
    result, _ = _run(suite)
    result.stdout.fnmatch_lines(
        ["*::test_x: unknown capability 'teleport'", "(known capabilities: images, *"]
    )
    assert result.ret == pytest.ExitCode.INTERRUPTED


@pytest.mark.slow
def test_plain_pytest_refuses_an_unknown_declared_capability_with_exit_2(
    suite: pytest.Pytester,
) -> None:
    suite.makepyfile(_SUITE)
    # in a child process: pytest.exit during configure ends an in-process run badly
    result, _ = _run(suite, "--qbt-capabilities", "teleport", subprocess=True)
    assert result.ret == 2
    assert "unknown capability 'teleport' (known: images," in str(result.stderr)


@pytest.mark.slow
def test_qbtsuite_run_refuses_an_unknown_capability_before_starting_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["run", "--capabilities", "teleport", "--output", str(tmp_path / "r")])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith(
        "error: command line: capabilities: unknown capability 'teleport'"
    )
    assert len(err.splitlines()) == 1 and not (tmp_path / "r").exists()
