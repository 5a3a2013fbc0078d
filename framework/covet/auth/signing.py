"""Signed, expiring JSON values: the one HMAC-SHA256 primitive under sessions and links.

Example::

    signer = Signer(["new-secret-key-32-bytes-or-more!", "the-key-before-it-also-32-bytes!"],
                    purpose="password-reset")
    link_token = signer.sign({"user": 7}, max_age=3600)
    signer.unsign(link_token).data  # {"user": 7}; BadSignature / SignatureExpired otherwise

A signed value is ``<payload>.<signature>``, both unpadded base64url; the payload is the JSON
object ``{"d": data, "iat": issued_at, "exp": expires_at}`` (seconds since the epoch), so the
expiry is covered by the signature and cannot be stretched by the client.

Key rotation: values are signed with the first key and accepted under any key of the list; the
index of the key that verified is returned, so callers re-sign values made under an older key.
Each key is first derived for its ``purpose`` (HMAC of the purpose under the key), so a value
signed for one purpose (a session cookie) never verifies for another (a reset link) even when
both are configured with the same secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from covet._json import dumps, loads
from covet.auth.exceptions import AuthConfigurationError, BadSignature, SignatureExpired

__all__ = ["Clock", "SecretKeys", "Signed", "Signer", "b64decode", "b64encode", "normalize_keys"]

Clock = Callable[[], float]
SecretKeys = str | bytes | Sequence[str | bytes]

# Shorter keys are brute-forceable offline from any one signed cookie.
MIN_KEY_BYTES = 16
_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def b64encode(data: bytes) -> str:
    """Unpadded base64url text (RFC 4648 section 5), as JWTs and cookies want it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64decode(text: str) -> bytes:
    """The bytes of unpadded base64url ``text``; BadSignature for anything else."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise BadSignature("not base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise BadSignature("not base64url") from None
    # Unused low bits of the last character must be zero: one value, one spelling, so a
    # signed value cannot be varied (and replayed as "new") without the key.
    if b64encode(data) != text:
        raise BadSignature("not canonical base64url")
    return data


def normalize_keys(keys: SecretKeys) -> tuple[bytes, ...]:
    """The configured keys as bytes, newest first; refuses none, empty or short ones."""
    listed = [keys] if isinstance(keys, str | bytes) else list(keys)
    if not listed:
        raise AuthConfigurationError("secret_keys: give at least one key (newest first)")
    encoded: list[bytes] = []
    for key in listed:
        if not isinstance(key, str | bytes):
            raise AuthConfigurationError(f"secret_keys: a key must be str or bytes, not {key!r}")
        raw = key.encode("utf-8") if isinstance(key, str) else bytes(key)
        if len(raw) < MIN_KEY_BYTES:
            raise AuthConfigurationError(
                f"secret_keys: a key of {len(raw)} bytes is too short (at least {MIN_KEY_BYTES}; "
                "make one with: python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        encoded.append(raw)
    return tuple(encoded)


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def matching_key(keys: Sequence[bytes], message: bytes, signature: bytes) -> int | None:
    """The index of the key whose HMAC of ``message`` is ``signature``, or None.

    Every key is tried, with constant-time comparisons, so the time taken says nothing about
    which key (if any) matched.
    """
    found: int | None = None
    for index, key in enumerate(keys):
        if hmac.compare_digest(hmac_sha256(key, message), signature) and found is None:
            found = index
    return found


@dataclass(frozen=True)
class Signed:
    """What :meth:`Signer.unsign` found: the data, its times, and which key verified it."""

    data: Any
    issued_at: int
    expires_at: int
    key_index: int

    @property
    def needs_resign(self) -> bool:
        """Signed under an older key: sign it again with the newest one."""
        return self.key_index > 0


class Signer:
    """Sign JSON-serialisable data with an expiry; verify with constant-time comparisons.

    :param secret_keys: one key, or a list newest first (at least 16 bytes each).
    :param purpose: separates signatures of different uses made with the same keys.
    :param clock: seconds since the epoch; tests inject a fake one instead of sleeping.
    :param max_length: longest signed value :meth:`unsign` looks at (longer: BadSignature).
    """

    def __init__(
        self,
        secret_keys: SecretKeys,
        *,
        purpose: str,
        clock: Clock = time.time,
        max_length: int = 8192,
    ) -> None:
        raw = normalize_keys(secret_keys)
        label = b"covet.auth.signing:" + purpose.encode("utf-8")
        self._keys = tuple(hmac_sha256(key, label) for key in raw)
        self.clock = clock
        self.max_length = max_length

    def sign(self, data: Any, max_age: int) -> str:
        """``data`` signed under the newest key, valid for ``max_age`` seconds from now."""
        now = int(self.clock())
        payload = b64encode(dumps({"d": data, "iat": now, "exp": now + int(max_age)}))
        message = payload.encode("ascii")
        return f"{payload}.{b64encode(hmac_sha256(self._keys[0], message))}"

    def unsign(self, value: str, *, leeway: int = 0) -> Signed:
        """The data of a value made by :meth:`sign`.

        Raises :class:`SignatureExpired` past its expiry (or when issued more than ``leeway``
        seconds in the future), :class:`BadSignature` for anything else wrong with it.
        """
        if not isinstance(value, str) or len(value) > self.max_length:
            raise BadSignature("too long or not text")
        payload, sep, signature = value.rpartition(".")
        if not sep or not _B64URL.fullmatch(payload):
            raise BadSignature("no signature, or a payload that is not base64url")
        index = matching_key(self._keys, payload.encode("ascii"), b64decode(signature))
        if index is None:
            raise BadSignature("signature mismatch")
        try:
            body = loads(b64decode(payload))
        except ValueError:  # cannot happen for a value we signed, unless a key leaked
            raise BadSignature("payload is not JSON") from None
        if not isinstance(body, dict):
            raise BadSignature("payload is not an object")
        issued, expires = body.get("iat"), body.get("exp")
        if type(issued) is not int or type(expires) is not int:
            raise BadSignature("payload without times")
        now = self.clock()
        if now >= expires or issued > now + leeway:
            raise SignatureExpired("expired or issued in the future")
        return Signed(body.get("d"), issued, expires, index)
