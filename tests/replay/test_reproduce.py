"""A curl line per failing test: the key as "$QUBITTRON_API_KEY", -N for streams,
--cacert for a CA bundle, large or binary bodies in a file beside the report, long
base64 shortened in the page."""

from __future__ import annotations

import shlex
from dataclasses import replace
from pathlib import Path

from qbtsuite.reporting.reproduce import reproductions, shorten_base64, write_bodies
from qbtsuite.target.wirelog import WireChunk, WireExchange, WireRequest, WireResponse
from tests.harness.synthetic import synthetic_results

FAILING = "test_auth.py::test_unknown_key"


def _exchange(
    body: bytes = b'{"model":"m"}',
    credential: str = "Bearer <main>",
    accept: str = "application/json",
) -> WireExchange:
    request = WireRequest(
        method="POST",
        url="https://gw.example/v1/chat/completions",
        headers=(
            ("host", "gw.example"),
            ("accept", accept),
            ("authorization", credential),
            ("content-type", "application/json"),
        ),
        credential=credential,
        body=body,
        body_size=len(body),
        body_recorded=True,
        match="m",
    )
    response = WireResponse(200, "HTTP/1.1", "OK", (), (WireChunk(0.1, b"{}"),), False)
    return WireExchange(FAILING, 1, "local", 0.0, request, response)


def test_a_failing_test_gets_a_curl_line_with_the_key_variable_and_a_rerun_line(
    tmp_path: Path,
) -> None:
    results = synthetic_results()
    repros = reproductions(results, [_exchange()], tmp_path)
    assert list(repros) == [FAILING]  # passing tests get none
    repro = repros[FAILING]
    assert '-H "Authorization: Bearer $QUBITTRON_API_KEY"' in repro.curl
    assert (
        '"${QUBITTRON_BASE_URL:-https://gw.example/v1}/chat/completions"' in repro.curl
    )
    assert '--data-raw \'{"model":"m"}\'' in repro.curl
    assert " -N " not in repro.curl and "--cacert" not in repro.curl
    assert repro.rerun.startswith("qbtsuite run --requirement AUTH-002")
    words = shlex.split(repro.curl)  # it parses as a shell command line
    assert words[0] == "curl" and "host: gw.example" not in words


def test_a_stream_gets_minus_n_and_a_ca_bundle_gets_cacert(tmp_path: Path) -> None:
    results = synthetic_results()
    target = replace(results.run.target, ca_bundle="/etc/ca.pem")  # type: ignore[type-var]
    results = replace(results, run=replace(results.run, target=target))
    repro = reproductions(results, [_exchange(accept="text/event-stream")], tmp_path)[
        FAILING
    ]
    assert " -N " in repro.curl
    assert '--cacert "${QBTSUITE_CA_BUNDLE:-/etc/ca.pem}"' in repro.curl


def test_a_key_that_is_no_roles_becomes_an_invalid_key_of_its_length(
    tmp_path: Path,
) -> None:
    ex = _exchange(credential="Bearer <another key, 20 characters>")
    repro = reproductions(synthetic_results(), [ex], tmp_path)[FAILING]
    assert "Authorization: Bearer not-a-valid-key-not-" in repro.curl
    assert "$QUBITTRON_API_KEY" not in repro.curl


def test_a_large_body_goes_into_a_file_beside_the_report_and_base64_is_shortened(
    tmp_path: Path,
) -> None:
    image = b"QUJD" * 2000
    body = b'{"image":"' + image + b'"}'
    repros = reproductions(synthetic_results(), [_exchange(body=body)], tmp_path)
    repro = repros[FAILING]
    assert repro.body_name and f"@{tmp_path.resolve()}/reproduce/" in repro.curl
    (path,) = write_bodies(tmp_path, repros)
    assert path.read_bytes() == body
    long_line = "x " + image.decode()
    assert len(
        shorten_base64(long_line)
    ) < 100 and "<8000 characters>" in shorten_base64(long_line)


def test_a_credential_built_from_the_key_is_rebuilt_from_its_variable(
    tmp_path: Path,
) -> None:
    import subprocess

    ex = _exchange(credential="Basic base64(<main>:)")
    repro = reproductions(synthetic_results(), [ex], tmp_path)[FAILING]
    header = '"Authorization: Basic $(printf %s "$QUBITTRON_API_KEY:" | base64 -w0)"'
    assert header in repro.curl
    shown = subprocess.run(
        ["bash", "-c", f"printf '%s' {header}"],
        env={"QUBITTRON_API_KEY": "abc", "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert shown == "Authorization: Basic YWJjOg=="


def test_the_verbose_terminal_lines_give_the_whole_curl_and_the_rerun(
    tmp_path: Path,
) -> None:
    from qbtsuite.reporting.terminal import render_repro_lines

    image = b"QUJD" * 100  # under the inline limit: on the command line, whole
    repros = reproductions(
        synthetic_results(), [_exchange(body=b'{"i":"' + image + b'"}')], tmp_path
    )
    text = render_repro_lines(repros)
    assert text.splitlines()[1] == "reproduce (1 failing or warning tests)"
    assert image.decode() in text and "qbtsuite run --requirement AUTH-002" in text
    assert render_repro_lines({}) == ""
