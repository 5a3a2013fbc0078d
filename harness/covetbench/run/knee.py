"""The sweep's records and its knee: latency against offered load, and where it turns.

A sweep offers an app x server fractions of its measured capacity (10 % .. 120 % by default),
open loop, and records one `SweepPoint` per rate. The *knee* is the first rate at which the
server stops keeping up, by either of two signs:

- its corrected p99 exceeds `p99_factor` times the p99 at the lowest rate (queueing has set
  in: below capacity the tail stays near the idle server's; at the knee it climbs by orders of
  magnitude), or
- it answered fewer than `achieved_fraction` (95 %) of the requests offered.

Points whose trial carries `generator_bound` cannot show the server's knee (the generator failed
first): they are skipped by the finder, and the curve says so.

    knee = find_knee(points, KneeRule(p99_factor=5.0))
    knee.index, knee.reason     # 7, "p99 41.2 ms > 5 x 0.61 ms (lowest rate)"
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from covetbench.records import FLAG_GENERATOR_BOUND

#: fractions of the measured capacity a sweep offers by default: 10 %, 20 %, ... 120 %
DEFAULT_FRACTIONS: tuple[float, ...] = tuple(round(0.1 * k, 2) for k in range(1, 13))


@dataclass(frozen=True)
class KneeRule:
    """When a point is past the knee (see the module docstring)."""

    p99_factor: float = 5.0
    achieved_fraction: float = 0.95


@dataclass
class SweepPoint:
    """One offered rate of a sweep, as measured."""

    fraction: float
    offered_rps: float
    achieved_rps: float
    #: corrected (from the intended start) and service-time percentiles, in ms
    latency_ms: dict[str, float | None]
    latency_uncorrected_ms: dict[str, float | None]
    intended_requests: int
    late_sends: int
    error_rate: float
    server_cpu_pct: float
    loadgen_cpu_pct: float
    interference_pct: float
    flags: list[str] = field(default_factory=list)
    raw_output_file: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Knee:
    """The first point past the knee (`index` into the points), or None with why not."""

    index: int | None
    reason: str

    @property
    def found(self) -> bool:
        return self.index is not None


def _p99(point: SweepPoint) -> float | None:
    value = point.latency_ms.get("p99")
    return float(value) if value is not None else None


def find_knee(points: Sequence[SweepPoint], rule: KneeRule = KneeRule()) -> Knee:
    """The knee of `points` (in increasing offered rate) under `rule`."""
    usable = [(i, p) for i, p in enumerate(points) if FLAG_GENERATOR_BOUND not in p.flags]
    if not usable:
        return Knee(None, "no point without generator_bound: the generator failed first")
    base = next((v for _, p in usable if (v := _p99(p)) is not None and v > 0), None)
    for i, p in usable:
        if p.offered_rps > 0 and p.achieved_rps < rule.achieved_fraction * p.offered_rps:
            return Knee(
                i,
                f"achieved {p.achieved_rps:.0f} of {p.offered_rps:.0f} req/s offered "
                f"(< {rule.achieved_fraction:.0%})",
            )
        p99 = _p99(p)
        if base is not None and p99 is not None and p99 > rule.p99_factor * base:
            return Knee(i, f"p99 {p99:.2f} ms > {rule.p99_factor:g} x {base:.2f} ms (lowest rate)")
    skipped = len(points) - len(usable)
    note = f" ({skipped} generator-bound point(s) skipped)" if skipped else ""
    return Knee(None, "no knee up to the highest rate offered" + note)


def sweep_rates(capacity_rps: float, fractions: Sequence[float] = DEFAULT_FRACTIONS) -> list[float]:
    """The offered rates: each fraction of `capacity_rps`, in increasing order, at least 1."""
    return [max(1.0, round(capacity_rps * f, 1)) for f in sorted(fractions)]
