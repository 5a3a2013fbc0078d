"""Exports of a run directory for the tools CI users already run: Bencher Metric Format (`bmf`),
github-action-benchmark's custom JSON (`github_action`) and JUnit XML (`junit`), all built from
the records `source.load_run` reads (results.json, and claims.json where present)."""
