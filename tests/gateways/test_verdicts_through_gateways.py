"""Verdicts through gateways that deviate the way real ones do, each on the areas it
touches: a plain-HTTP deployment, FastAPI-style errors, errors without ``param``, and
image URLs on a host that does not exist. Each verdict must rest on evidence about
the requirement: no false pass, no false fail, no ``error`` for the target's doing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest

from qbtsuite.server.faults import load_faults
from qbtsuite.target.resolve import EMBEDDED_SERVER_ARGS
from tests.gateways.harness import REPO_ROOT, reference_and_gateway
from tests.gateways.options import GatewayOptions
from tests.gateways.suiterun import SuiteRun, run_suite

SERVER_ARGS = list(EMBEDDED_SERVER_ARGS)


def _run(tmp_path: Path, options: GatewayOptions, *args: str) -> SuiteRun:
    with reference_and_gateway(options, tmp_path, SERVER_ARGS) as gw:
        return run_suite(gw, tmp_path / "run", args=args)


def _areas(*names: str) -> tuple[str, ...]:
    return tuple(part for name in names for part in ("--area", name))


def _not_passing(run: SuiteRun) -> dict[str, str]:
    return {
        rid: v.outcome
        for rid, v in run.verdicts.items()
        if v.outcome not in ("pass", "skipped", "unsupported")
    }


def _outcomes(run: SuiteRun, ids: Iterable[str]) -> dict[str, str]:
    return {rid: run.outcome(rid) for rid in ids}


@pytest.mark.slow
def test_a_plain_http_target_fails_https_001_once_and_skips_the_rest_saying_why(
    tmp_path: Path,
) -> None:
    run = _run(tmp_path, GatewayOptions(plain_http=True), *_areas("https"))
    assert run.exit_code == 1, f"Received: exit {run.exit_code}\n{run.terminal[-1500:]}"
    assert "notice   the target speaks plain HTTP" in run.terminal
    assert _not_passing(run) == {"HTTPS-001": "fail"}, f"Received: {_not_passing(run)}"
    findings = [m for m in run.verdicts["HTTPS-001"].messages if "Received:" in m]
    assert len(findings) == 1, f"Received: {findings}; Expected: one finding"
    assert findings[0].startswith("The API is served over plain HTTP")
    others = ("HTTPS-002", "HTTPS-003", "HTTPS-004", "HTTPS-005", "HTTPS-006")
    assert _outcomes(run, others) == dict.fromkeys(others, "skipped")
    for rid in others:
        reason = " ".join(run.verdicts[rid].messages)
        assert "--base-url https://" in reason, f"{rid}: {reason}"
        if rid != "HTTPS-006":
            assert "--http-url" in reason and "QBTSUITE_HTTP_URL" in reason
    assert "RFC 6797" in " ".join(run.verdicts["HTTPS-006"].messages)


@pytest.mark.slow
def test_fastapi_style_errors_fail_every_requirement_that_names_the_envelope(
    tmp_path: Path,
) -> None:
    areas = ("auth", "errors", "https", "transcriptions", "uploads", "clients")
    run = _run(tmp_path, GatewayOptions(fastapi_errors=True), *_areas(*areas))
    # The fault of the same shape declares what such answers break.
    named = load_faults()["errors.fastapi_detail"].breaks
    judged = [rid for rid in named if run.verdicts.get(rid) is not None]
    assert len(judged) >= 30, f"Received: only {judged} judged"
    passing = {
        rid: run.outcome(rid)
        for rid in judged
        if run.outcome(rid) not in ("fail", "warn", "skipped")
    }
    assert not passing, f"Received: {passing}; Expected: fail or warn"
    assert run.outcome("AUTH-007") == "pass" and run.outcome("ERR-002") == "pass"


@pytest.mark.slow
def test_errors_without_param_give_only_the_err_006_warning(tmp_path: Path) -> None:
    run = _run(tmp_path, GatewayOptions(drop_param=True), *_areas("auth", "errors"))
    assert run.exit_code == 0, f"Received: exit {run.exit_code}\n{run.terminal[-1500:]}"
    assert _not_passing(run) == {"ERR-006": "warn"}, f"Received: {_not_passing(run)}"


@pytest.mark.slow
def test_image_urls_on_a_reserved_name_fail_with_that_evidence(tmp_path: Path) -> None:
    options = GatewayOptions(image_url_host="example.invalid")
    run = _run(tmp_path, options, *_areas("images", "clients"))
    assert run.exit_code == 1, f"Received: exit {run.exit_code}\n{run.terminal[-1500:]}"
    assert _not_passing(run) == {"IMG-004": "fail", "CLIENT-006": "fail"}, (
        f"Received: {_not_passing(run)}"
    )
    assert "example.invalid is a reserved name" in run.verdicts["IMG-004"].messages[0]


@pytest.mark.slow
def test_image_url_fetches_turned_off_skip_with_the_reason(tmp_path: Path) -> None:
    # The gateway's own origin: a host that may serve the image, so only a fetch
    # could judge it.
    run = _run(tmp_path, GatewayOptions(), "--no-fetch-urls", *_areas("images"))
    assert run.exit_code == 0, f"Received: exit {run.exit_code}\n{run.terminal[-1500:]}"
    assert run.outcome("IMG-004") == "skipped"
    assert "--no-fetch-urls" in run.verdicts["IMG-004"].messages[0]
    assert _not_passing(run) == {}, f"Received: {_not_passing(run)}"


@pytest.mark.slow
def test_image_urls_on_a_reserved_name_fail_with_fetches_turned_off_too(
    tmp_path: Path,
) -> None:
    # A reserved name is proof without a request: turning fetches off must not
    # turn that failure into a skip (IMG-004) or a pass (CLIENT-006).
    options = GatewayOptions(image_url_host="example.invalid")
    run = _run(tmp_path, options, "--no-fetch-urls", *_areas("images", "clients"))
    assert run.exit_code == 1, f"Received: exit {run.exit_code}\n{run.terminal[-1500:]}"
    assert _not_passing(run) == {"IMG-004": "fail", "CLIENT-006": "fail"}, (
        f"Received: {_not_passing(run)}"
    )
    for rid in ("IMG-004", "CLIENT-006"):
        assert "example.invalid is a reserved name" in run.verdicts[rid].messages[0]


@pytest.mark.slow
def test_a_default_answer_by_reserved_url_fails_img_005_with_fetches_turned_off(
    tmp_path: Path,
) -> None:
    # images.unfetchable_url makes url the default response_format, on example.invalid.
    out = tmp_path / "run"
    argv = [
        sys.executable,
        "-m",
        "qbtsuite",
        "run",
        "--fault",
        "images.unfetchable_url",
    ]
    argv += ["--no-fetch-urls", *_areas("images"), "--output", str(out), "--no-allure"]
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("QBTSUITE_", "QUBITTRON_"))
    }
    done = subprocess.run(
        argv, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 1, (
        f"Received: exit {done.returncode}\n{done.stdout[-1500:]}"
    )
    verdicts = json.loads((out / "results.json").read_text())["requirements"]
    failed = {rid for rid, v in verdicts.items() if v["outcome"] == "fail"}
    assert failed == {"IMG-004", "IMG-005"}, f"Received: {sorted(failed)}"
    assert "is a reserved name" in verdicts["IMG-005"]["messages"][0]
