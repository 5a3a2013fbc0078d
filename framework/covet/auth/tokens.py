"""Bearer tokens: HS256 JSON Web Tokens (RFC 7519) signed and checked with the stdlib.

Example::

    tokens = BearerTokens(secret_keys=[os.environ["TOKEN_KEY"]], max_age=3600)
    token = tokens.issue("ada", scopes=["notes:read"])
    claims = tokens.verify(token)  # BadSignature / SignatureExpired when it is not good
    claims.subject, claims.scopes    # "ada", frozenset({"notes:read"})

The tokens are ordinary JWTs (header ``{"alg":"HS256","typ":"JWT"}``), so any JWT library can
read them with the same key; scopes travel in the ``scope`` claim as one space-separated string
(RFC 9068). Verification accepts only HS256 (never ``alg: none`` or a public-key algorithm an
attacker could pick), refuses a ``crit`` header it cannot honour, needs ``sub``, ``iat`` and
``exp``, honours ``nbf``, and checks ``iss`` / ``aud`` when configured. Tokens are signed with
the first key and accepted under any (key rotation); every key is tried in constant time.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from covet._json import dumps, loads
from covet.auth.exceptions import BadSignature, SignatureExpired
from covet.auth.signing import (
    Clock,
    SecretKeys,
    b64decode,
    b64encode,
    hmac_sha256,
    matching_key,
    normalize_keys,
)

__all__ = ["BearerTokens", "TokenClaims"]

_HEADER = b64encode(dumps({"alg": "HS256", "typ": "JWT"}))
_RESERVED = frozenset({"sub", "scope", "iat", "exp", "nbf", "iss", "aud"})
MAX_TOKEN_LENGTH = 8192


@dataclass(frozen=True)
class TokenClaims:
    """A verified token: who (``subject``), what they may do (``scopes``), and until when."""

    subject: str
    scopes: frozenset[str]
    issued_at: float
    expires_at: float
    claims: Mapping[str, Any] = field(default_factory=dict)  # the whole payload
    key_index: int = 0  # > 0: signed under an older key


def _numeric_date(payload: Mapping[str, Any], name: str, required: bool) -> float | None:
    value = payload.get(name)
    if value is None and not required:
        return None
    if type(value) is not int and type(value) is not float:  # bool is an int: refused here
        raise BadSignature(f"claim {name} is not a NumericDate")
    return float(value)


class BearerTokens:
    """Issue and verify signed bearer tokens with an expiry, a subject and scopes.

    :param secret_keys: newest first (at least 16 bytes each; 32 random bytes recommended).
    :param max_age: default lifetime in seconds of an issued token.
    :param issuer: / :param audience: written into tokens and required on verification.
    :param leeway: seconds of clock skew tolerated for ``exp``, ``nbf`` and ``iat``.
    :param clock: seconds since the epoch (tests inject one).
    """

    def __init__(
        self,
        secret_keys: SecretKeys,
        *,
        max_age: int = 3600,
        issuer: str | None = None,
        audience: str | None = None,
        leeway: int = 0,
        clock: Clock = time.time,
    ) -> None:
        self._keys = normalize_keys(secret_keys)
        self.max_age = max_age
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway
        self.clock = clock

    def issue(
        self,
        subject: str,
        scopes: Iterable[str] = (),
        *,
        max_age: int | None = None,
        claims: Mapping[str, Any] | None = None,
    ) -> str:
        """A token for ``subject`` granting ``scopes``, valid for ``max_age`` seconds."""
        scope_list = sorted(set(scopes))
        for scope in scope_list:
            if not scope or any(char.isspace() for char in scope):
                raise ValueError(f"scope {scope!r}: one non-empty word without spaces")
        extra = dict(claims or {})
        clash = sorted(_RESERVED & extra.keys())
        if clash:
            raise ValueError(f"claims {clash} are set by issue() itself")
        now = int(self.clock())
        payload: dict[str, Any] = {
            "sub": subject,
            "iat": now,
            "exp": now + (self.max_age if max_age is None else max_age),
            **extra,
        }
        if scope_list:
            payload["scope"] = " ".join(scope_list)
        if self.issuer is not None:
            payload["iss"] = self.issuer
        if self.audience is not None:
            payload["aud"] = self.audience
        signing_input = f"{_HEADER}.{b64encode(dumps(payload))}"
        signature = hmac_sha256(self._keys[0], signing_input.encode("ascii"))
        return f"{signing_input}.{b64encode(signature)}"

    def verify(self, token: str) -> TokenClaims:
        """The claims of a good token; :class:`SignatureExpired` when it expired (or is not
        valid yet), :class:`BadSignature` for any other fault."""
        if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 2:
            raise BadSignature("not a compact JWS")
        header_b64, payload_b64, signature_b64 = token.split(".")
        header_raw = b64decode(header_b64)
        payload_raw = b64decode(payload_b64)
        signature = b64decode(signature_b64)
        signing_input = f"{header_b64}.{payload_b64}".encode("ascii")
        index = matching_key(self._keys, signing_input, signature)
        if index is None:
            raise BadSignature("signature mismatch")
        try:
            header, payload = loads(header_raw), loads(payload_raw)
        except ValueError:
            raise BadSignature("header or payload is not JSON") from None
        if not isinstance(header, dict) or header.get("alg") != "HS256" or "crit" in header:
            raise BadSignature("not an HS256 token")
        if not isinstance(payload, dict):
            raise BadSignature("payload is not an object")
        return self._claims(payload, index)

    def _claims(self, payload: dict[str, Any], index: int) -> TokenClaims:
        subject = payload.get("sub")
        if not isinstance(subject, str):
            raise BadSignature("no subject")
        scope = payload.get("scope", "")
        if not isinstance(scope, str):
            raise BadSignature("scope is not a string")
        issued = _numeric_date(payload, "iat", required=True)
        expires = _numeric_date(payload, "exp", required=True)
        not_before = _numeric_date(payload, "nbf", required=False)
        if self.issuer is not None and payload.get("iss") != self.issuer:
            raise BadSignature("wrong issuer")
        if self.audience is not None:
            audience = payload.get("aud")
            listed = audience if isinstance(audience, list) else [audience]
            if self.audience not in listed:
                raise BadSignature("wrong audience")
        now = self.clock()
        leeway = self.leeway
        if (
            expires is None
            or issued is None
            or now >= expires + leeway
            or issued > now + leeway
            or (not_before is not None and not_before > now + leeway)
        ):
            raise SignatureExpired("expired or not valid yet")
        return TokenClaims(subject, frozenset(scope.split()), issued, expires, payload, index)
