"""What the claims are judged on: records on disk (`Evidence.gather`: `results.json`,
`conformance.json`, the directories holding `fuzz.json` / `soak.json`) and covet's code,
inspected without importing covet here.

The harness never imports covet: each code check runs a fresh interpreter in a subprocess and
reads back a JSON report.

- `stdlib_only_report`: `python -S -E` (no site-packages, no PYTHON* variables, so nothing
  installed is reachable) with only the framework directory on `sys.path`; imports the core
  modules, then every other module of the package, and lists every loaded module that is not in
  `sys.stdlib_module_names`. Modules that fail only for want of a third-party package are
  optional extras, reported as such. A static pass over the sources lists every non-stdlib import
  with its file and line, and whether it sits inside a `try` (a guarded, optional import).
- `modules_report`: whether feature modules exist and import (normal interpreter, extras
  installed), e.g. `covet.templating` for "template engine".
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from covetbench.exceptions import ResultsError
from covetbench.results.files import CONFORMANCE_JSON
from covetbench.results.store import load_results

_TIMEOUT_S = 60

_STDLIB_PROBE = r"""
import importlib, json, pkgutil, sys
root, package, core = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
sys.path.insert(0, root)
out = {"core": {}, "optional": {}, "broken": {}, "third_party_loaded": []}
def third_party(name):
    top = name.split(".")[0]
    return top not in sys.stdlib_module_names and top not in (package, "__main__")
for name in core:
    try:
        importlib.import_module(name)
        out["core"][name] = "ok"
    except BaseException as exc:
        out["core"][name] = f"{type(exc).__name__}: {exc}"
try:
    pkg = importlib.import_module(package)
    walk = pkgutil.walk_packages(pkg.__path__, package + ".", onerror=lambda n: None)
    names = [m.name for m in walk]
except BaseException:
    names = []
for name in names:
    if name in core or name.rsplit(".", 1)[-1] == "__main__":
        continue
    try:
        importlib.import_module(name)
    except ImportError as exc:
        missing = exc.name or getattr(exc.__cause__, "name", None) or ""
        target = out["optional"] if missing and third_party(missing) else out["broken"]
        target[name] = f"{type(exc).__name__}: {exc}"
    except BaseException as exc:
        out["broken"][name] = f"{type(exc).__name__}: {exc}"
out["third_party_loaded"] = sorted({m.split(".")[0] for m in list(sys.modules) if third_party(m)})
print(json.dumps(out))
"""

_MODULES_PROBE = r"""
import importlib, importlib.util, json, sys
sys.path.insert(0, sys.argv[1])
out = {}
for name in json.loads(sys.argv[2]):
    try:
        spec = importlib.util.find_spec(name)
    except BaseException as exc:
        spec = None
    if spec is None:
        out[name] = "missing"
        continue
    try:
        importlib.import_module(name)
        out[name] = "ok"
    except BaseException as exc:
        out[name] = f"{type(exc).__name__}: {exc}"
print(json.dumps(out))
"""


def _probe(argv: Sequence[str]) -> dict[str, Any]:
    try:
        proc = subprocess.run(
            list(argv), capture_output=True, text=True, timeout=_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return {"error": f"probe did not run: {exc}"}
    lines = proc.stdout.strip().splitlines()
    try:
        data = json.loads(lines[-1]) if lines else None
    except json.JSONDecodeError:
        data = None
    if not isinstance(data, dict):
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return {"error": f"probe exited {proc.returncode}: {' | '.join(tail)}"}
    return data


def _guarded_lines(tree: ast.AST) -> set[int]:
    """Line numbers of imports inside a `try` body (an optional import with a fallback)."""
    guarded: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try):
            for stmt in node.body:
                for inner in ast.walk(stmt):
                    if isinstance(inner, ast.Import | ast.ImportFrom):
                        guarded.add(inner.lineno)
    return guarded


def static_imports(package_dir: Path, package: str) -> list[dict[str, Any]]:
    """Every absolute import of a non-stdlib, non-`package` module in the sources."""
    found: list[dict[str, Any]] = []
    root = package_dir.parent
    for path in sorted(package_dir.rglob("*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except (OSError, SyntaxError, UnicodeDecodeError):
            continue
        guarded = _guarded_lines(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top == package:
                    continue
                found.append(
                    {
                        "module": top,
                        "file": str(path.relative_to(root)),
                        "line": node.lineno,
                        "guarded": node.lineno in guarded,
                        # imports inside a function run only when that code path is used
                        "top_level": node.col_offset == 0,
                    }
                )
    return found


def stdlib_only_report(framework_dir: Path, package: str, core: Sequence[str]) -> dict[str, Any]:
    """Import `core` and every module of `package` with nothing but the stdlib available."""
    report = _probe(
        [
            sys.executable,
            "-S",
            "-E",
            "-c",
            _STDLIB_PROBE,
            str(framework_dir),
            package,
            json.dumps(list(core)),
        ]
    )
    package_dir = framework_dir / package
    report["static"] = static_imports(package_dir, package) if package_dir.is_dir() else []
    report["package_found"] = package_dir.is_dir()
    return report


def modules_report(framework_dir: Path, modules: Sequence[str]) -> dict[str, str]:
    """{module: "ok" | "missing" | "<error>"} with the framework directory first on sys.path."""
    data = _probe(
        [sys.executable, "-E", "-c", _MODULES_PROBE, str(framework_dir), json.dumps(list(modules))]
    )
    if "error" in data and not set(modules) & set(data):
        return {name: str(data["error"]) for name in modules}
    return {str(k): str(v) for k, v in data.items()}


@dataclass
class Evidence:
    """Everything the judges may look at; any part may be missing."""

    results: dict[str, Any] | None = None
    results_dir: Path | None = None
    results_error: str | None = None
    conformance: dict[str, Any] | None = None
    conformance_error: str | None = None
    framework_dir: Path | None = None
    evidence_dirs: list[Path] = field(default_factory=list)
    #: the git commit of the code judged: soak and fuzz records of another commit are stale
    commit: str | None = None
    #: a run at another worker count (`claims --scaling DIR`): the 1 -> 2 worker scaling
    scaling: dict[str, Any] | None = None
    scaling_dir: Path | None = None

    @classmethod
    def gather(
        cls,
        results_dir: Path | None = None,
        conformance: Path | None = None,
        framework_dir: Path | None = None,
        *,
        commit: str | None = None,
        scaling_dir: Path | None = None,
    ) -> Evidence:
        """Load what exists: results.json and conformance.json (default: in `results_dir`),
        and the results of `scaling_dir` (unreadable: ResultsError, it was asked for)."""
        ev = cls(results_dir=results_dir, framework_dir=framework_dir, commit=commit)
        if results_dir is not None:
            ev.evidence_dirs.append(results_dir)
            try:
                ev.results = load_results(results_dir)
            except ResultsError as exc:
                ev.results_error = str(exc)
        if scaling_dir is not None:
            ev.scaling, ev.scaling_dir = load_results(scaling_dir), scaling_dir
        if conformance is None and results_dir is not None:
            conformance = results_dir / CONFORMANCE_JSON
        if conformance is not None:
            path = conformance / CONFORMANCE_JSON if conformance.is_dir() else conformance
            if path.parent not in ev.evidence_dirs:
                ev.evidence_dirs.append(path.parent)
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                if not isinstance(data, dict) or not isinstance(data.get("checks"), list):
                    raise ValueError("expected an object with a 'checks' list")
                ev.conformance = data
            except FileNotFoundError:
                ev.conformance_error = f"{path}: not found (run `covet-bench conform`)"
            except (OSError, ValueError) as exc:
                ev.conformance_error = f"{path}: unreadable: {exc}"
        return ev
