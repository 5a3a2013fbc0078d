"""Registering, signing in and signing out: scrypt hashes, a signed session, CSRF on every post.

A wrong password and an unknown name get the same page, the same status (401) and take the
same time (a missing account is checked against a dummy hash), so neither tells which names
exist; registration cannot avoid telling that a name is taken.
"""

from __future__ import annotations

from covet import Covet, RedirectResponse, Request, Response
from covet.auth import hash_password, login, logout, safe_next, verify_and_update
from covet.concurrency import run_in_threadpool
from examples.guestbook.forms import (
    FormError,
    clean_password,
    clean_username,
    read_form,
)
from examples.guestbook.services import Guestbook, path_for
from examples.guestbook.store import UsernameTaken

__all__ = ["add_account_routes"]

WRONG_LOGIN = "Wrong username or password."


def add_account_routes(app: Covet, gb: Guestbook) -> None:
    """Declare ``/register``, ``/login`` and ``/logout`` on ``app``."""

    def after_login(request: Request, target: str | None) -> RedirectResponse:
        # Only a path on this site: ?next=//evil.example would be an open redirect.
        return RedirectResponse(safe_next(target, default=path_for(request, "index")), 303)

    @app.get("/register", name="register")
    async def register_form(request: Request) -> Response:
        return gb.render(request, "register.html")

    @app.post("/register")
    async def register(request: Request) -> Response:
        fields = await read_form(request, "username", "password")
        try:
            username = clean_username(fields["username"])
            password = clean_password(fields["password"])
        except FormError as exc:
            context = {"error": str(exc), "username": fields["username"]}
            return gb.render(request, "register.html", context, 400)
        # scrypt takes ~0.1 s of CPU on purpose: off the event loop (hashlib releases the GIL).
        password_hash = await run_in_threadpool(hash_password, password)
        try:
            account = await gb.store.create_account(username, password_hash)
        except UsernameTaken:
            context = {"error": "That username is taken.", "username": username}
            return gb.render(request, "register.html", context, 409)
        login(request, account.identity)
        return after_login(request, None)

    @app.get("/login", name="login")
    async def login_form(request: Request) -> Response:
        return gb.render(request, "login.html", {"next": request.query_params.get("next", "")})

    @app.post("/login")
    async def sign_in(request: Request) -> Response:
        fields = await read_form(request, "username", "password", "next")
        try:
            found = await gb.store.credentials(clean_username(fields["username"]))
        except FormError:
            found = None
        stored = found[1] if found else None  # None: verified against a dummy, same cost
        ok, upgraded = await run_in_threadpool(verify_and_update, fields["password"], stored)
        if not ok or found is None:
            context = {"error": WRONG_LOGIN, "username": fields["username"], "next": fields["next"]}
            return gb.render(request, "login.html", context, 401)
        account = found[0]
        if upgraded:  # the hash was made with older scrypt parameters: store the new one
            await gb.store.set_password_hash(account.id, upgraded)
        login(request, account.identity)  # a fresh session (and CSRF secret): no fixation
        return after_login(request, fields["next"])

    @app.post("/logout", name="logout")
    async def sign_out(request: Request) -> Response:
        logout(request)
        return RedirectResponse(path_for(request, "index"), 303)
