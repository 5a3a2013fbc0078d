"""A covet app using every part of covet.auth, for the TestClient tests and the real server.

``make_app(clock)`` builds one with an injected clock (expiry tests move time instead of
sleeping); ``app`` is the one the socket test serves, on the real clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from covet import Covet, HTMLResponse, Request, WebSocket
from covet.auth import (
    AuthenticationMiddleware,
    BasicAuth,
    BearerAuth,
    BearerTokens,
    CSRFMiddleware,
    PasswordHasher,
    SessionAuth,
    SessionMiddleware,
    csrf_input,
    login,
    logout,
    requires,
)

SESSION_KEYS = ["session-key-newest-0123456789abcdef", "session-key-older-0123456789abcdef"]
TOKEN_KEYS = ["token-key-newest-0123456789abcdef", "token-key-older-0123456789abcdef"]
# Cheap parameters: the tests check the logic, not scrypt's cost.
HASHER = PasswordHasher(ln=4, r=8, p=1)
USERS = {
    "ada": (HASHER.hash("lovelace"), ["notes:read", "notes:write", "admin"]),
    "bob": (HASHER.hash("builder"), ["notes:read"]),
}


def check_password(username: str, password: str) -> bool:
    """A sync verify callback (run in a worker thread by BasicAuth)."""
    stored = USERS.get(username)
    return HASHER.verify(password, stored[0] if stored else None)


def make_app(clock: Callable[[], float] = time.time) -> Covet:
    tokens = BearerTokens(TOKEN_KEYS, max_age=600, clock=clock)
    app = Covet()
    app.state.tokens = tokens
    app.add_middleware(
        AuthenticationMiddleware,
        backends=[SessionAuth(), BasicAuth(check_password, realm="notes"), BearerAuth(tokens)],
    )
    app.add_middleware(CSRFMiddleware, use_session=True)
    app.add_middleware(SessionMiddleware, secret_keys=SESSION_KEYS, max_age=3600, clock=clock)

    @app.get("/login", name="login")
    async def login_form(request: Request) -> HTMLResponse:
        return HTMLResponse(f'<form method="post">{csrf_input(request)}</form>')

    @app.post("/login")
    async def do_login(request: Request) -> dict[str, object]:
        form = await request.form()
        username, password = str(form.get("username", "")), str(form.get("password", ""))
        if not check_password(username, password):
            return {"ok": False}
        login(request, username, USERS[username][1])
        return {"ok": True}

    @app.post("/logout")
    async def do_logout(request: Request) -> dict[str, object]:
        logout(request)
        return {"ok": True}

    @app.post("/token")
    @requires("authenticated")
    async def token(request: Request) -> dict[str, object]:
        scopes = list(request.auth.scopes - {"authenticated"})
        return {"token": tokens.issue(request.user.identity, scopes)}

    @app.get("/me")
    @requires("authenticated")
    async def me(request: Request) -> dict[str, object]:
        return {"user": request.user.display_name, "scopes": list(request.auth)}

    @app.get("/admin")
    @requires(["authenticated", "admin"], redirect="login")
    def admin() -> str:  # sync and without a request: requires must still work
        return "admin area"

    @app.post("/notes")
    @requires("notes:write")
    async def add_note(request: Request) -> dict[str, object]:
        form = await request.form()
        return {"note": form.get("text")}

    @app.post("/visits")
    async def visits(request: Request) -> dict[str, object]:
        request.session["visits"] = request.session.get("visits", 0) + 1
        return {"visits": request.session["visits"]}

    @app.get("/session")
    async def session(request: Request) -> dict[str, object]:
        return dict(request.session)

    @app.websocket("/live")
    @requires("notes:read")
    async def live(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json({"user": websocket.user.display_name})
        await websocket.close()

    return app


app = make_app()
