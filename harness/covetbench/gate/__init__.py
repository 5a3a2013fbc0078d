"""The regression gates: `compare` (throughput of two runs, statistically) and `instructions`
(callgrind instructions per request, deterministic)."""
