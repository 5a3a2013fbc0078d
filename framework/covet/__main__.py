"""`python -m covet serve MODULE:ATTR ...`."""

from __future__ import annotations

import sys

from covet.cli import main

sys.exit(main())
