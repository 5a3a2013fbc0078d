"""Running a suite: plan it, launch and load each configuration, watch and judge each trial.

suite (what to run) -> schedule (pairs, configurations, interleaved rounds) -> runner (launch,
verify, warm up, measure) with monitor (CPU, RSS, interference) and validity (flags); progress
draws it in the terminal; ab runs two checkouts interleaved for the gate.
"""
