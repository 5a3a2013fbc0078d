"""Guards the public names of covet.auth (httpx-style) and its place in the error tree."""

from __future__ import annotations

import subprocess
import sys

import covet.auth
from covet.exceptions import ConfigurationError, CovetError

PUBLIC = {
    "AuthConfigurationError",
    "AuthCredentials",
    "AuthError",
    "AuthenticationBackend",
    "AuthenticationError",
    "AuthenticationMiddleware",
    "BadSignature",
    "BaseUser",
    "BasicAuth",
    "BearerAuth",
    "BearerTokens",
    "CSRFMiddleware",
    "InvalidPasswordHash",
    "PasswordHasher",
    "SessionAuth",
    "SessionMiddleware",
    "SignatureExpired",
    "Signer",
    "SimpleUser",
    "TokenClaims",
    "UnauthenticatedUser",
    "csrf_input",
    "csrf_token",
    "hash_password",
    "login",
    "logout",
    "needs_rehash",
    "parse_basic",
    "requires",
    "safe_next",
    "verify_and_update",
    "verify_password",
}


def test_all_is_exactly_the_public_api() -> None:
    assert set(covet.auth.__all__) == PUBLIC
    assert len(covet.auth.__all__) == len(PUBLIC)


def test_every_name_resolves_and_is_documented() -> None:
    for name in covet.auth.__all__:
        assert getattr(covet.auth, name).__doc__, f"{name} needs a docstring"


def test_errors_are_one_branch_of_the_covet_tree() -> None:
    assert issubclass(covet.auth.AuthError, CovetError)
    for name in ("BadSignature", "AuthenticationError", "InvalidPasswordHash"):
        assert issubclass(getattr(covet.auth, name), covet.auth.AuthError)
    assert issubclass(covet.auth.SignatureExpired, covet.auth.BadSignature)
    assert issubclass(covet.auth.AuthConfigurationError, ConfigurationError)
    assert issubclass(covet.auth.InvalidPasswordHash, ValueError)
    assert "AuthError" in (covet.exceptions.__doc__ or "")


def test_covet_auth_needs_only_the_standard_library() -> None:
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in {'orjson', 'httptools', 'uvloop', 'httpx', 'jwt'}:\n"
        "            raise ImportError(name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import covet.auth as a\n"
        "t = a.BearerTokens('k' * 32)\n"
        "print(t.verify(t.issue('ada', ['x'])).subject, 'covet' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ada True"
