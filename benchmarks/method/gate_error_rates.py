"""Judge each run in a gate_error_rates.sh output directory with the gate's own rule.

python benchmarks/method/gate_error_rates.py reports/gate-error-rates
"""

from __future__ import annotations

import sys
from pathlib import Path

from covetbench.gate.compare import GateConfig, compare_samples
from covetbench.results.store import load_results, trial_records
from covetbench.stats import median

OTHERS = ("copy", "slow10", "slow25")


def main(root: Path) -> None:
    cfg = GateConfig()
    hits: dict[tuple[str, str], list[bool]] = {}
    changes: dict[tuple[str, str], list[float]] = {}
    for run in sorted(p for p in root.iterdir() if (p / "results.json").exists()):
        data = load_results(run)
        by: dict[str, dict[int, float]] = {}
        for t in trial_records(data):
            by.setdefault(t.app, {})[t.trial] = t.rps
        if "base" not in by:
            continue
        line = [run.name, f"base {median(list(by['base'].values())):,.0f}"]
        for other in OTHERS:
            common = sorted(set(by["base"]) & set(by.get(other, {})))
            if not common:
                continue
            b = [by["base"][i] for i in common]
            c = [by[other][i] for i in common]
            for mode, paired in (("unpaired", False), ("paired", True)):
                comp = compare_samples(("x", "u", "p", "wrk", 64), b, c, cfg, [], paired=paired)
                hits.setdefault((other, mode), []).append(comp.verdict == "regression")
                changes.setdefault((other, mode), []).append(comp.change_pct)
                if mode == "unpaired":
                    line.append(
                        f"{other} {comp.change_pct:+.1f}% p={comp.p_value:.3g} {comp.verdict}"
                    )
        print(" | ".join(line))
    for (other, mode), flagged in hits.items():
        mean = sum(changes[(other, mode)]) / len(flagged)
        print(
            f"{other:7s} {mode:9s}: {sum(flagged)}/{len(flagged)} flagged; mean change {mean:+.1f}%"
        )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
