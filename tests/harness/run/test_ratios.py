"""Paired ratios: computed from the trials of each round, not from the configurations' medians."""

from __future__ import annotations

import pytest

from covetbench.records import (
    FLAG_ERRORS,
    FLAG_TOO_FEW_ROUNDS,
    RATIO_APP_VS_RAW,
    RATIO_SERVER_VS_REFERENCE,
    TrialRecord,
)
from covetbench.run.ratios import paired_ratios, ratio_records, reference_server, rps_by_round
from covetbench.run.validity import judge_configs
from covetbench.stats import median
from tests.harness.factories import make_trial


def _trial(app: str, server: str, round_no: int | None, rps: float, trial: int = 0) -> TrialRecord:
    """A clean json c64 trial of `app` on `server` in `round_no` (the trial number by default)."""
    return make_trial(rps, trial or (round_no or 1), app=app, server=server, round=round_no)


# The host's speed drifts by 2x across rounds; covet always does 90 % of what raw does in the
# same round.
HOST = [20_000.0, 10_000.0, 19_000.0, 11_000.0, 10_500.0]


def test_ratios_come_from_rounds_not_from_medians() -> None:
    trials = []
    for r, h in enumerate(HOST, start=1):
        trials.append(_trial("raw", "uvicorn", r, h))
        trials.append(_trial("covet", "uvicorn", r, 0.9 * h))
    # the same trials with covet's rounds shuffled: medians identical, pairing destroyed
    shuffled = [
        t if t.app == "raw" else _trial("covet", "uvicorn", (t.round or 0) % 5 + 1, t.rps)
        for t in trials
    ]
    [paired] = paired_ratios(trials)
    [unpaired] = paired_ratios(shuffled)
    assert paired.kind == RATIO_APP_VS_RAW
    assert (paired.numerator, paired.denominator, paired.server) == ("covet", "raw", "uvicorn")
    assert paired.median == pytest.approx(0.9)
    assert [paired.ci_low, paired.ci_high] == pytest.approx([0.9, 0.9])
    assert paired.rounds == 5 and paired.ci_level == pytest.approx(0.9375)
    ratio_of_medians = median([0.9 * h for h in HOST]) / median(HOST)
    assert ratio_of_medians == pytest.approx(0.9), "same medians either way"
    assert unpaired.ci_high - unpaired.ci_low > 0.5, "unpaired rounds carry the host's drift"


def test_only_shared_rounds_pair_and_few_rounds_are_flagged() -> None:
    trials = [
        _trial("raw", "uvicorn", 1, 100.0),
        _trial("covet", "uvicorn", 1, 80.0),
        _trial("raw", "uvicorn", 2, 200.0),
        _trial("covet", "uvicorn", 3, 170.0),  # no raw in round 3
    ]
    [ratio] = paired_ratios(trials)
    assert ratio.rounds == 1 and ratio.median == pytest.approx(0.8)
    assert FLAG_TOO_FEW_ROUNDS in ratio.flags


def test_server_ratios_use_the_reference_server_and_carry_flags() -> None:
    trials = []
    for r in range(1, 6):
        trials += [
            _trial("raw", "uvicorn", r, 10_000.0 + r),
            _trial("raw", "granian", r, 25_000.0 + r),
            _trial("covet", "uvicorn", r, 9_000.0 + r),
            _trial("covet", "granian", r, 20_000.0 + r),
        ]
    trials[-1].flags = [FLAG_ERRORS]
    summaries = judge_configs(trials)
    ratios = paired_ratios(trials, summaries)
    kinds = [(r.kind, r.label) for r in ratios]
    assert kinds == [
        (RATIO_APP_VS_RAW, "covet/raw on uvicorn json c64"),
        (RATIO_APP_VS_RAW, "covet/raw on granian json c64"),
        (RATIO_SERVER_VS_REFERENCE, "app raw: granian/uvicorn json c64"),
        (RATIO_SERVER_VS_REFERENCE, "app covet: granian/uvicorn json c64"),
    ]
    flagged = {r.label: r.flags for r in ratios}
    assert FLAG_ERRORS in flagged["covet/raw on granian json c64"]
    assert FLAG_ERRORS not in flagged["covet/raw on uvicorn json c64"]
    assert ratio_records([r.to_dict() for r in ratios]) == ratios


def test_reference_server_and_old_files_without_rounds() -> None:
    assert reference_server(["granian", "uvicorn"]) == "uvicorn"
    assert reference_server(["granian", "covet"]) == "granian"
    assert reference_server([]) is None
    old = [_trial("raw", "uvicorn", None, 5.0, trial=2)]
    assert rps_by_round(old) == {2: 5.0}
