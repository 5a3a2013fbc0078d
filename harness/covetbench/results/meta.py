"""Where and how a run ran: the `meta` of every record on disk (`results.json`, `claims.json`,
`soak.json`, ...): git commit, versions of every server, framework and tool, the machine, the
command and the time.

    meta = collect_meta(sys.argv, {"server_cpus": [0], "loadgen_cpus": [1]}, suite="quick")
"""

from __future__ import annotations

import os
import platform
import shlex
import socket
import subprocess
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from covetbench.servers import SERVERS
from covetbench.servers.base import distribution_version

#: Distributions whose versions `collect_meta` records, by role. Keys are the names the harness
#: uses (server and app registries); values the distribution to ask importlib.metadata about.


def _one_name_per_distribution() -> dict[str, str]:
    """Server name -> distribution, from the registry; `uvicorn-h11` and `covet-python` are
    left to their first-listed twins, which run the same installed code."""
    names: dict[str, str] = {}
    for name, adapter in SERVERS.items():
        if adapter.distribution not in names.values():
            names[name] = adapter.distribution
    return names


SERVER_DISTRIBUTIONS = _one_name_per_distribution()
FRAMEWORK_DISTRIBUTIONS: dict[str, str] = {
    "starlette": "starlette",
    "fastapi": "fastapi",
    "blacksheep": "blacksheep",
    "covet": "covetpy",
}
LIBRARY_DISTRIBUTIONS: dict[str, str] = {
    "orjson": "orjson",
    "httptools": "httptools",
    "uvloop": "uvloop",
    "h11": "h11",
}


def utc_now() -> str:
    """Current time as ISO 8601 UTC, to the second (the format of every timestamp we write)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def _run(argv: Sequence[str], cwd: Path | None = None) -> str | None:
    """stdout+stderr of a quick command, or None if it is missing or fails."""
    try:
        proc = subprocess.run(
            list(argv), cwd=cwd, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0 and not proc.stdout:
        # `wrk --version` exits 1 after printing its banner; anything with no output failed.
        return None
    return (proc.stdout or proc.stderr).strip() or None


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Hardware", "Processor") and value.strip():
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or None


def _cores_available() -> int | None:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count()


def git_info(cwd: Path | None = None) -> tuple[str | None, bool | None]:
    """(commit, dirty) of the repository around `cwd`; (None, None) without git or a repo."""
    commit = _run(["git", "rev-parse", "HEAD"], cwd)
    if commit is None:
        return None, None
    status = _run(["git", "status", "--porcelain", "--untracked-files=no"], cwd)
    return commit, bool(status)


def tool_version(argv: Sequence[str]) -> str | None:
    """First line of a tool's version output (e.g. `wrk --version`), None when absent."""
    out = _run(argv)
    if out is None:
        return None
    return out.splitlines()[0].strip() or None


def collect_meta(
    command: Sequence[str] | str,
    pinning: Mapping[str, Any] | None,
    suite: str | None = None,
    *,
    cwd: Path | None = None,
) -> dict[str, Any]:
    """Everything needed to reproduce a run: git commit, versions, machine, command, time.

    Versions of absent distributions or tools are recorded as None, never guessed.
    `cwd` is where git is asked (default: the process's working directory).
    """
    commit, dirty = git_info(cwd)
    command_text = command if isinstance(command, str) else shlex.join(command)
    return {
        "git_commit": commit,
        "git_dirty": dirty,
        "versions": {
            "python": platform.python_version(),
            "python_implementation": platform.python_implementation(),
            "servers": {k: distribution_version(d) for k, d in SERVER_DISTRIBUTIONS.items()},
            "frameworks": {k: distribution_version(d) for k, d in FRAMEWORK_DISTRIBUTIONS.items()},
            "libraries": {k: distribution_version(d) for k, d in LIBRARY_DISTRIBUTIONS.items()},
            "tools": {"wrk": tool_version(["wrk", "--version"])},
        },
        "cpu_model": _cpu_model(),
        "cores": os.cpu_count(),
        "cores_available": _cores_available(),
        "pinning": dict(pinning) if pinning is not None else None,
        "command": command_text,
        "started_at": utc_now(),
        "ended_at": None,
        "suite": suite,
        "host": socket.gethostname() or None,
        "platform": platform.platform(),
        "executable": sys.executable,
    }
