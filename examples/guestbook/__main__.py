"""``python -m examples.guestbook [covet serve options]``: serve the guestbook with covet's server.

Any option of ``covet serve`` may follow (``--port 9000``, ``--workers 2``, ``--host 0.0.0.0``);
the server's own access log is off because RequestIDMiddleware writes one line per request
with its id (``--access-log`` turns the server's back on).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from covet.cli import main as covet_main

APP = "examples.guestbook.app:app"


def main(argv: Sequence[str] | None = None) -> int:
    options = list(sys.argv[1:] if argv is None else argv)
    return covet_main(["serve", APP, "--no-access-log", *options])


if __name__ == "__main__":
    sys.exit(main())
