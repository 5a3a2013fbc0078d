"""Bearer tokens: HS256 JWTs, expiry by an injected clock, algorithm confusion, rotation."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest

from covet.auth import BadSignature, BearerTokens, SignatureExpired
from covet.auth.signing import b64decode, b64encode
from tests.covet.auth.conftest import FakeClock

KEY, OLD = "token-key-0123456789abcdefghij", "token-key-older-0123456789abcdef"


def forge(header: dict[str, Any], payload: dict[str, Any], key: str = KEY) -> str:
    """A token signed with ``key`` whatever its header says (HS256 underneath)."""
    head = b64encode(json.dumps(header).encode())
    body = b64encode(json.dumps(payload).encode())
    mac = hmac.new(key.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64encode(mac)}"


def test_issue_and_verify_a_standard_jwt() -> None:
    clock = FakeClock()
    tokens = BearerTokens(KEY, max_age=60, clock=clock, issuer="covet", audience="notes")
    token = tokens.issue("ada", ["b", "a", "a"], claims={"name": "Ada"})
    header, payload, _ = token.split(".")
    assert json.loads(b64decode(header)) == {"alg": "HS256", "typ": "JWT"}
    body = json.loads(b64decode(payload))
    assert body["scope"] == "a b" and body["sub"] == "ada" and body["exp"] == body["iat"] + 60
    claims = tokens.verify(token)
    assert (claims.subject, claims.scopes, claims.claims["name"]) == (
        "ada",
        frozenset({"a", "b"}),
        "Ada",
    )
    # Any HS256 implementation with the key agrees with the signature.
    assert tokens.verify(forge({"alg": "HS256", "typ": "JWT"}, body)).subject == "ada"


def test_expiry_not_before_and_leeway() -> None:
    clock = FakeClock()
    tokens = BearerTokens(KEY, max_age=60, clock=clock)
    token = tokens.issue("ada")
    clock.advance(59)
    assert tokens.verify(token).subject == "ada"
    clock.advance(1)
    with pytest.raises(SignatureExpired):
        tokens.verify(token)
    assert BearerTokens(KEY, clock=clock, leeway=5).verify(token).subject == "ada"
    now = int(clock.now)
    later = forge({"alg": "HS256"}, {"sub": "a", "iat": now, "exp": now + 99, "nbf": now + 10})
    with pytest.raises(SignatureExpired):
        tokens.verify(later)
    future = forge({"alg": "HS256"}, {"sub": "a", "iat": now + 10, "exp": now + 99})
    with pytest.raises(SignatureExpired):
        tokens.verify(future)


@pytest.mark.parametrize(
    "header",
    [{"alg": "none"}, {"alg": "HS512"}, {"alg": "RS256"}, {"alg": "HS256", "crit": ["b64"]}, []],
)
def test_only_plain_hs256_is_accepted(header: Any) -> None:
    payload = {"sub": "ada", "iat": 1_800_000_000, "exp": 1_800_000_060}
    tokens = BearerTokens(KEY, clock=FakeClock())
    with pytest.raises(BadSignature):
        tokens.verify(forge(header, payload))


def test_alg_none_without_signature_is_refused() -> None:
    head = b64encode(b'{"alg":"none"}')
    body = b64encode(b'{"sub":"ada","iat":1800000000,"exp":1800000060}')
    with pytest.raises(BadSignature):
        BearerTokens(KEY, clock=FakeClock()).verify(f"{head}.{body}.")


@pytest.mark.parametrize(
    "payload",
    [
        {"iat": 1_800_000_000, "exp": 1_800_000_060},
        {"sub": 7, "iat": 1_800_000_000, "exp": 1_800_000_060},
        {"sub": "a", "exp": 1_800_000_060},
        {"sub": "a", "iat": 1_800_000_000},
        {"sub": "a", "iat": 1_800_000_000, "exp": True},
        {"sub": "a", "iat": 1_800_000_000, "exp": "1800000060"},
        {"sub": "a", "iat": 1_800_000_000, "exp": 1_800_000_060, "scope": ["admin"]},
    ],
)
def test_payloads_missing_required_claims_are_refused(payload: dict[str, Any]) -> None:
    with pytest.raises(BadSignature):
        BearerTokens(KEY, clock=FakeClock()).verify(forge({"alg": "HS256"}, payload))


def test_tampering_and_foreign_keys() -> None:
    clock = FakeClock()
    tokens = BearerTokens(KEY, clock=clock)
    header, payload, signature = tokens.issue("bob", ["notes:read"]).split(".")
    body = json.loads(b64decode(payload))
    body["scope"] = "notes:read admin"
    raised = b64encode(json.dumps(body).encode())
    for token in (
        f"{header}.{raised}.{signature}",
        forge({"alg": "HS256"}, body, key="attacker-key-0123456789abcdef"),
        f"{header}.{payload}.{signature[:-2]}",
        f"{header}.{payload}",
        "",
        "a.b.c",
        "x" * 10_000,
    ):
        with pytest.raises(BadSignature):
            tokens.verify(token)


def test_key_rotation() -> None:
    clock = FakeClock()
    old_token = BearerTokens(OLD, clock=clock).issue("ada")
    claims = BearerTokens([KEY, OLD], clock=clock).verify(old_token)
    assert claims.subject == "ada" and claims.key_index == 1
    with pytest.raises(BadSignature):
        BearerTokens([KEY], clock=clock).verify(old_token)


def test_issuer_and_audience_are_checked() -> None:
    clock = FakeClock()
    token = BearerTokens(KEY, clock=clock, issuer="other").issue("ada")
    with pytest.raises(BadSignature):
        BearerTokens(KEY, clock=clock, issuer="covet").verify(token)
    now = int(clock.now)
    listed = forge({"alg": "HS256"}, {"sub": "a", "iat": now, "exp": now + 9, "aud": ["x", "y"]})
    assert BearerTokens(KEY, clock=clock, audience="y").verify(listed).subject == "a"
    with pytest.raises(BadSignature):
        BearerTokens(KEY, clock=clock, audience="z").verify(listed)


def test_bad_issue_arguments() -> None:
    tokens = BearerTokens(KEY)
    with pytest.raises(ValueError, match="scope"):
        tokens.issue("ada", ["two words"])
    with pytest.raises(ValueError, match="exp"):
        tokens.issue("ada", claims={"exp": 1})


def test_signed_but_malformed_tokens_are_refused() -> None:
    # What a leaked key could make: a good signature over a header or payload covet never writes.
    tokens = BearerTokens(KEY, clock=FakeClock())
    for head, body in ((b"not json", b"{}"), (b'{"alg":"HS256"}', b"[1]")):
        signing_input = f"{b64encode(head)}.{b64encode(body)}"
        mac = hmac.new(KEY.encode(), signing_input.encode(), hashlib.sha256).digest()
        with pytest.raises(BadSignature):
            tokens.verify(f"{signing_input}.{b64encode(mac)}")
