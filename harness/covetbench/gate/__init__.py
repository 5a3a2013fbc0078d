"""The regression gates. Statistical, over two runs' throughput: `rule` (one configuration's
statistics and verdict), `family` (Holm-Bonferroni across the gate's configurations), `power`
(the smallest drop a comparison could catch), `compare` (matching runs, missing configurations,
the exit code), `render` (gate.json, gate.md). Deterministic: `instructions` (callgrind
instructions per request)."""
