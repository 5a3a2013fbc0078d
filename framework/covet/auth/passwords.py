"""Password hashing with ``hashlib.scrypt``, in a self-describing string that can be upgraded.

Example::

    stored = hash_password("correct horse")           # "$scrypt$ln=15,r=8,p=1$<salt>$<hash>"
    ok, upgraded = verify_and_update("correct horse", stored)
    if ok and upgraded is not None:
        save(upgraded)  # the parameters changed since it was stored: keep the stronger hash

The string holds the cost parameters (``ln`` = log2 N, ``r``, ``p``), a random 16-byte salt
and the 32-byte hash (unpadded base64url), so old hashes keep verifying after the defaults are
raised and :func:`needs_rehash` tells which ones to upgrade at the next login.

scrypt is deliberately slow (32 MiB and ~0.1 s per call at the defaults on a small VM): call
it from async code through ``await run_in_threadpool(verify_password, password, stored)``
(``covet.concurrency``); hashlib releases the GIL while it works.
``verify_password(password, None)`` spends the same time as a real check and returns False,
so "no such user" and "wrong password" take alike.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import NamedTuple

from covet.auth.exceptions import AuthConfigurationError, BadSignature, InvalidPasswordHash
from covet.auth.signing import b64decode, b64encode

__all__ = [
    "PasswordHasher",
    "hash_password",
    "needs_rehash",
    "verify_and_update",
    "verify_password",
]

_SCHEME = "scrypt"
_ENCODED = re.compile(
    r"\$scrypt\$ln=(?P<ln>[0-9]{1,2}),r=(?P<r>[0-9]{1,3}),p=(?P<p>[0-9]{1,3})"
    r"\$(?P<salt>[A-Za-z0-9_-]{1,128})\$(?P<hash>[A-Za-z0-9_-]{1,256})"
)
# OpenSSL needs 128 * r * (N + p + 2) bytes and CPython passes maxmem as a C int.
_MAX_MEMORY = 2**31 - 1 - 1024 * 1024


class ScryptParams(NamedTuple):
    ln: int
    r: int
    p: int

    @property
    def memory(self) -> int:
        """The bytes scrypt needs with these parameters (OpenSSL's own formula)."""
        return 128 * self.r * ((1 << self.ln) + self.p + 2)

    def check(self) -> None:
        if not (1 <= self.ln <= 30 and 1 <= self.r <= 256 and 1 <= self.p <= 256):
            raise ValueError(f"scrypt parameters out of range: {self}")
        if self.memory > _MAX_MEMORY:
            raise ValueError(f"scrypt parameters {self} need more than 2 GiB of memory")


class _Decoded(NamedTuple):
    params: ScryptParams
    salt: bytes
    hash: bytes


def _decode(encoded: str) -> _Decoded:
    match = _ENCODED.fullmatch(encoded) if isinstance(encoded, str) else None
    if match is None:
        raise InvalidPasswordHash("not a covet scrypt hash ($scrypt$ln=..,r=..,p=..$salt$hash)")
    params = ScryptParams(int(match["ln"]), int(match["r"]), int(match["p"]))
    try:
        params.check()
        return _Decoded(params, b64decode(match["salt"]), b64decode(match["hash"]))
    except (ValueError, BadSignature) as exc:
        raise InvalidPasswordHash(f"unreadable scrypt hash: {exc}") from None


def _derive(password: str | bytes, salt: bytes, params: ScryptParams, size: int) -> bytes:
    secret = password.encode("utf-8") if isinstance(password, str) else password
    return hashlib.scrypt(
        secret,
        salt=salt,
        n=1 << params.ln,
        r=params.r,
        p=params.p,
        maxmem=params.memory + 1024 * 1024,
        dklen=size,
    )


class PasswordHasher:
    """scrypt with fixed cost parameters; hashes made with other parameters still verify.

    :param ln: log2 of scrypt's N (CPU and memory cost). :param r: block size.
    :param p: parallelism. :param salt_size: / :param hash_size: in bytes.

    Example::

        hasher = PasswordHasher(ln=16)          # twice the default cost
        hasher.needs_rehash(old_stored)         # True for hashes made at ln=15
    """

    def __init__(
        self, ln: int = 15, r: int = 8, p: int = 1, salt_size: int = 16, hash_size: int = 32
    ) -> None:
        self.params = ScryptParams(ln, r, p)
        try:
            self.params.check()
        except ValueError as exc:
            raise AuthConfigurationError(str(exc)) from None
        if salt_size < 16 or hash_size < 16:
            raise AuthConfigurationError("salt_size and hash_size must be at least 16 bytes")
        self.salt_size = salt_size
        self.hash_size = hash_size
        # What an absent user is checked against, so refusing one costs a real scrypt call.
        self._dummy = self.hash(secrets.token_urlsafe(16))

    def hash(self, password: str | bytes) -> str:
        """A new encoded hash of ``password`` with a fresh random salt."""
        salt = secrets.token_bytes(self.salt_size)
        digest = _derive(password, salt, self.params, self.hash_size)
        ln, r, p = self.params
        return f"${_SCHEME}$ln={ln},r={r},p={p}${b64encode(salt)}${b64encode(digest)}"

    def verify(self, password: str | bytes, encoded: str | None) -> bool:
        """Whether ``password`` matches ``encoded`` (constant-time comparison).

        ``encoded=None`` (no such user) costs the same as a real check and returns False.
        Raises :class:`InvalidPasswordHash` when ``encoded`` is not a hash covet wrote.
        """
        decoded = _decode(self._dummy if encoded is None else encoded)
        computed = _derive(password, decoded.salt, decoded.params, len(decoded.hash))
        return hmac.compare_digest(computed, decoded.hash) and encoded is not None

    def needs_rehash(self, encoded: str) -> bool:
        """Whether ``encoded`` was made with other parameters than this hasher's."""
        decoded = _decode(encoded)
        return (
            decoded.params != self.params
            or len(decoded.salt) != self.salt_size
            or len(decoded.hash) != self.hash_size
        )

    def verify_and_update(
        self, password: str | bytes, encoded: str | None
    ) -> tuple[bool, str | None]:
        """``(matches, new_hash)``: ``new_hash`` is a fresh hash under this hasher's parameters
        when the password matched and ``encoded`` needs a rehash, else None."""
        if not self.verify(password, encoded):
            return False, None
        if encoded is not None and self.needs_rehash(encoded):
            return True, self.hash(password)
        return True, None


_default: PasswordHasher | None = None


def _hasher() -> PasswordHasher:
    global _default
    if _default is None:  # built on first use: the dummy hash costs one scrypt call
        _default = PasswordHasher()
    return _default


def hash_password(password: str | bytes) -> str:
    """Hash ``password`` with the default parameters (see :class:`PasswordHasher`)."""
    return _hasher().hash(password)


def verify_password(password: str | bytes, encoded: str | None) -> bool:
    """Whether ``password`` matches the stored ``encoded`` hash (None: no user, False)."""
    return _hasher().verify(password, encoded)


def needs_rehash(encoded: str) -> bool:
    """Whether ``encoded`` should be replaced by a hash under the default parameters."""
    return _hasher().needs_rehash(encoded)


def verify_and_update(password: str | bytes, encoded: str | None) -> tuple[bool, str | None]:
    """``(matches, new_hash_or_None)`` under the default parameters."""
    return _hasher().verify_and_update(password, encoded)
