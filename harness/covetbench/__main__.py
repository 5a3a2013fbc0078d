"""`python -m covetbench ...` is `covet-bench ...`."""

from __future__ import annotations

import sys

from covetbench.cli import main

if __name__ == "__main__":
    sys.exit(main())
