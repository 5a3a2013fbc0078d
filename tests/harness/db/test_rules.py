"""The database rules on hand-made answers (no server): each rule can fail, and says why."""

from __future__ import annotations

import html
import json
from typing import Any

import httpx

from covetbench.db.data import expected_fortunes
from covetbench.scenarios import get_scenario
from covetbench.verify import Outcome, RuleContext, get_rule

_HEADERS = {
    "server": "t",
    "date": "Sat, 05 Dec 2026 10:00:00 GMT",
    "content-length": "1",
}


def _run(scenario: str, body: bytes, content_type: str = "application/json") -> Outcome:
    """Apply the scenario's rule to `body` as if the server had answered it; the clamping
    requests go to an address nothing listens on, so their failures are left out here."""
    outcome = Outcome()
    response = httpx.Response(200, content=body, headers={**_HEADERS, "content-type": content_type})
    with httpx.Client(timeout=0.5) as client:
        ctx = RuleContext(get_scenario(scenario), "http://127.0.0.1:9", client, outcome, response)
        get_rule(get_scenario(scenario).verify_rule).check(ctx)
    outcome.fails = [f for f in outcome.fails if "failed: ConnectError" not in f]
    return outcome


def _page(rows: list[tuple[int, str]], escape: bool = True, title: str = "Fortunes") -> bytes:
    cells = "".join(
        f"<tr><td>{i}</td><td>{html.escape(m) if escape else m}</td></tr>" for i, m in rows
    )
    return (
        f"<!DOCTYPE html><html><head><title>{title}</title></head><body><table>"
        f"<tr><th>id</th><th>message</th></tr>{cells}</table></body></html>"
    ).encode()


def _fortunes(body: bytes) -> Outcome:
    return _run("fortunes", body, "text/html; charset=utf-8")


def test_right_fortunes_pass_with_any_whitespace() -> None:
    assert _fortunes(_page(expected_fortunes())).status == "pass"
    spaced = _page(expected_fortunes()).replace(b"<tr>", b"\n  <tr>").replace(b"<td>", b"<td> ")
    assert _fortunes(spaced).status == "pass"


def test_unescaped_fortune_fails() -> None:
    outcome = _fortunes(_page(expected_fortunes(), escape=False))
    assert outcome.status == "fail"
    assert any("fortune row 1" in f for f in outcome.fails), outcome.fails


def test_fortunes_without_the_extra_row_or_out_of_order_fail() -> None:
    rows = expected_fortunes()
    missing = _fortunes(_page([r for r in rows if r[0] != 0]))
    assert any("12 fortune rows, expected 13" in f for f in missing.fails)
    by_id = _fortunes(_page(sorted(rows)))
    assert by_id.status == "fail" and any("fortune row 1" in f for f in by_id.fails)


def test_fortunes_header_and_title() -> None:
    assert _fortunes(b"<html><body>no table</body></html>").status == "fail"
    warned = _fortunes(_page(expected_fortunes(), title="Luck"))
    assert warned.status == "warn" and "title" in warned.warns[0]


def _rows(n: int, **extra: Any) -> bytes:
    return json.dumps([{"id": i + 1, "randomNumber": 5000, **extra} for i in range(n)]).encode()


def test_db_object_rules() -> None:
    assert _run("db", b'{"id": 3, "randomNumber": 10000}').status == "pass"
    wrapped = _run("db", b'[{"id": 3, "randomNumber": 7}]')
    assert wrapped.status == "warn" and "array" in wrapped.warns[0]
    for bad, reason in (
        (b'{"id": 0, "randomNumber": 7}', "expected 1..10000"),
        (b'{"id": "3", "randomNumber": 7}', "expected an integer"),
        (b'{"id": 3}', "'randomNumber' is None"),
        (b'{"id": true, "randomNumber": 7}', "expected an integer"),
        (b"not json", "not JSON"),
    ):
        outcome = _run("db", bad)
        assert any(reason in f for f in outcome.fails), (bad, outcome.fails)


def test_queries_rows_counted() -> None:
    assert _run("queries", _rows(20)).status == "pass"
    short = _run("queries", _rows(19))
    assert any("19 rows, expected 20" in f for f in short.fails)
    assert _run("cached-queries", b'{"id": 1}').status == "fail"
    extra = _run("updates", _rows(20, name="x"))
    assert (
        extra.warns[0]
        == "rows hold keys beyond id and randomNumber: ['id', 'name', 'randomNumber']"
    )
    assert "no database given" in extra.warns[1]
