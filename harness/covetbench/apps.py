"""Which ASGI apps can be measured: the built-in peer apps and the user's own.

Every `scenarios/apps/<name>.py` exposing `app` is a built-in app named `<name>`, imported by the
server as `apps.<name>:app` from `scenarios/` (the package keeps `fastapi.py` from shadowing the
real FastAPI it imports). Users add theirs with `--app NAME=module:attr`, imported from the
current directory (or PYTHONPATH).

    builtin_apps()["raw"]              # AppTarget("raw", "apps.raw:app", ".../scenarios")
    parse_app_option("mine=myapp:app") # AppTarget("mine", "myapp:app", os.getcwd())
    resolve_apps(["raw", "covet"], []) # [raw, covet]
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from covetbench.exceptions import UnknownNameError, UsageError

#: Order the built-in apps are listed and run in; others follow alphabetically.
PREFERRED_ORDER = ("raw", "covet", "starlette", "fastapi", "blacksheep")

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_DOTTED_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


@dataclass(frozen=True)
class AppTarget:
    """An ASGI app to serve: `import_string` is `module:attr`, importable from `pythonpath`."""

    name: str
    import_string: str
    pythonpath: str | None = None


def scenarios_dir() -> Path:
    """The repo's `scenarios/` directory, or `$COVETBENCH_SCENARIOS` when set."""
    override = os.environ.get("COVETBENCH_SCENARIOS")
    if override:
        return Path(override).resolve()
    # harness/covetbench/apps.py -> repo root
    return Path(__file__).resolve().parents[2] / "scenarios"


def apps_dir() -> Path:
    return scenarios_dir() / "apps"


def builtin_apps() -> dict[str, AppTarget]:
    """Every `scenarios/apps/*.py` (not starting with `_`) as an app exposing `app`.

    The import string is `apps.<name>:app` with `scenarios/` as the server's PYTHONPATH.
    """
    directory = apps_dir()
    if not directory.is_dir():
        return {}
    stems = [p.stem for p in directory.glob("*.py") if not p.stem.startswith("_")]
    rank = {name: i for i, name in enumerate(PREFERRED_ORDER)}
    stems.sort(key=lambda s: (rank.get(s, len(rank)), s))
    root = str(directory.parent)
    return {stem: AppTarget(stem, f"{directory.name}.{stem}:app", root) for stem in stems}


def parse_app_option(value: str) -> AppTarget:
    """Parse `--app NAME=module:attr`; the module is imported from the current directory."""
    name, sep, import_string = value.partition("=")
    name, import_string = name.strip(), import_string.strip()
    if not sep or not name or not import_string:
        raise UsageError(f"--app {value!r}: expected NAME=module:attr, e.g. myapp=main:app")
    if not _NAME_RE.match(name):
        raise UsageError(
            f"--app {value!r}: name {name!r} may hold only letters, digits, '.', '_' and '-'"
        )
    module, colon, attr = import_string.partition(":")
    if not colon or not _DOTTED_RE.match(module) or not _DOTTED_RE.match(attr):
        raise UsageError(
            f"--app {value!r}: {import_string!r} is not module:attr (e.g. main:app, pkg.web:app)"
        )
    return AppTarget(name, import_string, os.getcwd())


def resolve_apps(names: list[str] | None, extra: list[AppTarget]) -> list[AppTarget]:
    """The apps to run, in order.

    `names` None: every built-in app, then `extra`. Otherwise the named apps (built-in or from
    `extra`, which wins on a name clash) in the given order, then any `extra` not named.
    Unknown names raise UnknownNameError listing the valid ones.
    """
    pool = builtin_apps()
    for target in extra:
        pool[target.name] = target
    if names is None:
        extra_names = {e.name for e in extra}
        return [t for n, t in pool.items() if n not in extra_names] + list(extra)
    result: list[AppTarget] = []
    seen: set[str] = set()
    for name in names:
        if name not in pool:
            raise UnknownNameError("app", name, pool)
        if name not in seen:
            seen.add(name)
            result.append(pool[name])
    result.extend(t for t in extra if t.name not in seen)
    return result
