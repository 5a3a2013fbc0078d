"""What a browser does with the guestbook's forms, for any httpx client (in-process or socket).

A form page holds a fresh CSRF token in a hidden field; submitting means reading that page,
then posting the fields with its token, without following the redirect (tests look at it).
"""

from __future__ import annotations

import re

import httpx
from markupsafe import escape

_TOKEN = re.compile(r'name="csrf_token" value="([A-Za-z0-9_-]+)"')
_VALUES = re.compile(r'value="[^"]*"')
PASSWORD = "correct horse battery staple"
# Everything a page must never send back raw: markup, an attribute breaker, an entity.
HOSTILE = "<script>alert(\"pwned\")</script> & <img src=x onerror='alert(1)'>"


def escaped(text: str) -> str:
    """``text`` as Jinja2's autoescape writes it."""
    return str(escape(text))


def csrf_token(client: httpx.Client, page: str) -> str:
    response = client.get(page)
    assert response.status_code == 200, (page, response.status_code)
    found = _TOKEN.search(response.text)
    assert found is not None, f"no CSRF token on {page}"
    return found.group(1)


def submit(
    client: httpx.Client, action: str, fields: dict[str, str], page: str | None = None
) -> httpx.Response:
    """Post ``fields`` to ``action`` with the token of the form on ``page`` (default: action)."""
    token = csrf_token(client, page or action)
    return client.post(action, data={**fields, "csrf_token": token}, follow_redirects=False)


def register(client: httpx.Client, username: str, password: str = PASSWORD) -> httpx.Response:
    response = submit(client, "/register", {"username": username, "password": password})
    assert response.status_code == 303, response.text
    return response


def without_values(html: str) -> str:
    """``html`` with every ``value="..."`` emptied (tokens and echoed input differ per page)."""
    return _VALUES.sub('value=""', html)
