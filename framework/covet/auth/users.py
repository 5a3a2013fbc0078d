"""Who made a request (``request.user``) and what they may do (``request.auth``).

An authentication backend returns ``(AuthCredentials(scopes), user)``; any object with
``is_authenticated``, ``display_name`` and ``identity`` will do as the user, so an app's own
user record can be returned directly.

Example::

    user = SimpleUser("ada")
    creds = AuthCredentials(["notes:read", "notes:write"])
    "notes:write" in creds  # True
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol, runtime_checkable

__all__ = ["AuthCredentials", "BaseUser", "SimpleUser", "UnauthenticatedUser"]


@runtime_checkable
class BaseUser(Protocol):
    """What covet.auth needs of a user object."""

    @property
    def is_authenticated(self) -> bool: ...

    @property
    def display_name(self) -> str: ...

    @property
    def identity(self) -> str: ...


class SimpleUser:
    """An authenticated user known only by a name (Basic auth, a token's subject)."""

    def __init__(self, username: str) -> None:
        self.username = username

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def display_name(self) -> str:
        return self.username

    @property
    def identity(self) -> str:
        return self.username

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SimpleUser) and other.username == self.username

    def __hash__(self) -> int:
        return hash(self.username)

    def __repr__(self) -> str:
        return f"SimpleUser({self.username!r})"


class UnauthenticatedUser:
    """Nobody: what ``request.user`` is when no backend recognised the request."""

    @property
    def is_authenticated(self) -> bool:
        return False

    @property
    def display_name(self) -> str:
        return ""

    @property
    def identity(self) -> str:
        return ""

    def __repr__(self) -> str:
        return "UnauthenticatedUser()"


class AuthCredentials:
    """The scopes a request was granted (``"notes:write" in request.auth``)."""

    __slots__ = ("scopes",)

    def __init__(self, scopes: Iterable[str] = ()) -> None:
        if isinstance(scopes, str):  # "a b" would otherwise become {"a", " ", "b"}
            scopes = scopes.split()
        self.scopes: frozenset[str] = frozenset(scopes)

    def __contains__(self, scope: object) -> bool:
        return scope in self.scopes

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.scopes))

    def has_all(self, scopes: Iterable[str]) -> bool:
        return self.scopes.issuperset(scopes)

    def __repr__(self) -> str:
        return f"AuthCredentials({sorted(self.scopes)!r})"
