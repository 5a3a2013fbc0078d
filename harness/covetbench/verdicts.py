"""Every verdict word the harness writes, and the one tone each is shown in.

Three readers judge, each with its own words: the gates (`regression`, `improvement`,
`unchanged`, `underpowered`, `inconclusive`, `missing`, lower case in `gate.json` and
`instructions.json`; `covetbench.gate.rule` says when each applies), the claims
ledger (`VALIDATED`, `REFUTED`, `NOT REPRODUCED`, `INCONCLUSIVE` in `claims.json`) and the
conformance matrix (`PASS`, `FAIL`, `UNSUPPORTED`, `ERROR`, declared with its records in
`covetbench.conformance.model`). The report's cell colours, the charts and the terminal tables
all take a word's tone from `TONES`, so a word cannot be green in one place and red in another.

    TONES[REGRESSION]   # "bad"
    css_class(NOT_REPRODUCED)   # "s-NOT-REPRODUCED"
"""

from __future__ import annotations

# re-exported: the gates' headlines say PASS / FAIL / ERROR too
from covetbench.conformance.model import ERROR as ERROR
from covetbench.conformance.model import FAIL as FAIL
from covetbench.conformance.model import PASS as PASS
from covetbench.conformance.model import UNSUPPORTED as UNSUPPORTED

REGRESSION = "regression"
IMPROVEMENT = "improvement"
UNCHANGED = "unchanged"
UNDERPOWERED = "underpowered"
#: a flagged comparison (errors, generator_bound, unstable, implausible) that is not a regression
#: beyond doubt: it can neither pass nor improve (exit 2)
GATE_INCONCLUSIVE = "inconclusive"
#: a baseline configuration the current run lacks, failed or did not verify (exit 1)
MISSING = "missing"
GATE_VERDICTS = (REGRESSION, IMPROVEMENT, UNCHANGED, UNDERPOWERED, GATE_INCONCLUSIVE, MISSING)

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
    MISSING: BAD,
    INCONCLUSIVE: WARN,
    NOT_REPRODUCED: WARN,
    UNDERPOWERED: WARN,
    GATE_INCONCLUSIVE: WARN,
    ERROR: BROKEN,
    UNSUPPORTED: MUTED,
    UNCHANGED: NEUTRAL,
}

#: rich styles of the terminal tables, by tone
TERMINAL_STYLES: dict[str, str] = {GOOD: "green", BAD: "bold red", WARN: "yellow"}


def css_class(word: str) -> str:
    """The report's CSS class of a verdict word (`s-` + the word, spaces as dashes)."""
    return "s-" + "-".join(word.split())
