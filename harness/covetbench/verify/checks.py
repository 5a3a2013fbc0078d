"""Header checks every HTTP benchmark response must pass (TechEmpower's general rules).

`Server`, `Date` (RFC 7231 IMF-fixdate, refreshed at least once a second), `Content-Type`
matching the test type's pattern, `Content-Length` or `Transfer-Encoding`, and no compression.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

try:
    import httpx
except ImportError as exc:  # pragma: no cover - httpx comes with the bench extra
    raise ImportError("covetbench.verify needs httpx: pip install 'covetpy[bench]'") from exc

#: TechEmpower's Content-Type patterns per test type.
CONTENT_TYPE_JSON = re.compile(r"^application/json(; ?charset=(UTF|utf)-8)?$")
CONTENT_TYPE_PLAINTEXT = re.compile(r"^text/plain(; ?charset=(UTF|utf)-8)?$")
CONTENT_TYPE_HTML = re.compile(r"^text/html; ?charset=(UTF|utf)-8$")

DATE_FORMAT = "%a, %d %b %Y %H:%M:%S GMT"
_DATE_RE = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} "
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$"
)
#: A Date further than this from the local clock (same machine) earns a warning.
DATE_DRIFT_WARN_S = 10.0


@dataclass
class Outcome:
    """Failures and warnings collected for one app x server x scenario."""

    fails: list[str] = field(default_factory=list)
    warns: list[str] = field(default_factory=list)

    def fail(self, reason: str) -> None:
        if reason not in self.fails:
            self.fails.append(reason)

    def warn(self, reason: str) -> None:
        if reason not in self.warns:
            self.warns.append(reason)

    @property
    def status(self) -> str:
        if self.fails:
            return "fail"
        return "warn" if self.warns else "pass"

    @property
    def reasons(self) -> list[str]:
        return [f"fail: {r}" for r in self.fails] + [f"warn: {r}" for r in self.warns]


def parse_date(value: str) -> datetime | None:
    """The `Date` header as an aware UTC datetime, or None when not IMF-fixdate."""
    if not _DATE_RE.match(value):
        return None
    try:
        return datetime.strptime(value, DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def check_headers(
    response: httpx.Response, content_type: re.Pattern[str] | None, outcome: Outcome
) -> datetime | None:
    """The general rules: status 200, Server, Date, framing, Content-Type, no compression.

    Returns the parsed `Date` (None when absent or malformed), for the refresh check.
    """
    headers = response.headers
    if response.status_code != 200:
        outcome.fail(f"status {response.status_code}, expected 200")
    if not response.content:
        outcome.fail("empty body")
    if "server" not in headers:
        outcome.fail("no Server header")
    date = check_date(headers.get_list("date"), outcome)
    if "content-length" not in headers and "transfer-encoding" not in headers:
        outcome.fail("neither Content-Length nor Transfer-Encoding")
    encoding = headers.get("content-encoding", "identity").lower()
    if encoding != "identity":
        outcome.fail(f"Content-Encoding {encoding!r}: compressed responses are not allowed")
    if content_type is not None:
        values = headers.get_list("content-type")
        if not values:
            outcome.fail("no Content-Type header")
        elif len(values) > 1:
            outcome.fail(f"Content-Type sent {len(values)} times: {values}")
        elif not content_type.match(values[0]):
            outcome.fail(f"Content-Type {values[0]!r} does not match {content_type.pattern}")
    return date


def check_date(values: list[str], outcome: Outcome) -> datetime | None:
    """Present once and IMF-fixdate; returns the parsed value for the refresh check."""
    if not values:
        outcome.fail("no Date header")
        return None
    if len(values) > 1:
        outcome.warn(f"Date sent {len(values)} times: {values}")
    parsed = parse_date(values[0])
    if parsed is None:
        outcome.fail(f"Date {values[0]!r} is not in the format {DATE_FORMAT!r}")
        return None
    drift = abs((datetime.now(UTC) - parsed).total_seconds())
    if drift > DATE_DRIFT_WARN_S:
        outcome.warn(f"Date {values[0]!r} is {drift:.0f}s away from this machine's clock")
    return parsed
