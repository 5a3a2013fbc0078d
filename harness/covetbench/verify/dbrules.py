"""TechEmpower's database rules: db, queries, updates, cached-queries and fortunes.

- db: a JSON object with integer `id` and `randomNumber` in 1..10,000 (an array of one warns).
- queries, updates, cached-queries: arrays of such objects, as many as asked; the parameter is
  clamped: `2, 0, foo, 501, ""` give 2, 1, 1, 500, 1 rows (501 only warns), and SQL in it
  stays data (`1; DROP TABLE world` gives one row).
- fortunes: the HTML table, parsed, equals the 12 rows plus the request-time one, sorted by
  message, every message escaped (an unescaped `<script>` parses as an element, not as text).
- updates (with a database): World before and after `queries=500`: at least 90 % of the rows
  answered were written with the number answered.
- query counts (PostgreSQL): `covetbench.verify.dbcount` around `count_requests` requests:
  fewer table scans than requests x rows fail (cached or made-up answers), fewer transactions
  than that fail (one statement for many rows), more scans than 1.05x warn; updates must also
  have updated requests x rows rows.
"""

from __future__ import annotations

import asyncio
import json
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from covetbench.db.data import (
    INJECTION_CASES,
    MAX_QUERIES,
    MAX_RANDOM,
    QUERY_CASES,
    WORLD_ROWS,
    clamp_queries,
    expected_fortunes,
)
from covetbench.db.stats import TableCounters, world_rows
from covetbench.db.url import parse_url
from covetbench.exceptions import DatabaseError
from covetbench.verify.checks import CONTENT_TYPE_HTML, CONTENT_TYPE_JSON
from covetbench.verify.dbcount import count_window
from covetbench.verify.rules import RuleContext, register_rule

#: the share of answered rows updates must really have written
UPDATED_SHARE = 0.90
#: counts above expected x this warn
COUNT_WARN_FACTOR = 1.05


def _world_object(ctx: RuleContext, item: Any, where: str) -> bool:
    """Checks one World row; True when it is right. Keys compared case-insensitively, as
    TechEmpower does (`randomnumber` is PostgreSQL's folded column name)."""
    if not isinstance(item, dict):
        ctx.fail(f"{where}: {item!r:.80} is not a JSON object")
        return False
    fields = {str(k).lower(): v for k, v in item.items()}
    good = True
    for key, name, top in (("id", "id", WORLD_ROWS), ("randomnumber", "randomNumber", MAX_RANDOM)):
        value = fields.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            ctx.fail(f"{where}: {name!r} is {value!r}, expected an integer")
            good = False
        elif not 1 <= value <= top:
            ctx.fail(f"{where}: {name!r} is {value}, expected 1..{top}")
            good = False
    if set(fields) - {"id", "randomnumber"}:
        ctx.warn(f"rows hold keys beyond id and randomNumber: {sorted(item)}")  # said once
    return good


def _parse(ctx: RuleContext, content: bytes, where: str) -> Any:
    try:
        return json.loads(content)
    except ValueError:
        ctx.fail(f"{where}: body is not JSON: {content[:80]!r}")
        return None


def _world_array(ctx: RuleContext, data: Any, rows: int, where: str, severity: str) -> None:
    """An array of `rows` World rows; a wrong length is a `severity` ("fail" or "warn")."""
    if data is None:
        return
    if not isinstance(data, list):
        ctx.fail(f"{where}: body is {type(data).__name__}, expected an array")
        return
    if len(data) != rows:
        report = ctx.fail if severity == "fail" else ctx.warn
        report(f"{where}: {len(data)} rows, expected {rows}")
    for index, item in enumerate(data[:MAX_QUERIES]):
        if not _world_object(ctx, item, f"{where} row {index}"):
            return  # one bad row says enough


def _split(path: str) -> tuple[str, str, int]:
    """`/queries?queries=20` -> ("/queries", "queries", 20)."""
    parts = urlsplit(path)
    params = parse_qs(parts.query, keep_blank_values=True)
    name = next(iter(params), "queries")
    return parts.path, name, clamp_queries(params.get(name, [None])[0])


def _clamping(ctx: RuleContext, endpoint: str, param: str) -> None:
    cases = [(raw, rows, severity) for raw, rows, severity in QUERY_CASES]
    cases += [(raw, 1, "fail") for raw in INJECTION_CASES]
    for raw, rows, severity in cases:
        path = f"{endpoint}?{param}={quote(raw)}"
        response = ctx.fetch(path, CONTENT_TYPE_JSON)
        if response is not None and response.status_code == 200:
            _world_array(ctx, _parse(ctx, response.content, path), rows, path, severity)


def _rows_rule(ctx: RuleContext) -> tuple[str, str, int] | None:
    """The checks queries, updates and cached-queries share; their endpoint, param, rows."""
    if ctx.response is None:
        return None
    endpoint, param, rows = _split(ctx.spec.path)
    _world_array(ctx, ctx.json(), rows, ctx.spec.path, "fail")
    _clamping(ctx, endpoint, param)
    return endpoint, param, rows


def _count(ctx: RuleContext, rows: int, *, nudge: str, reads: str) -> None:
    """The query-count window of this scenario (PostgreSQL only; nothing without a database).

    `reads`: the table the scenario reads ("world" or "fortune"). Per answered request: at
    least `rows` scans of it (rows looked up) and `rows` transactions (statements: one query
    per row, each outside a transaction block, as TechEmpower's reference apps do); updates
    also `rows` rows updated, and may batch the UPDATE (a scan per row at most).
    """
    check = ctx.database
    if check is None or not parse_url(check.url).is_postgresql:
        return
    updates = ctx.spec.verify_rule == "updates"
    per_row_scans = 2 if updates else 1

    def scans(delta: TableCounters) -> int:
        return delta.world_scans if reads == "world" else delta.fortune_scans

    def enough(delta: TableCounters, ok: int) -> bool:
        wanted = ok * rows
        return (
            scans(delta) >= wanted * per_row_scans
            and delta.transactions >= wanted
            and (not updates or delta.world_updates >= wanted)
        )

    try:
        window = count_window(
            ctx.base_url,
            ctx.spec.path,
            check.url,
            requests=check.count_requests,
            concurrency=check.count_concurrency,
            nudge=nudge,
            enough=enough,
            deadline_s=check.count_deadline_s,
        )
    except DatabaseError as exc:
        ctx.fail(f"query count: {exc}")
        return
    if window.failures:
        ctx.fail(
            f"query count: {len(window.failures)} of {check.count_requests} requests failed "
            f"({window.failures[0]})"
        )
    over = f"over {window.ok} x {ctx.spec.path}"
    wanted = window.ok * rows
    got = scans(window.delta)
    if got < wanted:
        ctx.fail(f"{reads} scans {over}: PostgreSQL counted {got}, expected at least {wanted}")
    elif got > wanted * per_row_scans * COUNT_WARN_FACTOR:
        ctx.warn(
            f"{reads} scans {over}: PostgreSQL counted {got}, more than "
            f"{COUNT_WARN_FACTOR}x {wanted * per_row_scans}"
        )
    if window.delta.transactions < wanted:
        ctx.fail(
            f"statements {over}: PostgreSQL counted {window.delta.transactions} transactions, "
            f"expected at least {wanted}: one query per row, each its own transaction "
            "(a batch such as IN (...) or = ANY(...), or reads inside one transaction block, "
            "count fewer)"
        )
    if updates and window.delta.world_updates < wanted:
        ctx.fail(
            f"world rows updated {over}: PostgreSQL counted {window.delta.world_updates}, "
            f"expected at least {wanted}"
        )


@register_rule("db", content_type=CONTENT_TYPE_JSON)
def _db(ctx: RuleContext) -> None:
    data = ctx.json()
    if isinstance(data, list):
        ctx.warn("the row is wrapped in an array")
        if len(data) != 1:
            ctx.fail(f"array of {len(data)} items, expected one object")
            return
        data = data[0]
    if data is not None:
        _world_object(ctx, data, ctx.spec.path)
    _count(ctx, 1, nudge="/fortunes", reads="world")


@register_rule("queries", content_type=CONTENT_TYPE_JSON)
def _queries(ctx: RuleContext) -> None:
    shape = _rows_rule(ctx)
    if shape is not None:
        _count(ctx, shape[2], nudge="/fortunes", reads="world")


@register_rule("cached-queries", content_type=CONTENT_TYPE_JSON)
def _cached_queries(ctx: RuleContext) -> None:
    _rows_rule(ctx)


@register_rule("updates", content_type=CONTENT_TYPE_JSON)
def _updates(ctx: RuleContext) -> None:
    shape = _rows_rule(ctx)
    if shape is None:
        return
    endpoint, param, rows = shape
    if ctx.database is None:
        ctx.warn("no database given: the rows were not checked as written")
        return
    _written(ctx, ctx.database.url, f"{endpoint}?{param}={MAX_QUERIES}")
    _count(ctx, rows, nudge="/fortunes", reads="world")


def _written(ctx: RuleContext, database: str, path: str) -> None:
    """World before and after one request: >= 90 % of the rows answered hold the new number."""
    try:
        before = asyncio.run(world_rows(database))
    except DatabaseError as exc:
        ctx.fail(f"updates: {exc}")
        return
    response = ctx.fetch(path, CONTENT_TYPE_JSON)
    if response is None or response.status_code != 200:
        return
    data = _parse(ctx, response.content, path)
    if not isinstance(data, list):
        return  # the clamping cases have said what is wrong
    after = asyncio.run(world_rows(database))
    answered: dict[int, int] = {}
    for item in data:
        if isinstance(item, dict):
            fields = {str(k).lower(): v for k, v in item.items()}
            if isinstance(fields.get("id"), int) and isinstance(fields.get("randomnumber"), int):
                answered[fields["id"]] = fields["randomnumber"]
    written = sum(1 for i, n in answered.items() if after.get(i) == n and before.get(i) != n)
    changed = sum(1 for i in before if after.get(i) != before[i])
    if written < UPDATED_SHARE * MAX_QUERIES:
        ctx.fail(
            f"{path}: {written} of {len(answered)} rows answered were written to World "
            f"({changed} rows changed), expected at least {UPDATED_SHARE:.0%} of {MAX_QUERIES}"
        )


class _FortuneTable(HTMLParser):
    """The cells of every `<tr>`, text unescaped; a `<script>` element's text lands in its
    cell without its tags, so an unescaped message cannot match."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self.title = ""
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "title":
            self._in_title = True

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None
        elif tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._in_title:
            self.title += data


@register_rule("fortunes", content_type=CONTENT_TYPE_HTML)
def _fortunes(ctx: RuleContext) -> None:
    if ctx.response is None:
        return
    try:
        text = ctx.response.content.decode("utf-8")
    except UnicodeDecodeError as exc:
        ctx.fail(f"body is not UTF-8: {exc}")
        return
    table = _FortuneTable()
    table.feed(text)
    table.close()
    if table.title.strip() != "Fortunes":
        ctx.warn(f"title is {table.title.strip()!r}, expected 'Fortunes'")
    if not table.rows or [c.lower() for c in table.rows[0]] != ["id", "message"]:
        ctx.fail(f"first table row {table.rows[:1]!r}, expected the header ['id', 'message']")
        return
    got = [tuple(row) for row in table.rows[1:]]
    expected = [(str(i), message) for i, message in expected_fortunes()]
    if len(got) != len(expected):
        ctx.fail(f"{len(got)} fortune rows, expected {len(expected)}")
    for index, (have, want) in enumerate(zip(got, expected, strict=False)):
        if have != want:
            ctx.fail(f"fortune row {index + 1} is {have!r}, expected {want!r}")
            break
    _count(ctx, 1, nudge="/db", reads="fortune")
