"""Family-wise error control: the gate's configurations are judged as one family.

A gate compares 4-24 configurations. Testing each at alpha = 0.01 alone, the chance that at least
one identical configuration is called a regression grows with their number (about 1 - 0.99^m).
The Holm-Bonferroni step-down procedure keeps that family-wise error rate at alpha for any
dependence between the tests, and is uniformly more powerful than plain Bonferroni:

    sort the m p-values ascending, p(1) <= ... <= p(m);
    adjusted p(i) = max over j <= i of min(1, (m - j + 1) * p(j));
    a configuration is significant when its adjusted p < alpha.

A lone regression among m configurations thus faces alpha / m. The correction is applied to the
regression p-values and, separately, to the improvement p-values (two families, each at alpha:
a false alarm fails CI, a false improvement only misleads). The family is every configuration
compared, underpowered and flagged ones included (a flagged one may still be a regression beyond
doubt), so its size is fixed before any verdict.

    judge_family(comparisons, GateConfig())   # sets p_value_adjusted, family_size, verdict
"""

from __future__ import annotations

from collections.abc import Sequence

from covetbench.gate.power import detectable_drop
from covetbench.gate.rule import Comparison, GateConfig, judge, p_floor


def holm_adjust(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the input's order.

    holm_adjust([0.004, 0.5, 0.3, 0.2])   # -> [0.016, 0.6, 0.6, 0.6]
    """
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [1.0] * m
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


def judge_family(comparisons: Sequence[Comparison], config: GateConfig) -> None:
    """Correct, judge and size the detectable change of every comparison, in place."""
    m = len(comparisons)
    less = holm_adjust([c.p_value for c in comparisons])
    greater = holm_adjust([c.p_value_improvement for c in comparisons])
    level = config.alpha / max(m, 1)
    for comp, p_less, p_greater in zip(comparisons, less, greater, strict=True):
        comp.family_size = m
        comp.p_value_adjusted = p_less
        comp.p_value_improvement_adjusted = p_greater
        judge(comp, config)
        comp.detectable_change_pct = None
        if p_floor(comp) < level:
            drop = detectable_drop(
                comp.baseline_n,
                comp.current_n,
                comp.baseline_log_sd,
                comp.current_log_sd,
                level=level,
                threshold=config.threshold_pct / 100.0,
                pair_log_sd=comp.pair_log_sd,
            )
            comp.detectable_change_pct = None if drop is None else round(drop * 100.0, 1)
