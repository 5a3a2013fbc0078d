"""Records of the conformance suite: a check as loaded from `scenarios/conformance/`, and the
verdict one server earned on it.

    check = ConformanceCheck(id="h1.host-missing", group="http11-framing", level="MUST", ...)
    CheckResult(PASS, "sent b'GET / HTTP/1.1\\r\\n\\r\\n'; got 400, connection closed")
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PASS = "PASS"
FAIL = "FAIL"
UNSUPPORTED = "UNSUPPORTED"
ERROR = "ERROR"
STATUSES = (PASS, FAIL, UNSUPPORTED, ERROR)

GROUPS = (
    "asgi-http",
    "asgi-websocket",
    "asgi-lifespan",
    "http11-framing",
    "http11-semantics",
    "websocket-rfc6455",
    "framework",
    "robustness",
    "graceful-shutdown",
)
LEVELS = ("MUST", "SHOULD", "MAY")
#: a report column for a framework app (`app:covet`) rather than a server
FRAMEWORK_PREFIX = "app:"
KINDS = ("raw", "probe")

#: Evidence strings are cut to this many characters so the report stays readable.
EVIDENCE_LIMIT = 900


@dataclass(frozen=True)
class ConformanceCheck:
    """One requirement, as data: what to send (`request` or a named `probe`) and what passes.

    `kind` "raw" sends `request` bytes over a socket and judges the reply with `pass_if`
    (any matching outcome passes) and `unsupported_if`; `kind` "probe" calls the Python probe
    named `probe` with `params`.
    """

    id: str
    group: str
    level: str
    title: str
    spec: str
    kind: str
    app: str = "probe"
    request: bytes = b""
    pass_if: tuple[dict[str, Any], ...] = ()
    unsupported_if: tuple[dict[str, Any], ...] = ()
    unsupported_reason: str = "optional feature not offered"
    probe: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    #: True for checks that wait on server timeouts: the runner runs them in the background
    slow: bool = False
    source: str = ""


@dataclass
class CheckResult:
    """The verdict of one check on one server (or framework), with what was sent and seen."""

    status: str
    evidence: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"status": self.status, "evidence": clip(self.evidence)}


def escape(data: bytes, limit: int = 200) -> str:
    """Bytes as a printable, escaped, truncated string: b'GET / HTTP/1.1\\r\\n...'."""
    shown = data[:limit]
    text = repr(shown)
    if len(data) > limit:
        text += f"...(+{len(data) - limit} bytes)"
    return text


def clip(text: str, limit: int = EVIDENCE_LIMIT) -> str:
    """Keep the head (what was sent) and the tail (the verdict's reason) of long evidence."""
    if len(text) <= limit:
        return text
    head, tail = limit * 2 // 3, limit // 3
    return f"{text[:head]} ...({len(text) - head - tail} chars cut)... {text[-tail:]}"
