"""Loading conformance checks from `scenarios/conformance/*.toml`.

Each file holds `[[check]]` tables; top-level keys (`group`, `app`, `level`, `kind`) are
defaults for every check in the file, and a top-level `[params]` table is merged under each
check's own `params` (the check's keys win). A raw request is a TOML string sent as latin-1
(`\\u00XX` is byte XX); `{host}` becomes the server's host:port and `{repeat:C:N}` N copies of
character C.

    [[check]]
    id = "h1.host-missing"
    group = "http11-framing"
    level = "MUST"
    spec = "RFC 9112 §3.2"
    title = "HTTP/1.1 request without Host is rejected with 400"
    request = "GET /echo HTTP/1.1\\r\\n\\r\\n"
    pass_if = [{ status = 400 }]
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from covetbench.conformance.matcher import JSON_OPS, OUTCOME_KEYS
from covetbench.conformance.model import GROUPS, KINDS, LEVELS, ConformanceCheck
from covetbench.exceptions import SuiteError
from covetbench.tomlfile import read_toml

CHECK_KEYS = frozenset(
    {
        "id",
        "group",
        "level",
        "title",
        "spec",
        "kind",
        "app",
        "request",
        "pass_if",
        "unsupported_if",
        "unsupported_reason",
        "probe",
        "params",
        "slow",
    }
)
DEFAULT_KEYS = frozenset({"group", "app", "level", "kind", "params"})
_REPEAT_RE = re.compile(r"\{repeat:(.):(\d+)\}")


def conformance_dir() -> Path:
    from covetbench.apps import scenarios_dir

    return scenarios_dir() / "conformance"


def expand_request(template: str, host: str) -> bytes:
    """The bytes a raw check sends to `host` ("127.0.0.1:8000")."""
    text = _REPEAT_RE.sub(lambda m: m.group(1) * int(m.group(2)), template)
    return text.replace("{host}", host).encode("latin-1")


def _validate_outcomes(
    path: str, check_id: str, key: str, value: Any
) -> tuple[dict[str, Any], ...]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise SuiteError(path, None, key, f"check {check_id!r}: expected a list of tables")
    for outcome in value:
        unknown = set(outcome) - OUTCOME_KEYS
        if unknown:
            raise SuiteError(path, None, key, f"check {check_id!r}: unknown {sorted(unknown)}")
        for cond in outcome.get("json", {}).values():
            if not isinstance(cond, dict) or set(cond) - JSON_OPS:
                raise SuiteError(path, None, key, f"check {check_id!r}: bad json condition {cond}")
    return tuple(value)


def _line_of(text: str, check_id: str) -> int | None:
    for number, line in enumerate(text.splitlines(), 1):
        if re.match(rf'\s*id\s*=\s*"{re.escape(check_id)}"', line):
            return number
    return None


def load_file(path: Path) -> list[ConformanceCheck]:
    text, data = read_toml(path)
    defaults = {k: v for k, v in data.items() if k in DEFAULT_KEYS}
    unknown_top = set(data) - DEFAULT_KEYS - {"check"}
    if unknown_top:
        raise SuiteError(str(path), None, None, f"unknown top-level keys {sorted(unknown_top)}")
    checks: list[ConformanceCheck] = []
    for index, raw in enumerate(data.get("check", [])):
        entry = {**defaults, **raw}
        entry["params"] = {**defaults.get("params", {}), **raw.get("params", {})}
        check_id = str(entry.get("id", f"#{index + 1}"))
        line = _line_of(text, check_id)
        unknown = set(entry) - CHECK_KEYS
        if unknown:
            raise SuiteError(
                str(path), line, None, f"check {check_id!r}: unknown {sorted(unknown)}"
            )
        for key in ("id", "group", "level", "title", "spec"):
            if not isinstance(entry.get(key), str) or not entry[key]:
                raise SuiteError(str(path), line, key, f"check {check_id!r}: required string")
        kind = entry.get("kind", "raw")
        for key, allowed in (("group", GROUPS), ("level", LEVELS), ("kind", KINDS)):
            value = entry.get(key, kind)
            if value not in allowed:
                raise SuiteError(str(path), line, key, f"{value!r} is not one of {allowed}")
        if kind == "raw" and not isinstance(entry.get("request"), str):
            raise SuiteError(str(path), line, "request", f"check {check_id!r}: raw needs request")
        if kind == "raw" and not entry.get("pass_if"):
            raise SuiteError(str(path), line, "pass_if", f"check {check_id!r}: raw needs pass_if")
        if kind == "probe" and not isinstance(entry.get("probe"), str):
            raise SuiteError(str(path), line, "probe", f"check {check_id!r}: probe needs a name")
        checks.append(
            ConformanceCheck(
                id=entry["id"],
                group=entry["group"],
                level=entry["level"],
                title=entry["title"],
                spec=entry["spec"],
                kind=kind,
                app=str(entry.get("app", "probe")),
                request=str(entry.get("request", "")).encode("latin-1"),
                pass_if=_validate_outcomes(
                    str(path), check_id, "pass_if", entry.get("pass_if", [])
                ),
                unsupported_if=_validate_outcomes(
                    str(path), check_id, "unsupported_if", entry.get("unsupported_if", [])
                ),
                unsupported_reason=str(
                    entry.get("unsupported_reason", "optional feature not offered")
                ),
                probe=str(entry.get("probe", "")),
                params=dict(entry.get("params", {})),
                slow=bool(entry.get("slow", False)),
                source=f"{path.name}:{line}" if line else path.name,
            )
        )
    return checks


def load_checks(
    directory: Path | None = None,
    groups: list[str] | None = None,
    ids: list[str] | None = None,
) -> list[ConformanceCheck]:
    """Every check in `directory` (default `scenarios/conformance/`), filtered by group/id."""
    directory = directory or conformance_dir()
    checks: list[ConformanceCheck] = []
    seen: dict[str, str] = {}
    for path in sorted(directory.glob("*.toml")):
        for check in load_file(path):
            if check.id in seen:
                raise SuiteError(str(path), None, "id", f"{check.id!r} already in {seen[check.id]}")
            seen[check.id] = check.source
            checks.append(check)
    if groups:
        checks = [c for c in checks if c.group in groups]
    if ids:
        checks = [c for c in checks if any(c.id == i or c.id.startswith(i + ".") for i in ids)]
    return checks
