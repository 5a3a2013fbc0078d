"""The deterministic gate: callgrind instructions per request against a baseline."""
