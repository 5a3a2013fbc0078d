"""The plumbing under every chart: matplotlib's style for the report, the `Chart` record and
the conversion of a figure to inline, accessible SVG.

Text is kept as SVG `<text>` (not paths) so the page stays small and searchable; matplotlib
escapes it, and math parsing is off so a `$` in an untrusted name is drawn as typed.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from markupsafe import Markup, escape

from covetbench.report.model import human_rps

try:
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter
except ImportError as exc:  # pragma: no cover - the bench extra ships it
    raise ImportError("the report needs matplotlib: pip install 'covetpy[bench]'") from exc

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

#: Inches; 1 in = 96 CSS px once the SVG's pt size is laid out (half width = 2 per row).
HALF_WIDTH = 6.0
FULL_WIDTH = 12.2

_RC: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",
    "svg.hashsalt": "covet-bench-report",
    "text.parse_math": False,
    "font.size": 9,
    "font.family": "DejaVu Sans",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.alpha": 0.35,
    "grid.linewidth": 0.6,
    "hatch.linewidth": 0.8,
    "legend.frameon": False,
}


_NAME_LIMIT = 22


def short_name(name: str) -> str:
    """Names as drawn in charts: long ones cut, so one odd name cannot wreck the layout
    (tables and alt text carry them in full)."""
    return name if len(name) <= _NAME_LIMIT else name[: _NAME_LIMIT - 1] + "…"


@dataclass(frozen=True)
class Chart:
    """One inline SVG chart with its alt text and caption."""

    svg: Markup
    alt: str
    caption: str
    #: spans the page instead of half of it
    wide: bool = False


@contextmanager
def chart_style() -> Iterator[None]:
    """The house style of every chart, warnings about missing glyphs silenced."""
    with matplotlib.rc_context(_RC), warnings.catch_warnings():
        # untrusted names may hold glyphs DejaVu lacks; the browser draws them from its fonts
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from", category=UserWarning)
        yield


def to_svg(fig: Figure, alt: str) -> Markup:
    """The figure as inline SVG, labelled for screen readers with `alt`."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    label = escape(alt)
    text = re.sub(r"<svg\b", f'<svg role="img" aria-label="{label}"', text, count=1)
    end = text.index(">") + 1
    # matplotlib's SVG is well-formed and escapes every text it draws
    return Markup(text[:end] + f"<title>{label}</title>" + text[end:])


def rps_axis(ax: Any) -> None:
    """A y axis of requests/s (10k, 1.2M...) from 0."""
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: human_rps(v)))
    ax.set_ylim(bottom=0)
