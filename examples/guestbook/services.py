"""What the guestbook's routes share: its settings, database, queries, live feed and templates."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from covet import Request
from covet.auth import csrf_input
from covet.db import Database
from covet.templating import Jinja2Templates, TemplateResponse
from examples.guestbook.live import LiveFeed
from examples.guestbook.settings import Settings
from examples.guestbook.store import Account, Entry, GuestbookStore

__all__ = ["HERE", "Guestbook", "entry_message", "path_for"]

HERE = Path(__file__).resolve().parent


def _page_context(request: Request) -> dict[str, Any]:
    # csrf_field is called by the templates that hold a form, so pages without one (most
    # pages for visitors) do not start a session just to carry a CSRF secret.
    return {"user": request.user, "csrf_field": lambda: csrf_input(request)}


def path_for(request: Request, name: str, /, **params: Any) -> str:
    """The path of route ``name`` under this app's root path (no scheme or host)."""
    return str(request.scope.get("root_path") or "") + request.app.url_path_for(name, **params)


def entry_message(request: Request, entry: Entry) -> dict[str, Any]:
    """A new entry as the live channel sends it; the page inserts it as text, never HTML."""
    return {
        "type": "entry",
        "entry": {
            "id": entry.id,
            "author": entry.author,
            "body": entry.body,
            "created_at": entry.created_at,
            "url": path_for(request, "entry", entry_id=entry.id),
            "author_url": path_for(request, "user", username=entry.author),
        },
    }


@dataclass
class Guestbook:
    """One app's services; the routes reach them through the closure that declared them."""

    settings: Settings
    db: Database
    store: GuestbookStore
    feed: LiveFeed
    templates: Jinja2Templates

    @classmethod
    def from_settings(cls, settings: Settings) -> Guestbook:
        db = Database(settings.database_url)
        templates = Jinja2Templates(
            directory=HERE / "templates",
            context_processors=[_page_context],
            trim_blocks=True,
            lstrip_blocks=True,
        )
        return cls(settings, db, GuestbookStore(db), LiveFeed(), templates)

    async def load_user(self, identity: str) -> Account | None:
        """The signed-in account (SessionAuth's ``load_user``): None if it no longer exists."""
        if not identity.isdigit():
            return None
        return await self.store.account(int(identity))

    def render(
        self,
        request: Request,
        template: str,
        context: dict[str, Any] | None = None,
        status_code: int = 200,
    ) -> TemplateResponse:
        return self.templates.TemplateResponse(request, template, context, status_code)
