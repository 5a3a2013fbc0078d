"""Every verdict word the harness writes, and the one tone each is shown in.

Three readers judge, each with its own words: the gates (`regression`, `improvement`,
`unchanged`, `underpowered`, lower case in `gate.json` and `instructions.json`), the claims
ledger (`VALIDATED`, `REFUTED`, `NOT REPRODUCED`, `INCONCLUSIVE` in `claims.json`) and the
conformance matrix (`PASS`, `FAIL`, `UNSUPPORTED`, `ERROR`, declared with its records in
`covetbench.conformance.model`). The report's cell colours, the charts and the terminal tables
all take a word's tone from `TONES`, so a word cannot be green in one place and red in another.

    TONES[REGRESSION]   # "bad"
    css_class(NOT_REPRODUCED)   # "s-NOT-REPRODUCED"
"""

from __future__ import annotations

from covetbench.conformance.model import ERROR, FAIL, PASS, UNSUPPORTED

REGRESSION = "regression"
IMPROVEMENT = "improvement"
UNCHANGED = "unchanged"
UNDERPOWERED = "underpowered"
GATE_VERDICTS = (REGRESSION, IMPROVEMENT, UNCHANGED, UNDERPOWERED)

VALIDATED = "VALIDATED"
REFUTED = "REFUTED"
#: a throughput claim that names no hardware fell short here: not false on any hardware, not
#: shown on this one (REFUTED stays for what no hardware changes: a missing module, a failed MUST)
NOT_REPRODUCED = "NOT REPRODUCED"
INCONCLUSIVE = "INCONCLUSIVE"
CLAIM_VERDICTS = (VALIDATED, REFUTED, NOT_REPRODUCED, INCONCLUSIVE)

#: tones: how a word is shown (BROKEN: the check itself failed; MUTED: not applicable)
GOOD, BAD, WARN, BROKEN, MUTED, NEUTRAL = "good", "bad", "warn", "broken", "muted", "neutral"

TONES: dict[str, str] = {
    PASS: GOOD,
    VALIDATED: GOOD,
    IMPROVEMENT: GOOD,
    FAIL: BAD,
    REFUTED: BAD,
    REGRESSION: BAD,
    INCONCLUSIVE: WARN,
    NOT_REPRODUCED: WARN,
    UNDERPOWERED: WARN,
    ERROR: BROKEN,
    UNSUPPORTED: MUTED,
    UNCHANGED: NEUTRAL,
}

#: rich styles of the terminal tables, by tone
TERMINAL_STYLES: dict[str, str] = {GOOD: "green", BAD: "bold red", WARN: "yellow"}


def css_class(word: str) -> str:
    """The report's CSS class of a verdict word (`s-` + the word, spaces as dashes)."""
    return "s-" + "-".join(word.split())
