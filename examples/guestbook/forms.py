"""What the guestbook accepts from its forms, checked in one place.

Every check returns the cleaned value or raises :class:`FormError` with a message written for
the person filling in the form (it is shown on the page, autoescaped). Where a login may send
the user back to is covet.auth's ``safe_next`` (no open redirect).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from covet import HTTPException, Request

__all__ = [
    "ENTRY_MAX_CHARS",
    "MAX_BODY_BYTES",
    "FormError",
    "clean_entry",
    "clean_password",
    "clean_username",
    "read_form",
]

USERNAME = re.compile(r"[a-z0-9_]{3,32}")
PASSWORD_MIN_CHARS = 8
PASSWORD_MAX_CHARS = 1024  # scrypt does not care, but a bound keeps hostile bodies small
ENTRY_MAX_CHARS = 2000
# Control characters other than tab and newlines: invisible on the page, and PostgreSQL's
# TEXT refuses NUL outright (it would be a 500 if it reached the database).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Form bodies are small: a handful of fields, none larger than an entry in UTF-8 plus slack,
# percent-encoded (3 bytes per byte at worst). No request needs more than MAX_BODY_BYTES: the
# app and the CSRF check (which reads form bodies to find the token) refuse larger with 413.
MAX_FIELD_BYTES = 4 * ENTRY_MAX_CHARS + 1024
MAX_BODY_BYTES = 64 * 1024
FORM_LIMITS = {"max_fields": 10, "max_files": 0, "max_part_size": MAX_FIELD_BYTES}


class FormError(ValueError):
    """A form field the guestbook cannot accept; the message is shown to the user."""


async def read_form(request: Request, *names: str) -> dict[str, str]:
    """The text fields ``names`` of the posted form (missing ones as "").

    Bodies over the limits (a file upload among them) get 413 and other content types 415,
    from covet's form parser.
    """
    form: Mapping[str, object] = await request.form(**FORM_LIMITS)
    fields: dict[str, str] = {}
    for name in names:
        value = form.get(name, "")
        if not isinstance(value, str):  # an upload (only possible if FORM_LIMITS allow files)
            raise HTTPException(400)
        fields[name] = value
    return fields


def clean_username(value: str) -> str:
    username = value.strip().lower()
    if not USERNAME.fullmatch(username):
        raise FormError("A username is 3 to 32 letters, digits or underscores.")
    return username


def clean_password(value: str) -> str:
    if not PASSWORD_MIN_CHARS <= len(value) <= PASSWORD_MAX_CHARS:
        raise FormError(
            f"A password is {PASSWORD_MIN_CHARS} to {PASSWORD_MAX_CHARS} characters long."
        )
    if _CONTROL.search(value):
        raise FormError("A password cannot contain control characters.")
    return value


def clean_entry(value: str) -> str:
    text = value.replace("\r\n", "\n").strip()
    if not text:
        raise FormError("Write something first.")
    if len(text) > ENTRY_MAX_CHARS:
        raise FormError(f"An entry is at most {ENTRY_MAX_CHARS} characters.")
    if _CONTROL.search(text):
        raise FormError("An entry cannot contain control characters.")
    return text
