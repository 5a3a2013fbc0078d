"""The guestbook as servers import it: ``covet serve examples.guestbook.app:app``.

Importing this module builds the app from the environment (see :mod:`.settings`; without
``GUESTBOOK_SECRET_KEYS`` that makes ``guestbook.secret`` in the working directory). Tests and
embedders call :func:`~examples.guestbook.factory.create_app` with their own settings instead.
"""

from __future__ import annotations

from examples.guestbook.factory import create_app

__all__ = ["app"]

app = create_app()
