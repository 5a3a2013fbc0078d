"""The gate's error rates, measured: false alarms on a byte-identical copy, detections of
calibrated 10 % and 25 % slowdowns, in the cross-run and the interleaved (A/B) mode.

    .venv/bin/python benchmarks/method/gate_error_rates.py --reps 10 --out reports/gate-error-rates
    .venv/bin/python benchmarks/method/gate_error_rates.py --dry-run --base-rps 20000   # plan only
    .venv/bin/python benchmarks/method/gate_error_rates.py --judge-only --out DIR     # re-table

Every `covet-bench run` inside takes /tmp/covet-bench.lock itself (no outer flock). About 5
minutes a repetition at the defaults (10 trials of 3 s a side, ci/gate's: 2.4 minutes the
interleaved run of 40 trials, 0.6 each separate run on 2026-12-05), under an hour for 10 after
a 5-minute calibration. Interrupted (Ctrl-C, SIGTERM), it stops its `covet-bench run` child
(which stops its servers) and exits 128 + the signal; started again with the same --out it
keeps every finished run and the calibration, and measures only what is missing. `table.md`
is rewritten after every repetition, so a partial study still has its table.

The apps (`slowapps.py`, raw ASGI's endpoints on uvicorn, plaintext, 64 connections; the suite
is `gate_study.toml`): `base`, `copy` (byte-identical: any verdict but unchanged is a false
alarm), `slow10` and `slow25` (a busy-wait per request).

Calibration makes the slowdowns 10 % and 25 % of throughput on the machine that runs the study,
and checks itself. A short run of `base` gives its cost per request, c = 1 / rps; a busy-wait of
x per request would give 1 / (c + x) if the server's core were the only bottleneck, so a drop of
s needs x = c * (1 / (1 - s) - 1). It is not quite (with wrk's 64 connections the server idles
now and then, so x costs more than c predicts: 10 %/25 % computed measured 11-12 %/31-32 % on
2026-12-05). So `base`, `slow10` and `slow25` then run interleaved, and each measured drop s'
(median of the per-round ratios) gives an estimate of the effective cost c' = x (1 - s') / s';
the next x is computed from the median of every step's estimate so far (one step's drop is
noisy by a few points, and a busy-wait of a microsecond or two is not perfectly linear); up to
`--calibration-steps` such runs, stopping once every drop is within `CALIBRATION_TOLERANCE` of
its target. `calibration.json` keeps every step; the table's "mean change" column gives the
drops the study really measured, whatever the calibration aimed at.

Each repetition measures both modes:

- `ab`: one run with the four apps interleaved (each round runs every configuration once, so
  trial i of base and of the others ran side by side: what `gate --ab` does with a revision),
  judged unpaired (Mann-Whitney, `gate --ab`'s default) and paired (signed-rank, `--paired`,
  what ci/gate runs);
- `cross`: four separate runs one after another (base, copy, slow10, slow25), judged unpaired as
  `gate --baseline --current` judges stored runs.

Every comparison is judged by the gate's own rule, with the validity flags of both sides, as one
of a family of `--family` configurations (default 4, ci/gate's: 2 servers x 2 scenarios): at
the Holm level of a lone regression, alpha / family. The table gives, per mode, the false-alarm
rate (copy called a regression), the detection rates (slow10, slow25 called a regression), how
many were inconclusive (a flag blocked the verdict), the mean measured change, the median
smallest detectable drop the gate printed, and the wall time of the runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from covetbench.gate.family import holm_adjust
from covetbench.gate.power import detectable_drop
from covetbench.gate.rule import Comparison, GateConfig, judge, measure_samples
from covetbench.records import TrialRecord
from covetbench.results.store import load_results, trial_records
from covetbench.stats import median

HERE = Path(__file__).resolve().parent
SUITE = HERE / "gate_study.toml"
SLOWDOWNS = {"slow10": 0.10, "slow25": 0.25}
#: the other apps compared with `base`; `copy` measures false alarms
OTHERS = ("copy", *SLOWDOWNS)
APPS = ("base", *OTHERS)
KEY = ("base", "uvicorn", "plaintext", "wrk", 64)
CALIBRATION_JSON = "calibration.json"
TIMINGS_JSON = "timings.json"
TABLE_MD = "table.md"
#: a calibrated drop this close to its target (absolute, as a fraction) ends the calibration
CALIBRATION_TOLERANCE = 0.01
CALIBRATION_TRIALS = 8


class Stopped(Exception):
    """A signal asked the study to stop (its child run has been stopped)."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by signal {signum}")
        self.signum = signum


def extra_cost_us(base_rps: float, slowdown: float) -> float:
    """Busy-wait per request, in µs, that lowers `base_rps` by the fraction `slowdown`."""
    if base_rps <= 0 or not 0.0 <= slowdown < 1.0:
        raise ValueError(f"need base_rps > 0 and 0 <= slowdown < 1, got {base_rps}, {slowdown}")
    cost_us = 1e6 / base_rps
    return cost_us * (1.0 / (1.0 - slowdown) - 1.0)


def effective_cost_us(extra_us: float, measured: float) -> float | None:
    """The cost per request c' = x (1 - s') / s' for which the 1 / (c' + x) model gives the drop
    `measured` from a busy-wait `extra_us`; None when no drop (or a total one) was measured."""
    if not 0.0 < measured < 1.0 or extra_us <= 0:
        return None
    return extra_us * (1.0 - measured) / measured


def corrected_cost_us(
    points: Sequence[tuple[float, float]], target: float, fallback: float
) -> float:
    """The busy-wait for the drop `target`, from (busy-wait, measured drop) `points`: the median
    of their effective costs, then x = c' (1/(1-s) - 1); `fallback` when none is usable."""
    costs = [c for x, s in points if (c := effective_cost_us(x, s)) is not None]
    return extra_cost_us(1e6 / median(costs), target) if costs else fallback


def slowdown_env(base_rps: float) -> dict[str, str]:
    """The environment `slowapps` reads: SLOW10_US and SLOW25_US for this machine's base_rps."""
    return env_of({name: extra_cost_us(base_rps, s) for name, s in SLOWDOWNS.items()})


def env_of(costs_us: dict[str, float]) -> dict[str, str]:
    """`slowapps`'s variables for busy-waits per app name, in µs."""
    return {f"{name.upper()}_US": f"{us:.3f}" for name, us in costs_us.items()}


def run_command(apps: Sequence[str], out: Path, trials: int, duration: int) -> list[str]:
    """One `covet-bench run` of `apps` (interleaved when several) into `out`. Only the apps run
    are declared: `run` adds every `--app` to the run whatever `--apps` names."""
    command = [sys.executable, "-m", "covetbench", "run", str(SUITE)]
    for app in apps:
        command += ["--app", f"{app}=slowapps:{app}"]
    command += ["--apps", ",".join(apps), "--trials", str(trials), "--duration", str(duration)]
    return command + ["--no-report", "--quiet", "--out", str(out)]


def repetition_plan(root: Path, rep: int, trials: int, duration: int) -> list[list[str]]:
    """The runs of one repetition: the interleaved one, then the four separate ones."""
    plan = [run_command(APPS, root / f"ab{rep}", trials, duration)]
    for app in APPS:
        plan.append(run_command([app], root / f"cross{rep}-{app}", trials, duration))
    return plan


def _stop(signum: int, frame: FrameType | None) -> None:
    raise Stopped(signum)


def _execute(command: list[str], env: dict[str, str], log: Path) -> float:
    """Run one command to its end and return its wall seconds; on any interruption stop it first
    (SIGTERM: `covet-bench run` stops its servers and keeps its finished trials)."""
    start = time.monotonic()
    with log.open("w") as fh:
        proc = subprocess.Popen(command, cwd=HERE, env={**os.environ, **env}, stdout=fh, stderr=fh)
        try:
            proc.wait()
        except BaseException:
            proc.terminate()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            raise
    return time.monotonic() - start


def _trials(run_dir: Path) -> list[TrialRecord]:
    if not (run_dir / "results.json").exists():
        return []
    return trial_records(load_results(run_dir))


def complete(run_dir: Path, apps: Sequence[str], trials: int) -> bool:
    """Whether `run_dir` holds at least `trials` trials of every app in `apps`."""
    counts = {app: 0 for app in apps}
    for t in _trials(run_dir):
        counts[t.app] = counts.get(t.app, 0) + 1
    return all(counts[app] >= trials for app in apps)


def _rps_by_app(run_dir: Path) -> dict[str, dict[int, float]]:
    by: dict[str, dict[int, float]] = {}
    for t in _trials(run_dir):
        by.setdefault(t.app, {})[t.trial] = t.rps
    return by


def _flags_by_app(run_dir: Path) -> dict[str, set[str]]:
    """Trial and configuration flags per app, as the gate reads them."""
    data = load_results(run_dir)
    flags: dict[str, set[str]] = {}
    for t in trial_records(data):
        flags.setdefault(t.app, set()).update(t.flags)
    for row in data.get("summary") or []:
        flags.setdefault(str(row["app"]), set()).update(row.get("config_flags") or [])
    return flags


def measured_drops(run_dir: Path) -> dict[str, float]:
    """1 - the median per-round ratio of each slowed app to `base` in one interleaved run."""
    by = _rps_by_app(run_dir)
    drops = {}
    for name in SLOWDOWNS:
        common = sorted(set(by.get("base", {})) & set(by.get(name, {})))
        if common:
            drops[name] = 1.0 - median([by[name][i] / by["base"][i] for i in common])
    return drops


def calibrate(root: Path, duration: int, steps: int) -> dict[str, Any]:
    """Busy-waits for 10 % and 25 % on this machine, checked by interleaved runs (see above)."""
    run = root / "calibration-base"
    _execute(run_command(["base"], run, 3, duration), {}, root / "calibration-base.log")
    base_rps = median([t.rps for t in _trials(run)])
    costs = {name: extra_cost_us(base_rps, s) for name, s in SLOWDOWNS.items()}
    record: dict[str, Any] = {"base_rps": base_rps, "cost_us": 1e6 / base_rps, "steps": []}
    points: dict[str, list[tuple[float, float]]] = {name: [] for name in SLOWDOWNS}
    for step in range(1, steps + 1):
        run = root / f"calibration-{step}"
        command = run_command(["base", *SLOWDOWNS], run, CALIBRATION_TRIALS, duration)
        _execute(command, env_of(costs), run.with_suffix(".log"))
        drops = measured_drops(run)
        record["steps"].append({"env": env_of(costs), "measured_drop": drops})
        if len(drops) < len(SLOWDOWNS):
            break  # a failed run: keep the busy-waits computed so far
        if all(abs(drops[n] - s) <= CALIBRATION_TOLERANCE for n, s in SLOWDOWNS.items()):
            break
        for name, target in SLOWDOWNS.items():
            points[name].append((costs[name], drops[name]))
            costs[name] = corrected_cost_us(points[name], target, costs[name])
    record["env"] = env_of(costs)
    return record


def judge_one(
    base: Sequence[float],
    other: Sequence[float],
    family: int,
    paired: bool,
    flags: Sequence[str] = (),
) -> Comparison:
    """The gate's verdict on one comparison judged as one of `family` (the Holm level of a lone
    regression: its p is the smallest, multiplied by the family size)."""
    config = GateConfig(paired=paired)
    comp = measure_samples(KEY, base, other, config, flags, paired)
    comp.family_size = family
    padded = [1.0] * (family - 1)
    comp.p_value_adjusted = holm_adjust([comp.p_value, *padded])[0]
    comp.p_value_improvement_adjusted = holm_adjust([comp.p_value_improvement, *padded])[0]
    judge(comp, config)
    drop = detectable_drop(
        comp.baseline_n,
        comp.current_n,
        comp.baseline_log_sd,
        comp.current_log_sd,
        level=config.alpha / family,
        threshold=config.threshold_pct / 100.0,
        pair_log_sd=comp.pair_log_sd,
    )
    comp.detectable_change_pct = None if drop is None else round(drop * 100.0, 1)
    return comp


@dataclass
class Tally:
    """Verdicts of one (mode, app) cell over the repetitions."""

    regressions: int = 0
    inconclusive: int = 0
    total: int = 0
    changes: list[float] = field(default_factory=list)
    detectable: list[float] = field(default_factory=list)

    def add(self, comp: Comparison) -> None:
        self.total += 1
        self.regressions += comp.verdict == "regression"
        self.inconclusive += comp.verdict not in ("regression", "unchanged", "improvement")
        self.changes.append(comp.change_pct)
        if comp.detectable_change_pct is not None:
            self.detectable.append(comp.detectable_change_pct)


def judge_study(root: Path, family: int) -> dict[tuple[str, str], Tally]:
    """Tallies per (mode, other app) from every finished run under `root`."""
    tallies: dict[tuple[str, str], Tally] = {}
    for ab in sorted(root.glob("ab*")):
        if not (ab / "results.json").exists():
            continue
        by, flags = _rps_by_app(ab), _flags_by_app(ab)
        for other in OTHERS:
            common = sorted(set(by.get("base", {})) & set(by.get(other, {})))
            if len(common) < 2:
                continue
            base = [by["base"][i] for i in common]
            cur = [by[other][i] for i in common]
            both = sorted(flags.get("base", set()) | flags.get(other, set()))
            for mode, paired in (("ab unpaired", False), ("ab paired", True)):
                comp = judge_one(base, cur, family, paired, both)
                tallies.setdefault((mode, other), Tally()).add(comp)
    for base_dir in sorted(root.glob("cross*-base")):
        prefix = base_dir.name.removesuffix("-base")
        if not (base_dir / "results.json").exists():
            continue
        base = list(_rps_by_app(base_dir).get("base", {}).values())
        base_flags = sorted(_flags_by_app(base_dir).get("base", set()))
        for other in OTHERS:
            other_dir = root / f"{prefix}-{other}"
            if not base or not (other_dir / "results.json").exists():
                continue
            cur = list(_rps_by_app(other_dir).get(other, {}).values())
            both = base_flags + sorted(_flags_by_app(other_dir).get(other, set()))
            if cur:
                tallies.setdefault(("cross", other), Tally()).add(
                    judge_one(base, cur, family, False, both)
                )
    return tallies


def table(tallies: dict[tuple[str, str], Tally]) -> str:
    """The error-rate table, one row per mode and app, as Markdown."""
    lines = [
        "| mode | compared with base | called a regression | rate | inconclusive | "
        "mean change | median detectable drop |",
        "|---|---|---|---|---|---|---|",
    ]
    for (mode, other), t in sorted(tallies.items()):
        what = "copy (false alarms)" if other == "copy" else f"{other} (detections)"
        change = statistics.fmean(t.changes) if t.changes else float("nan")
        detect = f"{statistics.median(t.detectable):.1f} %" if t.detectable else "n/a"
        lines.append(
            f"| {mode} | {what} | {t.regressions}/{t.total} | {t.regressions / t.total:.0%} | "
            f"{t.inconclusive} | {change:+.1f} % | {detect} |"
        )
    return "\n".join(lines)


def timing_lines(timings: dict[str, float]) -> list[str]:
    """Median wall minutes of the interleaved runs and of the separate ones."""
    ab = [s for name, s in timings.items() if name.startswith("ab")]
    cross = [s for name, s in timings.items() if name.startswith("cross")]
    lines = []
    if ab:
        lines.append(
            f"interleaved run (4 apps x trials, 3 comparisons): median {median(ab) / 60:.1f} min"
            f" over {len(ab)}; a 2-side gate runs half its trials"
        )
    if cross:
        lines.append(f"separate run (1 app): median {median(cross) / 60:.1f} min over {len(cross)}")
    return lines


def report(root: Path, family: int) -> str:
    """The study's digest: calibration, family, table, timings (also written to table.md)."""
    parts = []
    calibration = root / CALIBRATION_JSON
    if calibration.exists():
        parts.append("calibration: " + json.dumps(json.loads(calibration.read_text())))
    parts.append(f"family of {family} (alpha 0.01 / {family} for a lone regression)")
    parts.append(table(judge_study(root, family)))
    timings = root / TIMINGS_JSON
    if timings.exists():
        parts += timing_lines(json.loads(timings.read_text()))
    text = "\n\n".join(parts) + "\n"
    (root / TABLE_MD).write_text(text)
    return text


def _calibration(root: Path, args: argparse.Namespace) -> dict[str, str]:
    path = root / CALIBRATION_JSON
    if args.base_rps is not None:
        return slowdown_env(args.base_rps)
    if path.exists():
        return dict(json.loads(path.read_text())["env"])
    record = calibrate(root, args.duration, args.calibration_steps)
    path.write_text(json.dumps(record, indent=2) + "\n")
    return dict(record["env"])


def measure(root: Path, args: argparse.Namespace) -> None:
    """Every repetition not yet complete under `root` (finished runs are kept)."""
    env = _calibration(root, args)
    print("slowdowns:", json.dumps(env), flush=True)
    timings_path = root / TIMINGS_JSON
    timings = json.loads(timings_path.read_text()) if timings_path.exists() else {}
    for rep in range(1, args.reps + 1):
        for command in repetition_plan(root, rep, args.trials, args.duration):
            out = Path(command[command.index("--out") + 1])
            apps = command[command.index("--apps") + 1].split(",")
            if complete(out, apps, args.trials):
                continue
            shutil.rmtree(out, ignore_errors=True)
            timings[out.name] = _execute(command, env, out.with_suffix(".log"))
            timings_path.write_text(json.dumps(timings, indent=2) + "\n")
        print(f"repetition {rep} done", flush=True)
        report(root, args.family)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=10, help="repetitions (default 10)")
    parser.add_argument("--out", type=Path, default=Path("reports/gate-error-rates"))
    parser.add_argument("--trials", type=int, default=10, help="trials per side (default 10)")
    parser.add_argument("--duration", type=int, default=3, help="seconds a trial (default 3)")
    parser.add_argument("--family", type=int, default=4, help="Holm family size (default 4)")
    parser.add_argument(
        "--calibration-steps", type=int, default=3, help="interleaved checks (default 3)"
    )
    parser.add_argument("--judge-only", action="store_true", help="only tabulate --out")
    parser.add_argument("--dry-run", action="store_true", help="print the plan, run nothing")
    parser.add_argument("--base-rps", type=float, help="skip calibration: base's req/s here")
    args = parser.parse_args(argv)
    root: Path = args.out.resolve()  # the runs execute in this script's directory
    if args.dry_run:
        if args.base_rps is None:
            parser.error("--dry-run needs --base-rps (calibrating runs load)")
        print("slowdowns:", json.dumps(slowdown_env(args.base_rps)))
        for command in repetition_plan(root, 1, args.trials, args.duration):
            print(" ".join(command))  # one repetition shows the plan
        return 0
    if not args.judge_only:
        root.mkdir(parents=True, exist_ok=True)
        signal.signal(signal.SIGTERM, _stop)
        try:
            measure(root, args)
        except Stopped as exc:
            print(f"gate_error_rates: {exc}; finished runs kept in {root}", file=sys.stderr)
            return 128 + exc.signum
        except KeyboardInterrupt:
            print(f"gate_error_rates: interrupted; finished runs kept in {root}", file=sys.stderr)
            return 128 + signal.SIGINT
    print(report(root, args.family), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
