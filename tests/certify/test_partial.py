"""No partial certificates: a certify run takes the whole suite, or says ``partial``.

Every way of leaving tests out is a field of :class:`Selection`; any non-default
value is a departure, refused under certify (exit 2, before anything starts)
unless ``--allow-partial``, which makes the verdict ``partial`` (exit 7), never
``conformant``. The real partial run is in test_certify_run.py.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import pytest

from qbtsuite.cli import main
from qbtsuite.exitcodes import ExitCode
from qbtsuite.harness.invoke import RunRequest, run_suite
from qbtsuite.results.model import Selection
from qbtsuite.results.outcomes import Outcome, Verdict
from qbtsuite.results.records import exit_code_for, left_out, verdict_of
from tests.harness.synthetic import FACTS

pytest_plugins = ["pytester"]

IDENTITY = [
    "--vendor", "Example Vendor", "--product-name", "Gateway One",
    "--product-version", "2.0", "--product-url", "https://vendor.example/",
    "--contact", "qa@vendor.example",
]  # fmt: skip
CERTIFY = ["run", "--profile", "certify", "--capabilities", "none", *IDENTITY]


def _sample(annotation: object) -> object:
    """A value other than the default for a Selection field of this type."""
    text = str(annotation)
    if text.startswith("tuple"):
        return ("x",)
    if text == "<class 'int'>":
        return 1
    return "x"


def test_every_selection_field_defaults_to_nothing_left_out() -> None:
    assert Selection().departures() == ()


@pytest.mark.parametrize("name", [f.name for f in fields(Selection)])
def test_any_selection_field_with_a_value_is_a_departure_naming_it(name: str) -> None:
    annotation = typing.get_type_hints(Selection)[name]
    values: dict[str, Any] = {name: _sample(annotation)}
    departures = Selection(**values).departures()
    assert len(departures) == 1, departures


def test_the_flags_of_the_departures_are_the_options_that_asked_them() -> None:
    selection = Selection(
        areas=("auth", "errors"), requirements=("SSE-001",), keyword="not slow",
        markers="smoke", faults=("auth.any_scheme_accepted",),
    )  # fmt: skip
    assert selection.departures() == (
        "--area auth errors",
        "--requirement SSE-001",
        "-k 'not slow'",
        "-m 'smoke'",
        "--fault auth.any_scheme_accepted",
    )


def test_a_certify_run_that_left_anything_out_is_partial_never_conformant() -> None:
    passed = {**dict.fromkeys(Outcome, 0), Outcome.PASS: 3}
    assert verdict_of(passed, strict=False, partial=True) is Verdict.PARTIAL
    failed = {**passed, Outcome.FAIL: 1}
    assert verdict_of(failed, strict=False, partial=True) is Verdict.NOT_CONFORMANT
    assert exit_code_for(Verdict.PARTIAL) is ExitCode.PARTIAL
    assert int(ExitCode.PARTIAL) == 7
    certify = replace(FACTS, profile="certify", selection=Selection(areas=("auth",)))
    assert left_out(certify, ("SSE-001", "SSE-002")) == (
        "--area auth",
        "2 requirement(s) not checked",
    )
    assert left_out(replace(certify, selection=Selection()), ()) == ()
    assert left_out(replace(certify, profile="full"), ("SSE-001",)) == ()


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--area", "auth"], "--area auth"),
        (["--requirement", "AUTH-001"], "--requirement AUTH-001"),
        (["-k", "missing_key"], "-k 'missing_key'"),
        (["-m", "smoke"], "-m 'smoke'"),
        (["--fault", "auth.any_scheme_accepted"], "--fault auth.any_scheme_accepted"),
    ],
)
def test_certify_refuses_a_selection_before_anything_starts(
    args: list[str], named: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    assert main([*CERTIFY, *args, "--output", str(out)]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert err == (
        f"error: the certify profile runs the whole suite, but {named} leaves tests "
        "out: drop it, or add --allow-partial for a 'partial' result (never "
        "'conformant', exit 7)\n"
    )
    assert not out.exists()


def test_the_certify_options_are_refused_outside_the_certify_profile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["run", "--allow-partial", "--vendor", "V", "--output", str(tmp_path)])
    assert code == ExitCode.USAGE
    assert capsys.readouterr().err == (
        "error: --vendor, --allow-partial: for the certify profile only "
        "(--profile certify)\n"
    )


@pytest.mark.slow
def test_plain_pytest_refuses_a_partial_certify_run_with_exit_2(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUBITTRON_BASE_URL", "https://gateway.invalid/v1")
    monkeypatch.setenv("QUBITTRON_API_KEY", "qbt_plain_pytest_key_0123456789")
    pytester.makepyfile("def test_x():\n    pass\n")
    flags = [
        f"--qbt-{a.removeprefix('--')}" if a.startswith("--") else a for a in IDENTITY
    ]
    result = pytester.runpytest_subprocess(
        "-p", "qbtsuite.harness.plugin", "-p", "no:cacheprovider",
        "--qbt-profile", "certify", "--qbt-capabilities", "none", "--qbt-area", "auth",
        *flags,
    )  # fmt: skip
    assert result.ret == 2
    assert "but --area auth leaves tests out" in str(result.stderr)


@dataclass(frozen=True, slots=True)
class _WiderSelection(Selection):
    """Selection with one more way of leaving tests out, as a later version adds."""

    shards: tuple[str, ...] = ()


def test_a_field_added_to_the_selection_is_a_departure_without_more_code() -> None:
    assert _WiderSelection().departures() == ()
    wider = _WiderSelection(skip_areas=("auth",), shards=("2/3",))
    assert wider.departures() == ("--skip-area auth", "shards 2/3")


def test_certify_needs_a_new_or_empty_run_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "allure-results").mkdir()  # what an earlier run leaves behind
    assert main([*CERTIFY, "--output", str(tmp_path)]) == ExitCode.USAGE
    assert capsys.readouterr().err == (
        f"error: the certify profile seals every file of its run folder: {tmp_path} "
        "is not empty (give a new --output, or none)\n"
    )


def test_the_plugin_refuses_a_partial_certify_run_the_command_line_let_through(
    tmp_path: Path,
) -> None:
    # The plugin checks the Selection it records itself, whatever fills it.
    request = RunRequest(
        target=None,
        run_dir=tmp_path,
        profile="certify",
        areas=("auth",),
        options={"vendor": "V", "product_name": "P", "product_version": "1",
                 "product_url": "https://p.example", "contact": "qa@p.example"},
    )  # fmt: skip
    outcome = run_suite(request, lambda _line: None)
    assert outcome.pytest_code == ExitCode.USAGE
    assert outcome.log_lines("Exit: error: ") == [
        "Exit: error: the certify profile runs the whole suite, but --area auth leaves "
        "tests out: drop it, or add --allow-partial for a 'partial' result (never "
        "'conformant', exit 7)"
    ]
