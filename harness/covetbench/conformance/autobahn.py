"""Autobahn|Testsuite's fuzzingclient against a server's WebSocket echo, summarised per case
category (1 framing, 2 ping/pong, ... 10 misc) into one check per category.

The suite is Python 2 only. On first use it is installed with that Python's pip into a cache
outside the repo (`~/.cache/covet-bench/autobahn`, or `$COVETBENCH_AUTOBAHN_DIR`); where no
Python 2.7 exists every category is UNSUPPORTED, never passed.

    outcomes = run("ws://127.0.0.1:8000/ws/echo", "uvicorn", Path("out/autobahn/uvicorn"))
    outcomes["autobahn.7"].status  # PASS / FAIL
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

from covetbench.conformance.model import (
    ERROR,
    FAIL,
    PASS,
    UNSUPPORTED,
    CheckResult,
    ConformanceCheck,
)

DEFAULT_EXCLUDE = ("9.*", "12.*", "13.*")
CATEGORIES = {
    "1": "framing",
    "2": "ping/pong",
    "3": "reserved bits",
    "4": "opcodes",
    "5": "fragmentation",
    "6": "UTF-8 handling",
    "7": "close handling",
    "9": "limits and performance",
    "10": "miscellaneous",
    "12": "permessage-deflate",
    "13": "permessage-deflate parameters",
}
PYENV_PYTHON2 = "/root/.pyenv/versions/2.7.18/bin/python2.7"
RUN_TIMEOUT_S = 300.0
INSTALL_TIMEOUT_S = 600.0
#: per-case outcomes that do not fail a category, best first; anything else is FAILED
_RANK = {"OK": 0, "INFORMATIONAL": 1, "UNIMPLEMENTED": 2, "NON-STRICT": 3}


def cache_dir() -> Path:
    override = os.environ.get("COVETBENCH_AUTOBAHN_DIR")
    if override:
        return Path(override)
    return Path.home() / ".cache" / "covet-bench" / "autobahn"


def python2() -> str | None:
    """A Python 2.7 interpreter: $COVETBENCH_PYTHON2, pyenv's 2.7.18, or python2.7 on PATH."""
    for candidate in (
        os.environ.get("COVETBENCH_PYTHON2"),
        PYENV_PYTHON2,
        shutil.which("python2.7"),
    ):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def category_checks(
    exclude: list[str] | tuple[str, ...] = DEFAULT_EXCLUDE,
) -> list[ConformanceCheck]:
    """One check per Autobahn category that is not excluded (`9.*` excludes category 9)."""
    skipped = {pattern.split(".")[0] for pattern in exclude if pattern.endswith(".*")}
    return [
        ConformanceCheck(
            id=f"autobahn.{number}",
            group="websocket-rfc6455",
            level="MUST",
            title=f"Autobahn|Testsuite category {number}: {name} (no FAILED case)",
            spec="RFC 6455 (Autobahn|Testsuite fuzzingclient)",
            kind="probe",
            probe="autobahn",
            source="autobahn.py",
        )
        for number, name in CATEGORIES.items()
        if number not in skipped
    ]


def _wstest() -> Path:
    return cache_dir() / "bin" / "wstest"


def ensure_installed() -> tuple[str, Path] | str:
    """(python2, wstest) ready to run, installing on first use; else the reason why not."""
    py2 = python2()
    if py2 is None:
        return "no Python 2.7 interpreter (Autobahn|Testsuite is Python 2 only)"
    target = cache_dir()
    if not _wstest().exists():
        target.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(
            [py2, "-m", "pip", "install", "--quiet", "--target", str(target), "autobahntestsuite"],
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_S,
        )
        if proc.returncode != 0 or not _wstest().exists():
            return f"installing autobahntestsuite failed: {proc.stderr[-300:]}"
    zope_init = target / "zope" / "__init__.py"
    if zope_init.parent.is_dir() and not zope_init.exists():
        # a --target install skips the namespace .pth: make zope a pkgutil namespace by hand
        zope_init.write_text("__path__ = __import__('pkgutil').extend_path(__path__, __name__)\n")
    return py2, _wstest()


def describe_availability() -> dict[str, Any]:
    py2 = python2()
    return {"python2": py2, "installed": _wstest().exists(), "cache": str(cache_dir())}


def summarise(
    index: dict[str, dict[str, Any]], exclude: list[str] | tuple[str, ...]
) -> dict[str, CheckResult]:
    """index.json's cases for one agent -> one result per category."""
    per_category: dict[str, Counter[str]] = {}
    failed: dict[str, list[str]] = {}
    for case_id, outcome in index.items():
        category = case_id.split(".")[0]
        outcomes = [str(outcome.get("behavior", "FAILED")), str(outcome.get("behaviorClose", "OK"))]
        worst = max(outcomes, key=lambda b: _RANK.get(b, len(_RANK)))
        if worst not in _RANK:
            worst = "FAILED"
        per_category.setdefault(category, Counter())[worst] += 1
        if worst == "FAILED":
            failed.setdefault(category, []).append(case_id)
    results: dict[str, CheckResult] = {}
    for check in category_checks(exclude):
        category = check.id.split(".", 1)[1]
        counts = per_category.get(category)
        if not counts:
            results[check.id] = CheckResult(UNSUPPORTED, "no case of this category ran")
            continue
        text = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        bad = failed.get(category, [])
        if bad:
            results[check.id] = CheckResult(
                FAIL, f"{text}; failed cases {', '.join(sorted(bad)[:12])}"
            )
        else:
            results[check.id] = CheckResult(PASS, text)
    return results


def run(
    url: str,
    agent: str,
    out_dir: Path,
    exclude: list[str] | tuple[str, ...] = DEFAULT_EXCLUDE,
    timeout: float = RUN_TIMEOUT_S,
) -> dict[str, CheckResult]:
    """Run the fuzzingclient against `url`; results per `autobahn.<category>` check id."""
    checks = category_checks(exclude)
    ready = ensure_installed()
    if isinstance(ready, str):
        return {c.id: CheckResult(UNSUPPORTED, ready) for c in checks}
    py2, wstest = ready
    out_dir = out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "outdir": str(out_dir / "reports"),
        "servers": [{"agent": agent, "url": url}],
        "cases": ["*"],
        "exclude-cases": list(exclude),
        "exclude-agent-cases": {},
    }
    spec_path = out_dir / "fuzzingclient.json"
    spec_path.write_text(json.dumps(spec, indent=2))
    env = {**os.environ, "PYTHONPATH": str(cache_dir())}
    log_path = out_dir / "wstest.log"
    try:
        with log_path.open("wb") as log:
            proc = subprocess.run(
                [py2, str(wstest), "-m", "fuzzingclient", "-s", str(spec_path)],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=out_dir,
                env=env,
                timeout=timeout,
            )
    except subprocess.TimeoutExpired:
        return {c.id: CheckResult(ERROR, f"wstest took over {timeout:.0f}s") for c in checks}
    index_path = out_dir / "reports" / "index.json"
    if not index_path.exists():
        tail = log_path.read_text(errors="replace")[-300:]
        return {
            c.id: CheckResult(ERROR, f"wstest exit {proc.returncode}, no index.json: {tail}")
            for c in checks
        }
    index = json.loads(index_path.read_text())
    return summarise(index.get(agent, {}), exclude)
