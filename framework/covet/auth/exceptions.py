"""Errors raised by covet.auth, a branch of the one covet tree (`covet.exceptions`).

    CovetError
     +-- AuthError
          +-- BadSignature           a signed value (session cookie, token) failed its check
          |    +-- SignatureExpired  the signature is good but the value is past its expiry
          +-- AuthenticationError    credentials were presented and refused (a backend's 401)
          +-- InvalidPasswordHash    (also a ValueError) a stored hash covet cannot read
          +-- AuthConfigurationError (also a ConfigurationError) a weak key, a missing middleware

None of these messages is ever sent to a client: the middleware answer a bare 401 or 403 and
the reason stays in the exception (for logs and tests), so a forger learns nothing from a refusal.
"""

from __future__ import annotations

from covet.exceptions import ConfigurationError, CovetError

__all__ = [
    "AuthConfigurationError",
    "AuthError",
    "AuthenticationError",
    "BadSignature",
    "InvalidPasswordHash",
    "SignatureExpired",
]


class AuthError(CovetError):
    """Root of every error covet.auth raises."""


class BadSignature(AuthError):
    """A signed value was malformed, tampered with, or signed with a key we do not hold."""


class SignatureExpired(BadSignature):
    """The signature checks out but the value expired (or claims to be issued in the future)."""


class AuthenticationError(AuthError):
    """Raised by an authentication backend when presented credentials are wrong.

    :class:`~covet.auth.AuthenticationMiddleware` answers it with 401 and the backend's
    challenge; the message is for logs only.
    """


class InvalidPasswordHash(AuthError, ValueError):
    """An encoded password hash is not one covet wrote (wrong scheme, bad fields, bad base64)."""


class AuthConfigurationError(AuthError, ConfigurationError):
    """covet.auth was set up wrongly: a short or empty secret key, a bad option, or
    ``request.session`` / ``request.user`` read without the middleware that provides it."""
