"""Records on disk: `results.json` (store, validated against `schema.json`), run metadata,
and the history of runs the report draws as a trend."""
