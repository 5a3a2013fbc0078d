"""The gate's error rates, measured: false alarms on a byte-identical copy, detections of
calibrated 10 % and 25 % slowdowns, in the cross-run and the interleaved (A/B) mode.

    .venv/bin/python benchmarks/method/gate_error_rates.py --reps 10 --out reports/gate-error-rates
    .venv/bin/python benchmarks/method/gate_error_rates.py --dry-run --base-rps 20000   # plan only
    .venv/bin/python benchmarks/method/gate_error_rates.py --judge-only --out DIR     # re-table

Every `covet-bench run` inside takes /tmp/covet-bench.lock itself (no outer flock). About 6-7
minutes a repetition at the defaults (8 trials of 3 s a side), so over an hour for 10.

The apps (`slowapps.py`, raw ASGI's endpoints on uvicorn, plaintext, 64 connections): `base`,
`copy` (byte-identical: any verdict but unchanged is a false alarm), `slow10` and `slow25` (a
busy-wait per request). Calibration makes the slowdowns 10 % and 25 % of throughput on the
machine that runs the study: a short run of `base` measures its cost per request, c = 1 / rps
(the server's core is the bottleneck); a busy-wait of x per request gives 1 / (c + x), so a drop
of s needs x = c * (1 / (1 - s) - 1) (c / 9 for 10 %, c / 3 for 25 %).

Each repetition measures both modes:

- `ab`: one run with the four apps interleaved (each round runs every configuration once, so
  trial i of base and of the others ran side by side: what `gate --ab` does with a revision),
  judged unpaired (Mann-Whitney, `gate --ab`'s default) and paired (signed-rank, `--paired`);
- `cross`: four separate runs one after another (base, copy, slow10, slow25), judged unpaired as
  `gate --baseline --current` judges stored runs.

Every comparison is judged by the gate's own rule as one of a family of `--family`
configurations (default 4, ci/gate's: 2 servers x 2 scenarios): at the Holm level of a lone
regression, alpha / family. The table gives, per mode, the false-alarm rate (copy called a
regression), the detection rates (slow10, slow25 called a regression), the mean measured change
and the median smallest detectable drop the gate printed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from covetbench.gate.family import holm_adjust
from covetbench.gate.power import detectable_drop
from covetbench.gate.rule import Comparison, GateConfig, judge, measure_samples
from covetbench.results.store import load_results, trial_records
from covetbench.stats import median

HERE = Path(__file__).resolve().parent
SLOWDOWNS = {"slow10": 0.10, "slow25": 0.25}
#: the other apps compared with `base`; `copy` measures false alarms
OTHERS = ("copy", *SLOWDOWNS)
APPS = ("base", *OTHERS)
KEY = ("base", "uvicorn", "plaintext", "wrk", 64)
CALIBRATION_JSON = "calibration.json"


def extra_cost_us(base_rps: float, slowdown: float) -> float:
    """Busy-wait per request, in µs, that lowers `base_rps` by the fraction `slowdown`."""
    if base_rps <= 0 or not 0.0 <= slowdown < 1.0:
        raise ValueError(f"need base_rps > 0 and 0 <= slowdown < 1, got {base_rps}, {slowdown}")
    cost_us = 1e6 / base_rps
    return cost_us * (1.0 / (1.0 - slowdown) - 1.0)


def slowdown_env(base_rps: float) -> dict[str, str]:
    """The environment `slowapps` reads: SLOW10_US and SLOW25_US for this machine's base_rps."""
    return {
        f"{name.upper()}_US": f"{extra_cost_us(base_rps, s):.3f}" for name, s in SLOWDOWNS.items()
    }


def run_command(apps: Sequence[str], out: Path, trials: int, duration: int) -> list[str]:
    """One `covet-bench run` of `apps` (interleaved when several) into `out`."""
    command = [sys.executable, "-m", "covetbench", "run", "quick"]
    for app in APPS:
        command += ["--app", f"{app}=slowapps:{app}"]
    command += ["--apps", ",".join(apps), "--servers", "uvicorn", "--scenarios", "plaintext"]
    command += ["--concurrency", "64", "--trials", str(trials), "--duration", str(duration)]
    return command + ["--warmup", "1", "--no-report", "--quiet", "--out", str(out)]


def repetition_plan(root: Path, rep: int, trials: int, duration: int) -> list[list[str]]:
    """The runs of one repetition: the interleaved one, then the four separate ones."""
    plan = [run_command(APPS, root / f"ab{rep}", trials, duration)]
    for app in APPS:
        plan.append(run_command([app], root / f"cross{rep}-{app}", trials, duration))
    return plan


def _execute(command: list[str], env: dict[str, str], log: Path) -> None:
    with log.open("w") as fh:
        subprocess.run(command, cwd=HERE, env={**os.environ, **env}, stdout=fh, stderr=fh)


def calibrate(root: Path, trials: int, duration: int) -> float:
    """Median req/s of `base` alone on this machine (the cost per request is its inverse)."""
    out = root / "calibration-run"
    _execute(run_command(["base"], out, trials, duration), {}, root / "calibration.log")
    rps = [t.rps for t in trial_records(load_results(out))]
    return median(rps)


def _rps_by_app(run_dir: Path) -> dict[str, dict[int, float]]:
    by: dict[str, dict[int, float]] = {}
    for t in trial_records(load_results(run_dir)):
        by.setdefault(t.app, {})[t.trial] = t.rps
    return by


def judge_one(
    base: Sequence[float], other: Sequence[float], family: int, paired: bool
) -> Comparison:
    """The gate's verdict on one comparison judged as one of `family` (the Holm level of a lone
    regression: its p is the smallest, multiplied by the family size)."""
    config = GateConfig(paired=paired)
    comp = measure_samples(KEY, base, other, config, (), paired)
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
    total: int = 0
    changes: list[float] = field(default_factory=list)
    detectable: list[float] = field(default_factory=list)

    def add(self, comp: Comparison) -> None:
        self.total += 1
        self.regressions += comp.verdict == "regression"
        self.changes.append(comp.change_pct)
        if comp.detectable_change_pct is not None:
            self.detectable.append(comp.detectable_change_pct)


def judge_study(root: Path, family: int) -> dict[tuple[str, str], Tally]:
    """Tallies per (mode, other app) from every finished run under `root`."""
    tallies: dict[tuple[str, str], Tally] = {}
    for ab in sorted(root.glob("ab*")):
        if not (ab / "results.json").exists():
            continue
        by = _rps_by_app(ab)
        for other in OTHERS:
            common = sorted(set(by.get("base", {})) & set(by.get(other, {})))
            if len(common) < 2:
                continue
            base = [by["base"][i] for i in common]
            cur = [by[other][i] for i in common]
            for mode, paired in (("ab unpaired", False), ("ab paired", True)):
                tallies.setdefault((mode, other), Tally()).add(judge_one(base, cur, family, paired))
    for base_dir in sorted(root.glob("cross*-base")):
        prefix = base_dir.name.removesuffix("-base")
        if not (base_dir / "results.json").exists():
            continue
        base = list(_rps_by_app(base_dir).get("base", {}).values())
        for other in OTHERS:
            other_dir = root / f"{prefix}-{other}"
            if not base or not (other_dir / "results.json").exists():
                continue
            cur = list(_rps_by_app(other_dir).get(other, {}).values())
            if cur:
                tallies.setdefault(("cross", other), Tally()).add(
                    judge_one(base, cur, family, False)
                )
    return tallies


def table(tallies: dict[tuple[str, str], Tally]) -> str:
    """The error-rate table, one row per mode and app, as Markdown."""
    lines = [
        "| mode | compared with base | called a regression | rate | mean change | "
        "median detectable drop |",
        "|---|---|---|---|---|---|",
    ]
    for (mode, other), t in sorted(tallies.items()):
        what = "copy (false alarms)" if other == "copy" else f"{other} (detections)"
        change = statistics.fmean(t.changes) if t.changes else float("nan")
        detect = f"{statistics.median(t.detectable):.1f} %" if t.detectable else "n/a"
        lines.append(
            f"| {mode} | {what} | {t.regressions}/{t.total} | {t.regressions / t.total:.0%} | "
            f"{change:+.1f} % | {detect} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=10, help="repetitions (default 10)")
    parser.add_argument("--out", type=Path, default=Path("reports/gate-error-rates"))
    parser.add_argument("--trials", type=int, default=8, help="trials per side (default 8)")
    parser.add_argument("--duration", type=int, default=3, help="seconds a trial (default 3)")
    parser.add_argument("--family", type=int, default=4, help="Holm family size (default 4)")
    parser.add_argument("--judge-only", action="store_true", help="only tabulate --out")
    parser.add_argument("--dry-run", action="store_true", help="print the plan, run nothing")
    parser.add_argument("--base-rps", type=float, help="skip calibration: base's req/s here")
    args = parser.parse_args(argv)
    root: Path = args.out.resolve()  # the runs execute in this script's directory
    if not args.judge_only:
        root.mkdir(parents=True, exist_ok=True)
        base_rps = args.base_rps
        if base_rps is None and args.dry_run:
            parser.error("--dry-run needs --base-rps (calibrating runs load)")
        if base_rps is None:
            base_rps = calibrate(root, trials=5, duration=args.duration)
        env = slowdown_env(base_rps)
        calibration = {"base_rps": base_rps, "cost_us": 1e6 / base_rps, **env}
        print("calibration:", json.dumps(calibration))
        if not args.dry_run:
            (root / CALIBRATION_JSON).write_text(json.dumps(calibration, indent=2) + "\n")
        for rep in range(1, args.reps + 1):
            for command in repetition_plan(root, rep, args.trials, args.duration):
                if args.dry_run:
                    print(" ".join(command))
                    continue
                out = Path(command[command.index("--out") + 1])
                _execute(command, env, out.with_suffix(".log"))
            if args.dry_run:
                break  # one repetition shows the plan
    if args.dry_run:
        return 0
    print(f"family of {args.family} (alpha 0.01 / {args.family} for a lone regression)")
    print(table(judge_study(root, args.family)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
