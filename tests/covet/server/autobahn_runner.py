"""Run the Autobahn|Testsuite fuzzing client against a WebSocket echo served by covet.

    python -m tests.covet.server.autobahn_runner [--http python|httptools] [--out DIR]

Needs Python 2.7 and `autobahntestsuite` installed outside the repository (see
`shared/reference/conformance.md`): `python2.7 -m pip install --target DIR autobahntestsuite`
and `DIR/zope/__init__.py` with a pkgutil `extend_path`. Found through `COVET_AUTOBAHN_PYTHON`
and `COVET_AUTOBAHN_DIR` (defaults: pyenv's 2.7.18, `~/.cache/covet-bench/autobahn`). Categories 9
(performance), 12 and 13 (permessage-deflate) are excluded. Prints the counts per result and
exits 1 if any case FAILED.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from covet.server.types import Receive, Scope, Send

REPO = Path(__file__).resolve().parents[3]
EXCLUDE = ["9.*", "12.*", "13.*"]


async def echo_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Echo every WebSocket message back with the same type."""
    if scope["type"] != "websocket":
        return
    await receive()
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        await send(
            {"type": "websocket.send", "bytes": message.get("bytes"), "text": message.get("text")}
        )


def find_python2() -> str | None:
    candidates = [
        os.environ.get("COVET_AUTOBAHN_PYTHON"),
        "/root/.pyenv/versions/2.7.18/bin/python2.7",
        shutil.which("python2.7"),
    ]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


def find_autobahn() -> Path | None:
    # the cache the harness installs into (ci/setup does it); one install serves both
    default = Path.home() / ".cache" / "covet-bench" / "autobahn"
    path = Path(os.environ.get("COVET_AUTOBAHN_DIR") or default)
    return path if (path / "bin" / "wstest").exists() else None


def missing_reason() -> str | None:
    """Why Autobahn cannot run here, or None when it can."""
    if find_python2() is None:
        return "Python 2.7 not found (set COVET_AUTOBAHN_PYTHON)"
    if find_autobahn() is None:
        return "autobahntestsuite not installed (set COVET_AUTOBAHN_DIR; see conformance.md)"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(port: int, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"covet exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("covet did not start listening")


def run(http: str, out_dir: Path) -> Counter[str]:
    """Serve the echo app, run the fuzzing client, return counts per behavior."""
    python2, autobahn = find_python2(), find_autobahn()
    if python2 is None or autobahn is None:
        raise RuntimeError(missing_reason())
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), str(REPO / "framework")]))
    server = subprocess.Popen(
        [sys.executable, "-m", "covet", "serve", "tests.covet.server.autobahn_runner:echo_app"]
        + ["--port", str(port), "--http", http, "--no-access-log", "--lifespan", "off"],
        cwd=REPO,
        env=env,
    )
    try:
        _wait_ready(port, server)
        spec = {
            "outdir": str(out_dir),
            "servers": [{"agent": f"covet-{http}", "url": f"ws://127.0.0.1:{port}"}],
            "cases": ["*"],
            "exclude-cases": EXCLUDE,
            "exclude-agent-cases": {},
        }
        spec_path = out_dir / "fuzzingclient.json"
        spec_path.write_text(json.dumps(spec))
        subprocess.run(
            [
                python2,
                str(autobahn / "bin" / "wstest"),
                "-m",
                "fuzzingclient",
                "-s",
                str(spec_path),
            ],
            cwd=out_dir,
            env=dict(os.environ, PYTHONPATH=str(autobahn)),
            check=True,
            stdout=subprocess.DEVNULL,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    index = json.loads((out_dir / "index.json").read_text())
    results = next(iter(index.values()))
    return Counter(case["behavior"] for case in results.values())


def failed_cases(out_dir: Path) -> list[str]:
    index = json.loads((out_dir / "index.json").read_text())
    results = next(iter(index.values()))
    return sorted(k for k, v in results.items() if v["behavior"] == "FAILED")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--http", default="python", choices=("python", "httptools"))
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    reason = missing_reason()
    if reason:
        print(f"autobahn: skipped: {reason}")
        return 2
    out_dir = args.out or Path(tempfile.mkdtemp(prefix="covet-autobahn-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = run(args.http, out_dir)
    print(json.dumps(dict(sorted(counts.items()))), "report:", out_dir / "index.html")
    failed = failed_cases(out_dir)
    if failed:
        print("FAILED:", " ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
