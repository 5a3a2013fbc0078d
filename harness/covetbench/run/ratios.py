"""Paired ratios: the comparisons users read, taken round by round so the host's drift cancels.

On this kind of machine the cost of a request moves by up to 2x between trials while the guest
sees nothing (uvicorn raw 9.9k-21.8k req/s over ten runs of one process). A ratio of two
medians taken minutes apart carries that drift twice; two trials of the same round ran back to
back (the schedule puts compared configurations next to each other), so their ratio keeps what
each median loses. Each ratio is the median of the per-round ratios with the distribution-free
interval of `covetbench.stats.paired_ratio`, at the level it actually has.

Two kinds (`records.RATIO_*`):

- `app_vs_raw`: each framework app against the `raw` floor on the same server, scenario,
  generator, concurrency and pipeline depth ("covet keeps 96 % of raw ASGI on uvicorn");
- `server_vs_reference`: each server against the reference server (`REFERENCE_SERVER` when the
  run has it, else the first server of the run) for the same app and load.

    ratios = paired_ratios(trials, summaries)     # -> [RatioRecord], app ratios first
    ratio_sentence(ratios[0])  # "covet keeps 96 % [91-101 %] of raw on uvicorn (json c64, ...)"
"""

from __future__ import annotations

from collections.abc import Sequence

from covetbench.records import (
    FLAG_TOO_FEW_ROUNDS,
    RATIO_APP_VS_RAW,
    RATIO_SERVER_VS_REFERENCE,
    ConfigKey,
    ConfigSummary,
    RatioRecord,
    TrialRecord,
)
from covetbench.run.validity import FLOOR_APP, MIN_CI_LEVEL
from covetbench.stats import CI_LEVEL, group_by_key, paired_ratio

#: the server every other server is compared with, for the same app, when the run has it:
#: uvicorn is the ASGI reference implementation users know
REFERENCE_SERVER = "uvicorn"


def rps_by_round(trials: Sequence[TrialRecord]) -> dict[int, float]:
    """A configuration's requests/s per round. Files written before rounds were recorded ran
    fixed interleaved rounds, where the trial number is the round."""
    return {t.round if t.round is not None else t.trial: t.rps for t in trials}


def reference_server(servers: Sequence[str]) -> str | None:
    """`REFERENCE_SERVER` when measured, else the first server of the run (None: no servers)."""
    if REFERENCE_SERVER in servers:
        return REFERENCE_SERVER
    return servers[0] if servers else None


def _ratio(
    kind: str,
    num_key: ConfigKey,
    den_key: ConfigKey,
    groups: dict[ConfigKey, list[TrialRecord]],
    flags: dict[ConfigKey, list[str]],
    level: float,
) -> RatioRecord | None:
    num, den = rps_by_round(groups[num_key]), rps_by_round(groups[den_key])
    shared = sorted(set(num) & set(den))
    pairs = [(num[r], den[r]) for r in shared if num[r] > 0 and den[r] > 0]
    if not pairs:
        return None
    result = paired_ratio(pairs, level)
    ratio_flags = sorted({*flags.get(num_key, []), *flags.get(den_key, [])})
    if result.level < MIN_CI_LEVEL:
        ratio_flags.append(FLAG_TOO_FEW_ROUNDS)
    by_app = kind == RATIO_APP_VS_RAW
    return RatioRecord(
        kind=kind,
        numerator=num_key.app if by_app else num_key.server,
        denominator=den_key.app if by_app else den_key.server,
        server=num_key.server,
        app=num_key.app,
        scenario=num_key.scenario,
        loadgen=num_key.loadgen,
        concurrency=num_key.concurrency,
        pipeline=num_key.pipeline,
        median=result.median,
        ci_low=result.low,
        ci_high=result.high,
        ci_level=result.level,
        ci_method=result.method,
        rounds=result.rounds,
        flags=ratio_flags,
    )


def paired_ratios(
    trials: Sequence[TrialRecord],
    summaries: Sequence[ConfigSummary] = (),
    *,
    floor_app: str = FLOOR_APP,
    level: float = CI_LEVEL,
) -> list[RatioRecord]:
    """Every `app_vs_raw` ratio, then every `server_vs_reference` ratio the trials allow.

    A comparison needs both configurations measured in at least one common round; `summaries`
    (when given) lend their trial and configuration flags to the ratios built from them.
    """
    groups = group_by_key(trials)
    flags = {s.key: s.all_flags for s in summaries}
    app_ratios: list[RatioRecord] = []
    for key in groups:
        floor = key._replace(app=floor_app)
        if key.app != floor_app and floor in groups:
            ratio = _ratio(RATIO_APP_VS_RAW, key, floor, groups, flags, level)
            if ratio is not None:
                app_ratios.append(ratio)
    server_ratios: list[RatioRecord] = []
    reference = reference_server(list(dict.fromkeys(k.server for k in groups)))
    for key in groups:
        base = key._replace(server=reference or key.server)
        if key.server != base.server and base in groups:
            ratio = _ratio(RATIO_SERVER_VS_REFERENCE, key, base, groups, flags, level)
            if ratio is not None:
                server_ratios.append(ratio)
    return app_ratios + server_ratios


def pct(value: float) -> str:
    """A ratio as a whole percentage: 0.957 -> `96 %`."""
    return f"{value * 100:.0f} %"


def interval_words(r: RatioRecord) -> str:
    """`91-101 %`, with the level where it is below 95 %: `91-101 %, min-max, 75 %`."""
    note = r.interval_note
    return f"{r.ci_low * 100:.0f}-{r.ci_high * 100:.0f} %" + (f", {note}" if note else "")


def ratio_sentence(r: RatioRecord) -> str:
    """One ratio in words, e.g. `covet keeps 96 % [91-101 %] of raw on uvicorn (json c64,
    5 rounds)`; flags follow in brackets."""
    deep = f" p{r.pipeline}" if r.pipeline > 1 else ""
    where = f"{r.scenario} c{r.concurrency}{deep}, {r.rounds} round{'s' * (r.rounds != 1)}"
    if r.kind == RATIO_APP_VS_RAW:
        text = (
            f"{r.numerator} keeps {pct(r.median)} [{interval_words(r)}] of {r.denominator} "
            f"on {r.server} ({where})"
        )
    else:
        text = (
            f"{r.app} on {r.numerator} serves {pct(r.median)} [{interval_words(r)}] of its "
            f"requests/s on {r.denominator} ({where})"
        )
    return text + (f" — flagged: {', '.join(r.flags)}" if r.flags else "")


def ratio_records(rows: Sequence[dict[str, object]]) -> list[RatioRecord]:
    """`results.json["ratios"]` rows as records (unknown keys ignored)."""
    names = set(RatioRecord.__dataclass_fields__)
    return [RatioRecord(**{k: v for k, v in row.items() if k in names}) for row in rows]  # type: ignore[arg-type]
