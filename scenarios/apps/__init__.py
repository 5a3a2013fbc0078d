"""The peer apps under test, one module per framework, each exposing `app`.

A package so that servers import them as `apps.<name>:app` from `scenarios/`: a module named
`fastapi.py` on the path itself would shadow the real FastAPI it imports.
"""
