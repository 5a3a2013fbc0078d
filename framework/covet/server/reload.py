"""`covet serve --reload`: restart the server when the app's source changes. DEVELOPMENT ONLY.

    Reloader("myapp:app", ServerConfig(reload=True)).run()

Not for production: a restart drops the connections open at that moment, the watcher polls
the disk twice a second, and a syntax error leaves nothing serving until the next save.

This process never imports the app (so every restart imports it afresh): it forks one worker
that imports and serves it, and polls the modification times of the `.py` files of the app's
top-level package (or, for a plain module, of the files beside it), with the stdlib only. On a
change the worker gets SIGTERM (a graceful shutdown, bounded by `--timeout-graceful-shutdown`)
and a new one starts; a worker that dies on its own is restarted at the next change. SIGTERM or
SIGINT stop the worker and then the reloader.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import logging
import os
import signal
import sys
from pathlib import Path

from covet.server.config import ServerConfig, load_app
from covet.server.exceptions import ServerConfigError

__all__ = ["Reloader", "watched_root"]

logger = logging.getLogger("covet.server")

_SIGNALS = {signal.SIGCHLD, signal.SIGTERM, signal.SIGINT}
_POLL_S = 0.5
_MAX_FILES = 20_000  # a runaway tree (a venv below the app) is cut short, not walked forever
_SKIP_DIRS = {"__pycache__", "node_modules", "site-packages"}


def watched_root(target: str) -> tuple[Path, bool]:
    """The directory to watch for `module:attr` and whether to descend into it, found without
    importing anything (so this process keeps no stale copy of the app)."""
    top = target.partition(":")[0].split(".")[0]
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)
    spec = importlib.util.find_spec(top)
    if spec is None or spec.origin is None:
        raise ServerConfigError(f"--reload: cannot find module {top!r} to watch")
    origin = Path(spec.origin).resolve()
    if spec.submodule_search_locations:
        return origin.parent, True
    return origin.parent, False


def snapshot(root: Path, recursive: bool) -> dict[str, int]:
    """`.py` path -> mtime (ns) under `root`, skipping hidden and cache directories."""
    seen: dict[str, int] = {}
    stack = [root]
    while stack and len(seen) < _MAX_FILES:
        with contextlib.suppress(OSError), os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.name.startswith(".") or entry.name in _SKIP_DIRS:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    if recursive:
                        stack.append(Path(entry.path))
                elif entry.name.endswith(".py"):
                    with contextlib.suppress(OSError):
                        seen[entry.path] = entry.stat().st_mtime_ns
    return seen


class Reloader:
    """Runs one worker for `target` and replaces it whenever a watched file changes."""

    def __init__(self, target: str, config: ServerConfig) -> None:
        self.target = target
        self.config = dataclasses.replace(config, reload=False)
        self.root, self.recursive = watched_root(target)
        self.pid: int | None = None

    def run(self) -> None:
        logger.warning("--reload is for development only; watching %s", self.root)
        old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
        try:
            files = snapshot(self.root, self.recursive)
            self._spawn()
            while True:
                info = signal.sigtimedwait(_SIGNALS, _POLL_S)
                if info is not None and info.si_signo in (signal.SIGTERM, signal.SIGINT):
                    self._stop()
                    return
                if info is not None:
                    self._reap()
                    continue
                now = snapshot(self.root, self.recursive)
                if now != files:
                    changed = sorted(set(now.items()) ^ set(files.items()))
                    files = now
                    logger.warning("reloading: %s changed", changed[0][0])
                    self._stop()
                    self._spawn()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)

    def _spawn(self) -> None:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child
            code = 0
            try:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)
                from covet.server.server import Server

                Server(self.config, load_app(self.target)).run()
            except BaseException:
                logger.exception("worker failed; waiting for a change to restart")
                code = 1
            finally:
                os._exit(code)
        self.pid = pid

    def _reap(self) -> None:
        if self.pid is None:
            return
        with contextlib.suppress(ChildProcessError):
            done, _ = os.waitpid(self.pid, os.WNOHANG)
            if not done:
                return
        self.pid = None

    def _stop(self) -> None:
        pid = self.pid
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
        self.pid = None
