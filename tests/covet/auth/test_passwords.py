"""scrypt password hashes: verify, wrong passwords, parameter upgrades, unreadable hashes."""

from __future__ import annotations

import pytest

from covet.auth import (
    AuthConfigurationError,
    InvalidPasswordHash,
    PasswordHasher,
    hash_password,
    needs_rehash,
    verify_and_update,
    verify_password,
)

CHEAP = PasswordHasher(ln=4)  # the logic, not the cost, is under test


def test_hash_is_self_describing_and_salted() -> None:
    first, second = CHEAP.hash("correct horse"), CHEAP.hash("correct horse")
    assert first.startswith("$scrypt$ln=4,r=8,p=1$")
    assert first != second  # a fresh salt each time
    _, scheme, params, salt, digest = first.split("$")
    assert (scheme, params, len(salt), len(digest)) == ("scrypt", "ln=4,r=8,p=1", 22, 43)


@pytest.mark.parametrize("password", ["correct horse", "", "caf\u00e9 \u2603", "x" * 10_000])
def test_verify_right_and_wrong(password: str) -> None:
    stored = CHEAP.hash(password)
    assert CHEAP.verify(password, stored)
    assert CHEAP.verify(password.encode("utf-8"), stored)
    assert not CHEAP.verify(password + "!", stored)
    assert not CHEAP.verify(password.upper() + "x", stored)


def test_no_such_user_is_false_after_a_real_check() -> None:
    assert CHEAP.verify("anything", None) is False
    assert CHEAP.verify_and_update("anything", None) == (False, None)


def test_needs_rehash_and_verify_and_update_when_parameters_change() -> None:
    old = CHEAP.hash("pw")
    stronger = PasswordHasher(ln=5)
    assert not CHEAP.needs_rehash(old)
    assert stronger.needs_rehash(old)
    assert stronger.verify("pw", old)  # older parameters still verify
    ok, upgraded = stronger.verify_and_update("pw", old)
    assert ok and upgraded is not None and upgraded.startswith("$scrypt$ln=5,")
    assert not stronger.needs_rehash(upgraded)
    assert stronger.verify_and_update("pw", upgraded) == (True, None)
    assert stronger.verify_and_update("wrong", old) == (False, None)
    assert PasswordHasher(ln=4, salt_size=32).needs_rehash(old)
    assert PasswordHasher(ln=4, r=4).needs_rehash(old)


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "plaintext",
        "$2b$12$abcdefghijklmnopqrstuv",
        "$scrypt$ln=4,r=8,p=1$salt",
        "$scrypt$ln=4,r=8,p=1$!!!$abcd",
        "$scrypt$ln=0,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaA",
        "$scrypt$ln=40,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaA",
        "$scrypt$ln=28,r=64,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaA",  # > 2 GiB of memory
        "$scrypt$ln=4,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaB",  # non-canonical base64
    ],
)
def test_unreadable_hashes_raise(stored: str) -> None:
    with pytest.raises(InvalidPasswordHash):
        CHEAP.verify("pw", stored)
    with pytest.raises(InvalidPasswordHash):
        CHEAP.needs_rehash(stored)


@pytest.mark.parametrize(
    "options", [{"ln": 0}, {"ln": 31}, {"r": 0}, {"p": 0}, {"salt_size": 8}, {"ln": 25, "r": 64}]
)
def test_bad_parameters_are_refused(options: dict[str, int]) -> None:
    with pytest.raises(AuthConfigurationError):
        PasswordHasher(**options)


def test_module_functions_use_the_default_parameters() -> None:
    stored = hash_password("s3cret")
    assert stored.startswith("$scrypt$ln=15,r=8,p=1$")
    assert verify_password("s3cret", stored) and not verify_password("s3cret ", stored)
    assert not needs_rehash(stored) and needs_rehash(CHEAP.hash("s3cret"))
    assert verify_and_update("s3cret", stored) == (True, None)
