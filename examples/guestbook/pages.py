"""The guestbook's pages: the list of entries, one entry, one author, posting and deleting.

Reading is open to everyone; posting and deleting need a signed-in user (``@requires``
sends visitors to the login page) and, like every form post, a CSRF token (checked by
``CSRFMiddleware`` before these handlers run). Each new or deleted entry is also announced on
the live channel, so open pages update without a reload.
"""

from __future__ import annotations

from typing import Any

from covet import Covet, FileResponse, HTTPException, RedirectResponse, Request, Response
from covet.auth import requires
from examples.guestbook.forms import ENTRY_MAX_CHARS, FormError, clean_entry, read_form
from examples.guestbook.services import HERE, Guestbook, entry_message, path_for
from examples.guestbook.store import Account

__all__ = ["PAGE_SIZE", "add_page_routes"]

PAGE_SIZE = 20
# The only files /static/ serves, by name: nothing a request says becomes a file path.
STATIC_FILES = {
    "live.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}


def _before(request: Request) -> int | None:
    """``?before=<entry id>``: the page of entries older than that one."""
    raw = request.query_params.get("before")
    if raw is None:
        return None
    if not raw.isascii() or not raw.isdigit() or not 0 < int(raw) < 2**63:
        raise HTTPException(400, detail="before must be an entry number")
    return int(raw)


def add_page_routes(app: Covet, gb: Guestbook) -> None:
    """Declare the entry pages, the static files and the health check on ``app``."""

    async def index_page(request: Request, status_code: int = 200, **extra: Any) -> Response:
        before = _before(request)
        entries = await gb.store.latest(PAGE_SIZE + 1, before)
        older = entries[PAGE_SIZE - 1].id if len(entries) > PAGE_SIZE else None
        context = {
            "entries": entries[:PAGE_SIZE],
            "older": older,
            "first_page": before is None,
            "max_chars": ENTRY_MAX_CHARS,
            **extra,
        }
        return gb.render(request, "index.html", context, status_code)

    @app.get("/", name="index")
    async def index(request: Request) -> Response:
        return await index_page(request)

    @app.post("/entries", name="create_entry")
    @requires("authenticated", redirect="login")
    async def create_entry(request: Request) -> Response:
        fields = await read_form(request, "body")
        try:
            body = clean_entry(fields["body"])
        except FormError as exc:
            return await index_page(request, 400, error=str(exc), draft=fields["body"])
        author: Account = request.user
        entry = await gb.store.add_entry(author, body)
        gb.feed.publish(entry_message(request, entry))
        return RedirectResponse(path_for(request, "index"), 303)

    @app.get("/entries/{entry_id:int}", name="entry")
    async def entry(request: Request) -> Response:
        found = await gb.store.entry(request.path_params["entry_id"])
        if found is None:
            raise HTTPException(404)
        return gb.render(request, "entry.html", {"entry": found})

    @app.post("/entries/{entry_id:int}/delete", name="delete_entry")
    @requires("authenticated", redirect="login")
    async def delete_entry(request: Request) -> Response:
        entry_id: int = request.path_params["entry_id"]
        if not await gb.store.delete_entry(entry_id, request.user):
            # Someone else's entry, or none at all: say which, as the pages show both anyway.
            raise HTTPException(404 if await gb.store.entry(entry_id) is None else 403)
        gb.feed.publish({"type": "deleted", "id": entry_id})
        return RedirectResponse(path_for(request, "index"), 303)

    @app.get("/users/{username}", name="user")
    async def author(request: Request) -> Response:
        username: str = request.path_params["username"]
        if await gb.store.account_named(username) is None:
            raise HTTPException(404)
        entries = await gb.store.by_author(username, PAGE_SIZE)
        return gb.render(request, "user.html", {"author": username, "entries": entries})

    @app.get("/static/{name}", name="static")
    async def static(request: Request) -> Response:
        name: str = request.path_params["name"]
        media_type = STATIC_FILES.get(name)
        if media_type is None:
            raise HTTPException(404)
        headers = {"Cache-Control": "public, max-age=300"}
        return FileResponse(HERE / "static" / name, headers=headers, media_type=media_type)

    @app.get("/healthz", name="health")
    async def health() -> dict[str, str]:
        # One round trip: an unreachable database raises DatabaseUnavailable, which covet
        # answers with 503, so a load balancer takes this instance out until it recovers.
        await gb.db.fetchval("SELECT 1")
        return {"status": "ok", "database": gb.db.dialect}
