"""One colour per server and one colour + marker per app, the same in every chart and table.

Known names keep a fixed colour across reports (uvicorn is always the same blue); other names
take the remaining colours in sorted order, so a report's colours never depend on the order in
which results were written.

    palette = Palette.build(servers=["uvicorn", "mine"], apps=["covet"])
    palette.server("uvicorn")   # "#1f77b4"
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from covetbench.apps import PREFERRED_ORDER
from covetbench.servers import server_names
from covetbench.verdicts import BAD, BROKEN, GOOD, MUTED, NEUTRAL, TONES, WARN

#: Colour-blind-friendly fills for servers (tab10 without its red, which marks regressions).
_SERVER_COLOURS = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
]

#: Darker, distinct tones for apps (Dark2), used for app panels and markers.
_APP_COLOURS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#a6761d", "#666666"]
_MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]

#: Colours of statuses and verdicts, shared by the HTML cells and the charts.
_TONE_CELLS = {
    GOOD: "#d4edda",
    BAD: "#f8d7da",
    BROKEN: "#ffe5b4",
    WARN: "#fff3cd",
    MUTED: "#e2e3e5",
}
STATUS_COLOURS: dict[str, str] = {
    word: _TONE_CELLS[tone] for word, tone in TONES.items() if tone in _TONE_CELLS
}
#: line and marker colours by tone (charts)
LINE_COLOURS: dict[str, str] = {BAD: "#d62728", GOOD: "#2ca02c", NEUTRAL: "#7f7f7f"}
NEUTRAL_COLOUR = LINE_COLOURS[NEUTRAL]


def _assign(names: Iterable[str], known: Sequence[str], size: int) -> dict[str, int]:
    """Index into a palette of `size`: known names first at fixed slots, the rest sorted."""
    slots: dict[str, int] = {}
    for name in sorted(set(names)):
        if name in known:
            slots[name] = known.index(name) % size
    # unknown names prefer slots no known name owns, so they rarely borrow a known colour
    reserved = {known.index(name) % size for name in known}
    unused = [i for i in range(size) if i not in slots.values()]
    free = sorted(unused, key=lambda i: i in reserved) or list(range(size))
    for n, name in enumerate(sorted(set(names) - set(slots))):
        slots[name] = free[n % len(free)]
    return slots


@dataclass(frozen=True)
class Palette:
    """Colours for the servers and apps of one report."""

    servers: dict[str, str]
    apps: dict[str, str]
    markers: dict[str, str]

    @classmethod
    def build(cls, servers: Iterable[str], apps: Iterable[str]) -> Palette:
        # registry order first: a server or app keeps its colour from one report to the next
        server_slots = _assign(servers, server_names(), len(_SERVER_COLOURS))
        app_slots = _assign(apps, PREFERRED_ORDER, len(_APP_COLOURS))
        return cls(
            servers={k: _SERVER_COLOURS[i] for k, i in server_slots.items()},
            apps={k: _APP_COLOURS[i] for k, i in app_slots.items()},
            markers={k: _MARKERS[i % len(_MARKERS)] for k, i in app_slots.items()},
        )

    def server(self, name: str) -> str:
        return self.servers.get(name, NEUTRAL_COLOUR)

    def app(self, name: str) -> str:
        return self.apps.get(name, NEUTRAL_COLOUR)

    def marker(self, name: str) -> str:
        return self.markers.get(name, "o")
