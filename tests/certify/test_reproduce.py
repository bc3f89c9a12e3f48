"""REPRODUCE.md: the command as given, with no secret in it."""

from __future__ import annotations

import secrets
from pathlib import Path

from qbtsuite.certify.reproduce import render_reproduce
from qbtsuite.cli import build_parser
from qbtsuite.cli.run_options import invocation_of
from tests.harness.synthetic import IDENTITY, synthetic_results


def test_the_command_names_every_secret_by_its_variable_and_shows_no_key() -> None:
    key = "qbt_" + secrets.token_urlsafe(24)
    second = "qbt_" + secrets.token_urlsafe(24)
    args = build_parser().parse_args(
        ["run", "--profile", "certify", "--base-url", "https://gw.example/v1",
         "--api-key", key, "--capabilities", "images,second_key",
         "--product", "product.toml", "--sign-key", "/home/v/acme.key",
         "-n", "2", "--output", "out"]
    )  # fmt: skip
    env = {"QBTSUITE_SECOND_KEY": second, "QBTSUITE_MODELS_CHAT": "m-1", "HOME": "/h"}
    invocation = invocation_of(args, env)
    results = synthetic_results(profile="certify", identity=IDENTITY)
    text = render_reproduce(results, invocation, "sha256:" + "a" * 64)
    assert key not in text and second not in text and "acme.key" not in text
    assert invocation.command() == (
        "qbtsuite run \\\n"
        "  --base-url https://gw.example/v1 \\\n"
        '  --api-key "$QUBITTRON_API_KEY" \\\n'
        "  --capabilities images,second_key \\\n"
        "  --profile certify \\\n"
        "  --product product.toml \\\n"
        '  --sign-key "$SIGNING_KEY" \\\n'
        "  -n 2 \\\n"
        "  --output out"
    )
    assert "export QBTSUITE_SECOND_KEY=…  # a secret: not recorded" in text
    assert "export QBTSUITE_MODELS_CHAT=m-1" in text and "HOME" not in text
    assert "- catalogue sha256: `" + "c" * 64 + "`" in text
    assert f"The certificate is signed by the key `sha256:{'a' * 64}`" in text


def test_an_unsigned_run_says_how_to_check_its_integrity(tmp_path: Path) -> None:
    args = build_parser().parse_args(["run", "--profile", "certify"])
    results = synthetic_results(profile="certify", identity=IDENTITY)
    text = render_reproduce(results, invocation_of(args, {}), None)
    assert "qbtsuite verify RUN_FOLDER\n" in text and "**unsigned**" in text
