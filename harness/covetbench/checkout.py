"""Checkouts of the measured code laid out as a *code path*: a directory holding two symlinks,
`apps` -> `scenarios/apps` and `covet` -> `framework/covet`.

As a server's PYTHONPATH (and working directory) a code path makes `apps.<name>:app` and
`python -m covet` resolve to that checkout's code, ahead of the editable install, while the
instrument (this harness, the other servers) stays the same. `revision_path` builds one from a
temporary `git worktree` of a revision (the gate's A/B run, the instructions baseline);
`mirrored_path` builds one over this checkout, so both sides of a comparison import through
paths of one shape (callgrind counts differ with path lengths).

    with revision_path(repo, "origin/main") as base:
        env["PYTHONPATH"] = str(base)
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from covetbench.exceptions import UsageError

#: link name in a code path -> directory of the checkout it points to
LINKS = (("apps", "scenarios/apps"), ("covet", "framework/covet"))


def git(repo: Path, *args: str) -> str:
    """`git ARGS` in `repo`, its stdout; a UsageError when git is missing or fails."""
    try:
        proc = subprocess.run(
            ["git", *args], cwd=repo, capture_output=True, text=True, timeout=120, check=False
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise UsageError(f"comparing with a revision needs git: {exc}") from exc
    if proc.returncode != 0:
        raise UsageError(f"git {' '.join(args)}: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout.strip()


def resolve_rev(repo: Path, rev: str) -> str:
    """The commit `rev` names (UsageError if git does not know it)."""
    return git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")


def _link(tree: Path, path: Path, missing: str) -> None:
    path.mkdir()
    for link, target in LINKS:
        if not (tree / target).is_dir():
            raise UsageError(f"{missing} has no {target}/")
        (path / link).symlink_to(tree / target, target_is_directory=True)


@contextlib.contextmanager
def revision_path(repo: Path, rev: str) -> Iterator[Path]:
    """A code path over a temporary worktree of `rev`, removed afterwards."""
    sha = resolve_rev(repo, rev)
    tmp = Path(tempfile.mkdtemp(prefix="covet-ab-"))
    tree = tmp / "tree"
    try:
        git(repo, "worktree", "add", "--detach", str(tree), sha)
        path = tmp / "path"
        _link(tree, path, f"revision {rev} ({sha[:12]})")
        yield path
    finally:
        with contextlib.suppress(UsageError):
            git(repo, "worktree", "remove", "--force", str(tree))
        with contextlib.suppress(UsageError):
            git(repo, "worktree", "prune")
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def mirrored_path(repo: Path) -> Iterator[Path]:
    """A code path over `repo` itself, in a temporary directory shaped like `revision_path`'s.

    Measured against a worktree of the same commit, the editable install's paths left callgrind
    counts up to 1 % apart; mirrored, they agree to well under that.
    """
    tmp = Path(tempfile.mkdtemp(prefix="covet-ab-"))
    try:
        _link(repo, tmp / "path", str(repo))
        yield tmp / "path"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
