"""covet-bench: launch, verify, load and report on ASGI apps and servers."""
