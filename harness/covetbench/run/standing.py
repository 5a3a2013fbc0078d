"""Winners only when they win: who is fastest among configurations, if anyone.

A "fastest configuration" with a 1.6 % lead inside overlapping intervals is noise dressed as a
result. `tied` names a winner (with its lead) only when no other interval reaches the leader's;
otherwise the tied set, leader first, and the report says "tied within noise".

    tied({"a": (30.0, 29.0, 31.0), "b": (20.0, 19.0, 21.0)}).winner   # -> "a"
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Standing(Generic[K]):
    """Who is fastest, if anyone: `winner` is None when the leader's interval overlaps another's,
    and `tied` names every candidate within noise of the leader (the leader first)."""

    winner: K | None
    tied: tuple[K, ...]
    #: the winner's median over the runner-up's, minus 1; None without a clear winner
    lead: float | None = None


def tied(candidates: Mapping[K, tuple[float, float, float]]) -> Standing[K]:
    """The standing of candidates given as key -> (median, ci_low, ci_high).

    The leader is the highest median; every candidate whose interval reaches the leader's low
    end is tied with it. A winner is named, with its lead, only when no interval overlaps its.

        tied({"a": (30.0, 29.0, 31.0), "b": (20.0, 19.0, 21.0)}).winner   # -> "a"
        tied({"a": (30.0, 25.0, 31.0), "b": (28.0, 26.0, 29.0)}).tied     # -> ("a", "b")
    """
    if not candidates:
        return Standing(None, ())
    ranked = sorted(candidates, key=lambda k: candidates[k][0], reverse=True)
    leader = ranked[0]
    _, leader_low, _ = candidates[leader]
    within = tuple(k for k in ranked if k == leader or candidates[k][2] >= leader_low)
    if len(within) > 1:
        return Standing(None, within)
    lead = None
    if len(ranked) > 1 and candidates[ranked[1]][0] > 0:
        lead = candidates[leader][0] / candidates[ranked[1]][0] - 1.0
    return Standing(leader, within, lead)
