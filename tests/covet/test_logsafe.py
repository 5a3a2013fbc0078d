from __future__ import annotations

import pytest

from covet._logsafe import log_safe


@pytest.mark.parametrize(
    ("text", "logged"),
    [
        ("/users/42?x=1", "/users/42?x=1"),
        ("/café/ü", "/café/ü"),
        ("/a\nb\r\tc", "/a\\x0ab\\x0d\\x09c"),
        ('/"quoted"', "/\\x22quoted\\x22"),
        ("/back\\slash", "/back\\x5cslash"),
        ("/\x00\x1b[31m\x7f", "/\\x00\\x1b[31m\\x7f"),
        ("/\x85\u2028\u200b", "/\\x85\\u2028\\u200b"),
        ("/\U000e0041", "/\\U000e0041"),
    ],
    ids=["plain", "unicode", "ctl", "quote", "backslash", "ansi", "unicode-ctl", "astral"],
)
def test_log_safe_escapes_what_could_forge_or_hide_a_field(text: str, logged: str) -> None:
    assert log_safe(text) == logged


def test_log_safe_returns_clean_text_itself() -> None:
    text = "/" + "x" * 100
    assert log_safe(text) is text
