"""A small multi-user guestbook built on every part of covet.

People register and sign in (scrypt-hashed passwords, a signed session cookie), write entries
through a CSRF-protected form, and every open page sees new entries arrive over a WebSocket.
Entries live in SQLite by default, or in PostgreSQL when ``COVET_DATABASE_URL`` says so.

- ``app``: the app servers import; ``factory``: ``create_app()`` (middleware, ``/live``)
- ``pages``: entries (list, one, by author, post, delete), static files, health check
- ``accounts``: register, login, logout; ``forms``: what each form field accepts
- ``store``: the tables and every SQL statement (covet.db, parameters only)
- ``live``: the fan-out of new entries to open pages
- ``services``: what the routes share; ``settings``: the environment variables

Run it from the repository root: ``python -m examples.guestbook`` (see README.md).
"""
