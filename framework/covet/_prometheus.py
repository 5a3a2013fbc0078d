r"""A small Prometheus registry with the text exposition format (version 0.0.4), stdlib only.

    registry = Registry()
    hits = registry.counter("app_hits_total", "Hits.", ("page",))
    hits.inc(("home",))
    registry.render()        # '# HELP app_hits_total Hits.\n# TYPE app_hits_total counter\n...'

Enough for `MetricsMiddleware`: counters, gauges and histograms with fixed label names, and
collectors called at scrape time (how the server's own counters join without costing anything
per request). Single-threaded by design: an asyncio app updates them from one thread, so no
lock is taken on the request path. Label values are escaped as the format asks (`\\`, `"`,
newline).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

__all__ = ["DEFAULT_BUCKETS", "Counter", "Gauge", "Histogram", "Registry", "Sample"]

DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Labels = tuple[str, ...]
# (metric name, type, help, [(sample name suffix, label pairs, value)])
Sample = tuple[str, str, str, list[tuple[str, tuple[tuple[str, str], ...], float]]]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


class _Metric:
    kind = ""

    def __init__(self, name: str, help: str, labelnames: Sequence[str] = ()) -> None:
        self.name = name
        self.help = help
        self.labelnames = tuple(labelnames)

    def _pairs(self, labels: Labels) -> tuple[tuple[str, str], ...]:
        return tuple(zip(self.labelnames, labels, strict=True))

    def sample(self) -> Sample:
        raise NotImplementedError


class Counter(_Metric):
    """A monotonically increasing count per label tuple."""

    kind = "counter"

    def __init__(self, name: str, help: str, labelnames: Sequence[str] = ()) -> None:
        super().__init__(name, help, labelnames)
        self.values: dict[Labels, float] = {}

    def inc(self, labels: Labels = (), amount: float = 1.0) -> None:
        self.values[labels] = self.values.get(labels, 0.0) + amount

    def sample(self) -> Sample:
        rows = [("", self._pairs(k), v) for k, v in self.values.items()]
        return (self.name, self.kind, self.help, rows)


class Gauge(Counter):
    """A value that goes up and down (`inc` with a negative amount, or `set`)."""

    kind = "gauge"

    def set(self, value: float, labels: Labels = ()) -> None:
        self.values[labels] = value


class Histogram(_Metric):
    """Observations counted into cumulative `le` buckets, with their sum and count."""

    kind = "histogram"

    def __init__(
        self,
        name: str,
        help: str,
        labelnames: Sequence[str] = (),
        buckets: Sequence[float] = DEFAULT_BUCKETS,
    ) -> None:
        super().__init__(name, help, labelnames)
        self.bounds = sorted(float(b) for b in buckets if not math.isinf(b))
        # per label tuple: [count per bucket (non-cumulative, the last is +Inf), sum]
        self.values: dict[Labels, tuple[list[int], list[float]]] = {}

    def observe(self, value: float, labels: Labels = ()) -> None:
        entry = self.values.get(labels)
        if entry is None:
            entry = self.values[labels] = ([0] * (len(self.bounds) + 1), [0.0])
        entry[0][bisect.bisect_left(self.bounds, value)] += 1
        entry[1][0] += value

    def sample(self) -> Sample:
        rows: list[tuple[str, tuple[tuple[str, str], ...], float]] = []
        for labels, (counts, total) in self.values.items():
            pairs = self._pairs(labels)
            running = 0
            for bound, count in zip([*self.bounds, math.inf], counts, strict=True):
                running += count
                rows.append(("_bucket", (*pairs, ("le", _number(bound))), running))
            rows.append(("_sum", pairs, total[0]))
            rows.append(("_count", pairs, running))
        return (self.name, self.kind, self.help, rows)


_M = TypeVar("_M", bound=_Metric)


class Registry:
    """Metrics by name, plus collectors that produce samples when scraped."""

    def __init__(self) -> None:
        self.metrics: list[_Metric] = []
        self.collectors: list[Callable[[], Iterable[Sample]]] = []

    def counter(self, name: str, help: str, labelnames: Sequence[str] = ()) -> Counter:
        return self._add(Counter(name, help, labelnames))

    def gauge(self, name: str, help: str, labelnames: Sequence[str] = ()) -> Gauge:
        return self._add(Gauge(name, help, labelnames))

    def histogram(
        self,
        name: str,
        help: str,
        labelnames: Sequence[str] = (),
        buckets: Sequence[float] = DEFAULT_BUCKETS,
    ) -> Histogram:
        return self._add(Histogram(name, help, labelnames, buckets))

    def _add(self, metric: _M) -> _M:
        if any(m.name == metric.name for m in self.metrics):
            raise ValueError(f"metric {metric.name!r} is already registered")
        self.metrics.append(metric)
        return metric

    def render(self) -> str:
        """Every metric in the text exposition format."""
        lines: list[str] = []
        samples = [m.sample() for m in self.metrics]
        for collect in self.collectors:
            samples.extend(collect())
        for name, kind, help, rows in samples:
            lines.append(f"# HELP {name} {help.replace(chr(92), chr(92) * 2)}")
            lines.append(f"# TYPE {name} {kind}")
            for suffix, pairs, value in rows:
                labels = ",".join(f'{k}="{_escape(v)}"' for k, v in pairs)
                lines.append(
                    f"{name}{suffix}{{{labels}}} {_number(value)}"
                    if labels
                    else f"{name}{suffix} {_number(value)}"
                )
        return "\n".join(lines) + "\n"
