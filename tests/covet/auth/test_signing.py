"""The HMAC primitive under sessions: tampering, key rotation, purposes and expiry."""

from __future__ import annotations

import pytest

from covet.auth import AuthConfigurationError, BadSignature, SignatureExpired, Signer
from covet.auth.signing import b64decode, b64encode, hmac_sha256
from tests.covet.auth.conftest import FakeClock

NEW, OLD = "a-newest-key-0123456789abcdef", "an-older-key-0123456789abcdef"


def flip(value: str, index: int) -> str:
    """``value`` with one character changed to another base64url character."""
    char = value[index]
    return value[:index] + ("A" if char != "A" else "B") + value[index + 1 :]


def test_round_trip_and_times() -> None:
    clock = FakeClock()
    signer = Signer([NEW], purpose="test", clock=clock)
    signed = signer.unsign(signer.sign({"user": 7, "name": "é"}, max_age=60))
    assert signed.data == {"user": 7, "name": "é"}
    assert signed.issued_at == int(clock.now)
    assert signed.expires_at == int(clock.now) + 60
    assert not signed.needs_resign


@pytest.mark.parametrize("where", ["payload", "signature"])
def test_every_flipped_character_is_refused(where: str) -> None:
    signer = Signer([NEW], purpose="test")
    value = signer.sign({"user": 7}, max_age=60)
    payload, signature = value.split(".")
    part = payload if where == "payload" else signature
    for index in range(len(part)):
        changed = flip(part, index)
        tampered = f"{changed}.{signature}" if where == "payload" else f"{payload}.{changed}"
        with pytest.raises(BadSignature):
            signer.unsign(tampered)


def test_payload_swapped_between_keys_is_refused() -> None:
    ours = Signer([NEW], purpose="test")
    theirs = Signer(["some-attacker-key-0123456789abc"], purpose="test")
    payload, _ = theirs.sign({"admin": True}, 60).split(".")
    _, signature = ours.sign({"admin": False}, 60).split(".")
    with pytest.raises(BadSignature):
        ours.unsign(f"{payload}.{signature}")
    with pytest.raises(BadSignature):
        ours.unsign(theirs.sign({"admin": True}, 60))


def test_rotation_accepts_older_keys_and_says_so() -> None:
    before = Signer([OLD], purpose="test").sign({"n": 1}, 60)
    rotated = Signer([NEW, OLD], purpose="test")
    signed = rotated.unsign(before)
    assert signed.data == {"n": 1} and signed.key_index == 1 and signed.needs_resign
    assert rotated.unsign(rotated.sign({"n": 1}, 60)).key_index == 0
    with pytest.raises(BadSignature):  # the old key retired: its values are refused
        Signer([NEW], purpose="test").unsign(before)


def test_purposes_do_not_verify_each_other() -> None:
    value = Signer([NEW], purpose="session").sign({"user": 1}, 60)
    with pytest.raises(BadSignature):
        Signer([NEW], purpose="reset").unsign(value)


def test_expiry_and_future_issue_with_an_injected_clock() -> None:
    clock = FakeClock()
    signer = Signer([NEW], purpose="test", clock=clock)
    value = signer.sign("x", max_age=10)
    clock.advance(9.9)
    assert signer.unsign(value).data == "x"
    clock.advance(0.1)
    with pytest.raises(SignatureExpired):
        signer.unsign(value)
    clock.advance(-100)  # issued "in the future" as seen from this clock
    with pytest.raises(SignatureExpired):
        signer.unsign(value)
    assert signer.unsign(value, leeway=200).data == "x"


@pytest.mark.parametrize(
    "value",
    ["", ".", "abc", "abc.", ".abc", "a.b.c", "é.abc", "abc.é", "x" * 10_000, "a b.c", "=.="],
)
def test_garbage_is_a_bad_signature(value: str) -> None:
    with pytest.raises(BadSignature):
        Signer([NEW], purpose="test").unsign(value)


def test_signed_non_object_payloads_are_refused() -> None:
    # What a leaked key could make: validly signed, but not a payload covet writes.
    signer = Signer([NEW], purpose="test")
    for body in (b"[1]", b"not json", b'{"d": 1}', b'{"d": 1, "iat": "0", "exp": 9e99}'):
        payload = b64encode(body)
        signature = b64encode(hmac_sha256(signer._keys[0], payload.encode()))
        with pytest.raises(BadSignature) as info:
            signer.unsign(f"{payload}.{signature}")
        assert "mismatch" not in str(info.value)


@pytest.mark.parametrize("keys", [[], [""], ["short"], [b"x" * 15], [123]])
def test_weak_or_missing_keys_are_refused(keys: list[object]) -> None:
    with pytest.raises(AuthConfigurationError):
        Signer(keys, purpose="test")  # type: ignore[arg-type]


def test_base64url_helpers() -> None:
    for data in (b"", b"\x00", b"\xff\xfe", bytes(range(256))):
        assert b64decode(b64encode(data)) == data
    for bad in ("a", "a=", "a+b/", "é", "AB"):  # "AB": non-zero unused bits
        with pytest.raises(BadSignature):
            b64decode(bad)
