r"""One escape for request-controlled text written into log lines (paths, methods, clients).

A request path is percent-decoded before covet sees it, so `GET /a%0a127.0.0.1 ...` puts a real
newline into `scope["path"]`; logged as is, it forges a second access-log line. Every log line
that carries request text passes it through `log_safe`, which writes each non-printable
character, and the `"` and `\` that delimit and escape fields, as `\xHH` (`\uHHHH` above
0xFF), the way nginx escapes its access log. Printable non-ASCII text (`/café`) stays readable.

    >>> print(log_safe('/a\n1.2.3.4 - "GET /admin"'))
    /a\x0a1.2.3.4 - \x22GET /admin\x22
"""

from __future__ import annotations

__all__ = ["log_safe"]


def _escape(char: str) -> str:
    if char.isprintable() and char not in '"\\':
        return char
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def log_safe(text: str) -> str:
    """`text` with control characters, `"` and `\\` escaped; `text` itself when it has none."""
    # The common case is three scans in C and no new string: the access log's hot path.
    if text.isprintable() and '"' not in text and "\\" not in text:
        return text
    return "".join(map(_escape, text))
