"""Runnable example applications built with covet (run them from the repository root)."""
