"""The guestbook under covet's real server on 127.0.0.1, over sockets, on SQLite and PostgreSQL.

One visit from start to end: register, log out, a wrong password, log in, forms without or
with a forged CSRF token, an entry with markup in it (rendered escaped, and pushed raw as JSON
text over the WebSocket to a page that was already open), log out.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import asyncpg
import httpx
from websockets.sync.client import ClientConnection, connect

from examples.guestbook.accounts import WRONG_LOGIN
from examples.guestbook.factory import SECURITY_HEADERS
from examples.guestbook.tests.browser import (
    HOSTILE,
    PASSWORD,
    escaped,
    register,
    submit,
    without_values,
)
from examples.guestbook.tests.conftest import Serve

FORBIDDEN = b'{"detail":"Forbidden"}'


def _live(ws_url: str, origin: str) -> ClientConnection:
    # The Origin a browser sends from the guestbook's own page (CSRFMiddleware checks it).
    headers = {"Origin": origin}
    return connect(ws_url + "/live", additional_headers=headers, open_timeout=10, close_timeout=5)


def _next_message(live: ClientConnection) -> dict[str, object]:
    message = json.loads(live.recv(timeout=10))
    assert isinstance(message, dict)
    return message


def test_a_visit_on_sqlite_through_the_readme_command(serve: Serve, tmp_path: Path) -> None:
    server = serve(f"sqlite:///{tmp_path / 'guestbook.db'}", True)
    base = server.base_url
    with httpx.Client(base_url=base, timeout=10) as browser, _live(server.ws_url, base) as live:
        home = browser.get("/")
        assert home.status_code == 200
        assert home.headers["content-encoding"] == "gzip"  # GZipMiddleware
        assert len(home.headers["x-request-id"]) == 32  # RequestIDMiddleware
        for name, value in SECURITY_HEADERS.items():  # the function middleware
            assert home.headers[name] == value
        assert f'data-live="{base}/live"' in home.text  # url_for in the template

        cookie = register(browser, "ada").headers["set-cookie"]
        assert cookie.startswith("session=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert 'href="' + base + '/users/ada"' in browser.get("/").text
        assert submit(browser, "/logout", {}, page="/").status_code == 303
        assert "session" not in browser.cookies

        wrong = submit(browser, "/login", {"username": "ada", "password": "not the password"})
        nobody = submit(browser, "/login", {"username": "nobody", "password": "not the password"})
        assert wrong.status_code == nobody.status_code == 401
        assert WRONG_LOGIN in wrong.text and "Log out" not in browser.get("/").text
        # Nothing tells a wrong password from an unknown name but the name typed in.
        assert without_values(wrong.text) == without_values(nobody.text)

        signed_in = submit(
            browser,
            "/login",
            {"username": "ada", "password": PASSWORD, "next": "/users/ada"},
            page="/login?next=/users/ada",
        )
        assert (signed_in.status_code, signed_in.headers["location"]) == (303, "/users/ada")

        missing = browser.post("/entries", data={"body": "no token"})
        forged = browser.post("/entries", data={"body": "forged", "csrf_token": "A" * 86})
        for refused in (missing, forged):
            assert (refused.status_code, refused.content) == (403, FORBIDDEN)

        posted = submit(browser, "/entries", {"body": HOSTILE}, page="/")
        assert (posted.status_code, posted.headers["location"]) == (303, "/")
        # The first message on the channel: the refused posts were never published.
        message = _next_message(live)
        assert message["type"] == "entry"
        entry = message["entry"]
        assert isinstance(entry, dict)
        assert (entry["author"], entry["body"]) == ("ada", HOSTILE)

        page = browser.get("/").text
        assert escaped(HOSTILE) in page and "<script>alert" not in page
        assert "no token" not in page and "forged" not in page
        one = browser.get(str(entry["url"]))
        assert one.status_code == 200 and escaped(HOSTILE) in one.text

        assert submit(browser, "/logout", {}, page="/").status_code == 303
        anonymous = submit(browser, "/entries", {"body": "after logout"}, page="/login")
        assert anonymous.status_code == 303
        assert anonymous.headers["location"] == "/login?next=%2Fentries"

    foreign = httpx.get(base + "/", headers={"host": "evil.example"})  # TrustedHostMiddleware
    assert (foreign.status_code, foreign.text) == (400, "Invalid host header")


def test_postgresql_by_url_through_covet_serve(serve: Serve, pg_url: str) -> None:
    server = serve(pg_url, False)
    base = server.base_url
    injection = "'); DROP TABLE guestbook_entries; --"
    with httpx.Client(base_url=base, timeout=10) as browser, _live(server.ws_url, base) as live:
        assert browser.get("/healthz").json() == {"status": "ok", "database": "postgresql"}
        register(browser, "grace")
        assert submit(browser, "/entries", {"body": injection}, page="/").status_code == 303
        entry = _next_message(live)["entry"]
        assert isinstance(entry, dict)
        assert (entry["author"], entry["body"]) == ("grace", injection)
        assert escaped(injection) in browser.get("/users/grace").text

    async def stored() -> list[tuple[str, str]]:
        conn = await asyncpg.connect(pg_url, timeout=10)
        try:
            rows = await conn.fetch(
                "SELECT u.username, e.body FROM guestbook_entries e "
                "JOIN guestbook_users u ON u.id = e.user_id"
            )
            return [(row["username"], row["body"]) for row in rows]
        finally:
            await conn.close()

    assert asyncio.run(stored()) == [("grace", injection)]  # data, and the table still there
