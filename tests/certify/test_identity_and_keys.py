"""Who certifies (the product file and its flags) and with which key (keygen)."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest

from qbtsuite.certify.product import identity_from
from qbtsuite.certify.signing import (
    generate_key_pair,
    load_public_key,
    load_signing_key,
)
from qbtsuite.cli import main
from qbtsuite.errors import ConfigError
from qbtsuite.results.model import Identity

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "product.example.toml"
NONE = dict.fromkeys(("vendor", "product", "version", "url", "contact"))


def test_the_shipped_example_product_file_is_a_complete_identity() -> None:
    assert identity_from(EXAMPLE, NONE) == Identity(
        vendor="Acme Networks",
        product="Acme AI Gateway",
        version="4.2.1",
        url="https://acme.example/ai-gateway",
        contact="conformance@acme.example",
    )


def test_flags_override_the_product_file_and_can_stand_alone() -> None:
    over = identity_from(EXAMPLE, {**NONE, "version": "4.3.0"})
    assert over.version == "4.3.0" and over.vendor == "Acme Networks"
    alone = identity_from(
        None,
        {
            "vendor": "V",
            "product": "P",
            "version": "1",
            "url": "https://p.example",
            "contact": "https://p.example/support",
        },
    )
    assert alone.label() == "P 1 (V)"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('vendor = "V"\n', "lacks product, version, url, contact"),
        ('vendor = "V"\nname = "P"\n', "unknown field(s) name (expected vendor,"),
        ('vendor = ""\n', "vendor must be a non-empty string"),
        ('vendor = "V"\nurl = "ftp://x"\n', "url: scheme must be https:// or http://"),
        ('contact = "nobody"\n', "contact must be an e-mail address or an http(s) URL"),
        ("vendor = \n", "not valid TOML"),
    ],
)
def test_a_bad_product_file_is_one_line_naming_the_field(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "product.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=re.escape(message)):
        identity_from(path, NONE)


def test_certify_without_an_identity_exits_2_naming_what_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["run", "--profile", "certify", "--capabilities", "none",
                 "--vendor", "V", "--output", str(tmp_path / "run")])  # fmt: skip
    assert code == 2
    assert capsys.readouterr().err == (
        "error: the certify profile needs the product's identity: --product "
        "product.toml (see product.example.toml) or --vendor, --product-name, "
        "--product-version, --product-url, --contact; missing: product, version, "
        "url, contact\n"
    )
    assert not (tmp_path / "run").exists()


def test_keygen_writes_a_private_key_only_its_owner_reads_and_never_prints_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["keygen", str(tmp_path / "vendor")]) == 0
    out = capsys.readouterr().out
    private, public = tmp_path / "vendor.key", tmp_path / "vendor.pub"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert stat.S_IMODE(public.stat().st_mode) == 0o644
    body = private.read_text().splitlines()[1]  # the base64 of the PEM
    assert body not in out and "PRIVATE" not in out
    key = load_signing_key(private)
    assert load_public_key(public) == key.public
    assert f"key id       {key.public.key_id}" in out
    assert body not in repr(key) and repr(key) == f"SigningKey({key.public.key_id})"


def test_keygen_never_replaces_a_key_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    generate_key_pair(tmp_path / "k.key", tmp_path / "k.pub")
    before = (tmp_path / "k.key").read_bytes()
    assert main(["keygen", str(tmp_path / "k")]) == 2
    assert capsys.readouterr().err == (
        f"error: {tmp_path / 'k.key'} exists: a key file is never replaced\n"
    )
    assert (tmp_path / "k.key").read_bytes() == before


def test_a_signing_key_that_is_not_one_exits_2_before_anything_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    generate_key_pair(tmp_path / "k.key", tmp_path / "k.pub")
    code = main(["run", "--profile", "certify", "--capabilities", "none",
                 "--product", str(ROOT / "product.example.toml"),
                 "--sign-key", str(tmp_path / "k.pub"),
                 "--output", str(tmp_path / "run")])  # fmt: skip
    assert code == 2
    assert capsys.readouterr().err == (
        f"error: {tmp_path / 'k.pub'} is not an unencrypted PEM private key (make "
        "one with 'qbtsuite keygen')\n"
    )
    assert not (tmp_path / "run").exists()
