"""covet: a stdlib-only ASGI 3 framework."""
