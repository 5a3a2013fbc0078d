"""Judging a raw exchange against the outcomes a check declares.

An outcome is a table of conditions that must all hold; a check passes when any of its
`pass_if` outcomes holds. Conditions:

    status = 400 | "4xx" | [400, 501]   final response `n` (default 0) has this status
    closed = true                        the server closed the connection
    responses = 1 / max_responses = 1    how many final responses came back
    interim = 100 / no_interim = true    1xx responses seen (or none)
    header = {date = "GMT$"}             header of response n matches the regex
    header_absent = ["transfer-encoding"]
    header_count = {set-cookie = 2} / header_order = ["x-b", "x-a"] (relative order)
    version = "^HTTP/1\\.1$"                 status-line version of response n
    body = "..." / body_contains = "..." / body_empty = true / chunked = false
    received_not_contains = "SMUGGLED"   over every byte received
    json = {"scope.http_version" = {equals = "1.1"}}   response n's JSON body
    scope_header = {"x-dup" = ["1", "2"]}  values the probe app saw for a request header
    scope_header_absent = ["x-gone"] / scope_headers_lowercase = true

JSON conditions: equals, not_equals, bytes (a {"b64"} value decoding to this text), type
(int, str, bytes, list, dict, none, bool, float), in, absent, present, matches, contains, len;
`default` stands in for an absent optional key (scheme defaults to "http").
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from covetbench.net.rawclient import RawExchange, RawResponse

OUTCOME_KEYS = frozenset(
    {
        "n",
        "status",
        "closed",
        "responses",
        "max_responses",
        "min_responses",
        "interim",
        "no_interim",
        "header",
        "header_absent",
        "header_count",
        "header_order",
        "version",
        "body",
        "body_contains",
        "body_empty",
        "chunked",
        "received_not_contains",
        "json",
        "scope_header",
        "scope_header_absent",
        "scope_headers_lowercase",
        "no_response",
    }
)
#: outcome keys judged on one response (the `n`th); the others look at the whole exchange
_RESPONSE_KEYS = OUTCOME_KEYS - {
    "closed",
    "responses",
    "max_responses",
    "min_responses",
    "interim",
    "no_interim",
    "received_not_contains",
    "no_response",
    "n",
}
JSON_OPS = frozenset(
    {
        "equals",
        "not_equals",
        "bytes",
        "type",
        "in",
        "absent",
        "present",
        "matches",
        "contains",
        "len",
        "default",
    }
)
#: stands for a JSON path that is not there
MISSING = object()


def status_matches(status: int, expected: Any) -> bool:
    if isinstance(expected, list):
        return any(status_matches(status, e) for e in expected)
    if isinstance(expected, str) and len(expected) == 3 and expected.endswith("xx"):
        return str(status)[0] == expected[0]
    return bool(status == expected)


def lookup(value: Any, path: str) -> Any:
    """`scope.client.1` -> value["scope"]["client"][1]; MISSING when absent."""
    for part in path.split("."):
        if isinstance(value, dict):
            value = value.get(part, MISSING)
        elif isinstance(value, list) and part.lstrip("-").isdigit():
            index = int(part)
            value = value[index] if -len(value) <= index < len(value) else MISSING
        else:
            return MISSING
        if value is MISSING:
            return MISSING
    return value


def decode_bytes(value: Any) -> bytes | None:
    if isinstance(value, dict) and set(value) == {"b64"}:
        return base64.b64decode(value["b64"])
    return None


def _type_name(value: Any) -> str:
    if decode_bytes(value) is not None:
        return "bytes"
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "bool"
    return {int: "int", float: "float", str: "str", list: "list", dict: "dict"}.get(
        type(value), type(value).__name__
    )


def json_condition(value: Any, cond: dict[str, Any]) -> bool:
    if value is MISSING and "default" in cond:
        value = cond["default"]  # an optional key the spec gives a default for
    for op, expected in cond.items():
        if op == "absent":
            if (value is MISSING) != bool(expected):
                return False
            continue
        if op == "present":
            if (value is not MISSING) != bool(expected):
                return False
            continue
        if value is MISSING:
            return False
        if op == "equals" and value != expected:
            return False
        if op == "not_equals" and value == expected:
            return False
        if op == "bytes" and decode_bytes(value) != str(expected).encode("latin-1"):
            return False
        if op == "type" and _type_name(value) not in (
            expected if isinstance(expected, list) else [expected]
        ):
            return False
        if op == "in" and value not in expected:
            return False
        if op == "matches" and not re.search(str(expected), str(value)):
            return False
        if op == "contains" and expected not in value:
            return False
        if op == "len" and (not hasattr(value, "__len__") or len(value) != expected):
            return False
    return True


def scope_headers(body: Any) -> list[tuple[bytes, bytes]] | None:
    headers = lookup(body, "scope.headers")
    if not isinstance(headers, list):
        return None
    pairs: list[tuple[bytes, bytes]] = []
    for item in headers:
        if not isinstance(item, list) or len(item) != 2:
            return None
        name, value = decode_bytes(item[0]), decode_bytes(item[1])
        if name is None or value is None:
            return None
        pairs.append((name, value))
    return pairs


def _body_json(response: RawResponse) -> Any:
    try:
        return json.loads(response.body)
    except ValueError:
        return MISSING


def _response_conditions(outcome: dict[str, Any], response: RawResponse) -> bool:
    if "status" in outcome and not status_matches(response.status, outcome["status"]):
        return False
    for name, pattern in outcome.get("header", {}).items():
        value = response.header(name)
        if value is None or not re.search(pattern, value):
            return False
    for name in outcome.get("header_absent", []):
        if response.header(name) is not None:
            return False
    for name, count in outcome.get("header_count", {}).items():
        if len(response.header_all(name)) != count:
            return False
    if "version" in outcome and not re.search(outcome["version"], response.version):
        return False
    if "header_order" in outcome:
        names = [k.lower() for k, _ in response.headers]
        wanted = [n for n in outcome["header_order"] if n in names]
        first_seen = list(dict.fromkeys(n for n in names if n in wanted))
        if wanted != outcome["header_order"] or first_seen != wanted:
            return False
    if "body" in outcome and response.body != outcome["body"].encode("latin-1"):
        return False
    if "body_contains" in outcome and outcome["body_contains"].encode() not in response.body:
        return False
    if "body_empty" in outcome and (response.body == b"") != outcome["body_empty"]:
        return False
    if "chunked" in outcome and response.chunked != outcome["chunked"]:
        return False
    if "json" in outcome or any(k.startswith("scope_header") for k in outcome):
        body = _body_json(response)
        if body is MISSING:
            return False
        for path, cond in outcome.get("json", {}).items():
            if not json_condition(lookup(body, path), cond):
                return False
        if not _scope_header_conditions(outcome, body):
            return False
    return True


def _scope_header_conditions(outcome: dict[str, Any], body: Any) -> bool:
    keys = ("scope_header", "scope_header_absent", "scope_headers_lowercase")
    if not any(k in outcome for k in keys):
        return True
    pairs = scope_headers(body)
    if pairs is None:
        return False
    for name, values in outcome.get("scope_header", {}).items():
        seen = [v.decode("latin-1") for k, v in pairs if k.lower() == name.encode()]
        if seen != values:
            return False
    for name in outcome.get("scope_header_absent", []):
        if any(k.lower() == name.encode() for k, _ in pairs):
            return False
    if outcome.get("scope_headers_lowercase") and any(k != k.lower() for k, _ in pairs):
        return False
    return True


def matches(outcome: dict[str, Any], ex: RawExchange) -> bool:
    """True when every condition of `outcome` holds for the exchange."""
    if "closed" in outcome and ex.closed != outcome["closed"]:
        return False
    count = len(ex.responses)
    if outcome.get("no_response") and count:
        return False
    if "responses" in outcome and count != outcome["responses"]:
        return False
    if "max_responses" in outcome and count > outcome["max_responses"]:
        return False
    if "min_responses" in outcome and count < outcome["min_responses"]:
        return False
    if "interim" in outcome and outcome["interim"] not in [r.status for r in ex.interim]:
        return False
    if outcome.get("no_interim") and ex.interim:
        return False
    needle = outcome.get("received_not_contains")
    if needle and needle.encode() in ex.received:
        return False
    if not any(k in outcome for k in _RESPONSE_KEYS):
        return True
    index = int(outcome.get("n", 0))
    if index >= count:
        return False
    return _response_conditions(outcome, ex.responses[index])


def describe(outcome: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in outcome.items())


def observed(outcomes: tuple[dict[str, Any], ...], ex: RawExchange) -> str:
    """The values the outcomes' JSON and scope-header conditions looked at, for the evidence."""
    seen: dict[str, Any] = {}
    for outcome in outcomes:
        index = int(outcome.get("n", 0))
        if index >= len(ex.responses):
            continue
        body = _body_json(ex.responses[index])
        if body is MISSING:
            continue
        for path in outcome.get("json", {}):
            value = lookup(body, path)
            raw = decode_bytes(value)
            seen[path] = "<absent>" if value is MISSING else raw if raw is not None else value
        names = [*outcome.get("scope_header", {}), *outcome.get("scope_header_absent", [])]
        pairs = scope_headers(body) or []
        for name in names:
            seen[f"header {name}"] = [v for k, v in pairs if k.lower() == name.encode()]
        if outcome.get("scope_headers_lowercase"):
            seen["header names"] = [k for k, _ in pairs]
    return ", ".join(f"{k}={v!r}" for k, v in seen.items())
