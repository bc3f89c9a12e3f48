"""API keys: the generated default set and the TOML keys file.

Keys have the documented ``qbt_`` form; the default set has one key per role the
suite needs; a keys file that cannot be used is refused with a :class:`KeysFileError`
naming what is wrong (``qbtsuite serve`` turns it into one line and exit 2).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qbtsuite.server.keys import (
    DEFAULT_ROLES,
    Account,
    KeysFileError,
    KeyStore,
    Pricing,
    generate_key,
)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "keys.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_generated_keys_have_the_qbt_form_and_differ() -> None:
    keys = {generate_key() for _ in range(50)}
    assert len(keys) == 50
    assert all(re.fullmatch(r"qbt_[A-Za-z0-9_]{20,}", k) for k in keys)


def test_the_default_set_has_one_key_per_role_with_its_limit_and_balance() -> None:
    store = KeyStore.default()
    roles = store.by_role()
    assert set(roles) == {"main", "second", "zero_balance", "low_limit"}
    assert len(set(roles.values())) == len(roles), "Expected distinct keys"
    for role, key in roles.items():
        account = store.get(key)
        assert account is not None and account.role == role
        assert (account.rpm, account.balance) == DEFAULT_ROLES[role]
    assert DEFAULT_ROLES["zero_balance"][1] == 0
    assert DEFAULT_ROLES["low_limit"][0] == 30


def test_two_default_sets_never_share_a_key() -> None:
    a, b = KeyStore.default().by_role(), KeyStore.default().by_role()
    assert not set(a.values()) & set(b.values())


def test_an_unknown_key_has_no_account() -> None:
    assert KeyStore.default().get(generate_key()) is None


def test_charging_an_account_lowers_its_balance() -> None:
    account = Account("qbt_x", "main", 10, 100.0)
    account.charge(30.0)
    account.charge(80.0)
    assert account.balance == -10.0


def test_a_keys_file_sets_keys_roles_limits_balances_and_pricing(
    tmp_path: Path,
) -> None:
    path = _write(
        tmp_path,
        """
[[keys]]
role = "main"
key = "qbt_custom_main"
rpm = 7
balance = 50

[[keys]]
role = "broke"
key = "qbt_custom_broke"
balance = 0

[[keys]]
role = "main"
key = "qbt_custom_main_2"

[pricing]
token = 2
image = 5.5
""",
    )
    store = KeyStore.from_toml(path)
    assert store.by_role() == {"main": "qbt_custom_main", "broke": "qbt_custom_broke"}
    main = store.get("qbt_custom_main")
    assert main is not None and (main.rpm, main.balance) == (7, 50.0)
    broke = store.get("qbt_custom_broke")
    assert broke is not None and broke.balance == 0.0 and broke.rpm == 600
    assert store.get("qbt_custom_main_2") is not None
    assert store.pricing == Pricing(token=2.0, image=5.5)
    assert [a.key for a in store.accounts()] == [
        "qbt_custom_main",
        "qbt_custom_broke",
        "qbt_custom_main_2",
    ]


def test_an_entry_without_a_key_gets_a_generated_one(tmp_path: Path) -> None:
    store = KeyStore.from_toml(_write(tmp_path, '[[keys]]\nrole = "main"\n'))
    assert store.by_role()["main"].startswith("qbt_")


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("keys = [\n", "not valid TOML"),
        ("", "no [[keys]]"),
        ("keys = []\n", "no [[keys]]"),
        ("keys = 5\n", "array of tables"),
        ('keys = "qbt_a"\n', "array of tables"),
        ("keys = [1]\n", "must be a table"),
        ('[[keys]]\nkey = "sk-abc"\n', "starting with 'qbt_'"),
        ("[[keys]]\nkey = 5\n", "starting with 'qbt_'"),
        ('[[keys]]\nkey = "qbt_a b"\n', "digits, '_' and '-' only"),
        ('[[keys]]\nkey = "qbt_a="\n', "digits, '_' and '-' only"),
        ("[[keys]]\nrpm = 0\n", "rpm must be a positive integer"),
        ('[[keys]]\nrpm = "10"\n', "rpm must be a positive integer"),
        ("[[keys]]\nrpm = true\n", "rpm must be a positive integer"),
        ("[[keys]]\nrpm = 1.5\n", "rpm must be a positive integer"),
        ('[[keys]]\nbalance = "lots"\n', "balance must be a number"),
        ("[[keys]]\nbalance = false\n", "balance must be a number"),
        ('[[keys]]\nkey = "qbt_a"\n[[keys]]\nkey = "qbt_a"\n', "same key twice"),
        ("pricing = 5\n[[keys]]\n", "[pricing] must be a table"),
        ('[[keys]]\n[pricing]\ntoken = "x"\n', "pricing.token must be a number"),
        ("[[keys]]\n[pricing]\nfree = 1\n", "unknown name in [pricing]"),
    ],
)
def test_an_unusable_keys_file_is_refused_naming_the_problem(
    tmp_path: Path, text: str, complaint: str
) -> None:
    with pytest.raises(KeysFileError) as caught:
        KeyStore.from_toml(_write(tmp_path, text))
    assert complaint in str(caught.value), f"Received: {caught.value}"


def test_a_store_refuses_a_key_that_no_bearer_header_can_carry() -> None:
    with pytest.raises(ValueError, match="roles \\['odd'\\]"):
        KeyStore([Account("qbt_a.b", "odd", 10, 1.0)], Pricing())


def test_a_missing_keys_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KeysFileError, match="cannot read keys file"):
        KeyStore.from_toml(tmp_path / "absent.toml")


def test_refusals_never_repeat_a_key(tmp_path: Path) -> None:
    secret = generate_key()
    text = f'[[keys]]\nkey = "{secret}"\n[[keys]]\nkey = "{secret}"\n'
    with pytest.raises(KeysFileError) as caught:
        KeyStore.from_toml(_write(tmp_path, text))
    assert secret not in str(caught.value)
