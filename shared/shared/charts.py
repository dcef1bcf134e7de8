"""Charts for the reports: one mechanism, no domain words. A chart is data (``Chart``: its kind,
title, categories and series); ``svg`` and ``png`` draw it with matplotlib (the Agg backend, a
``matplotlib.figure.Figure`` per chart, never pyplot's global figures).

- **Kinds**: ``bar_chart`` (vertical bars, one or more series side by side or stacked),
  ``horizontal_bar_chart`` (for long labels, such as themes) and ``line_chart`` (categories such as
  months along x; a series may use a second, right-hand axis).
- **Deterministic**: the same chart gives the same bytes (the SVG's ids are salted with a fixed
  salt, no date is written in the SVG or the PNG), so a chart can be cached and compared.
- **Accessible**: the SVG carries ``role="img"``, a ``<title>`` naming the chart and a ``<desc>``
  giving its data (``describe``, also the alt text of a PNG in a PDF); text stays text (not paths),
  in DejaVu Sans (matplotlib's own, the font the PDFs embed); the palette is Okabe and Ito's,
  safe for the colour-blind; each value is written on or beside its bar.
- **Empty data**: a chart with no category or no value draws "No data" instead of failing.
- **Fixed colours**: series *n* is always drawn in ``PALETTE[n]`` (unless it names its own colour),
  and each bar's SVG element has the id ``<series gid>-<category index>``, so a picture can be
  checked by counting what is drawn.
"""

from __future__ import annotations

import io
import math
import textwrap
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from html import escape
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display, ever; Figure objects below never touch pyplot

from matplotlib import rc_context  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator, PercentFormatter  # noqa: E402
from matplotlib.typing import RcKeyType  # noqa: E402

#: Okabe and Ito's colour-blind safe palette (blue, orange, bluish green, reddish purple, sky blue,
#: vermillion, yellow, black): series n is drawn in PALETTE[n % len(PALETTE)].
PALETTE: tuple[str, ...] = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
NO_DATA = "No data"
SVG_MEDIA_TYPE = "image/svg+xml"
PNG_MEDIA_TYPE = "image/png"
#: Every SVG's ids are hashed with this salt, so the same chart gives the same bytes.
_SALT = "qa-platform-charts"
_RC: dict[RcKeyType, Any] = {
    "svg.hashsalt": _SALT,
    "svg.fonttype": "none",  # text stays text: readable, searchable, smaller
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
#: rcParams are process-wide: one chart is drawn at a time.
_LOCK = threading.Lock()
_MAX_DESC_VALUES = 60
#: The tallest a horizontal bar chart grows (inches), however many rows it has.
MAX_HEIGHT = 11.0


class Kind(StrEnum):
    BAR = "bar"
    HORIZONTAL_BAR = "horizontal_bar"
    LINE = "line"


class Scale(StrEnum):
    #: Plain numbers (counts: whole numbers on the axis).
    COUNT = "count"
    #: Fractions 0..1, shown as percentages.
    PERCENT = "percent"
    #: Any number (e.g. a coefficient), two decimals.
    NUMBER = "number"


@dataclass(frozen=True)
class Series:
    """One series of values, one per category (None where there is no value)."""

    name: str
    values: Sequence[float | None]
    #: Its colour; by default the palette's colour for its position.
    colour: str | None = None
    #: Line charts: draw it against the right-hand axis (``Chart.right_label``, ``Chart.right_scale``).
    right_axis: bool = False


@dataclass(frozen=True)
class Chart:
    kind: Kind
    title: str
    categories: Sequence[str]
    series: Sequence[Series]
    x_label: str = ""
    y_label: str = ""
    scale: Scale = Scale.COUNT
    #: Bar charts: stack the series rather than set them side by side.
    stacked: bool = False
    right_label: str = ""
    right_scale: Scale = Scale.COUNT
    #: A sentence added to the description (e.g. what a missing value means).
    note: str = ""
    #: The value axis from..to (widened to hold every value); by default fitted to the values.
    value_range: tuple[float, float] | None = None
    #: Prefix of the SVG ids of each series' marks (``<gid>-<n>`` for series n).
    gid: str = "series"
    size: tuple[float, float] = field(default=(7.0, 3.6))

    def __post_init__(self) -> None:
        for s in self.series:
            if len(s.values) != len(self.categories):
                raise ValueError(f"series {s.name!r} has {len(s.values)} values for {len(self.categories)} categories")

    @property
    def empty(self) -> bool:
        return not self.categories or not any(_finite(v) for s in self.series for v in s.values)

    def colour(self, n: int) -> str:
        return self.series[n].colour or PALETTE[n % len(PALETTE)]

    def series_gid(self, n: int) -> str:
        return f"{self.gid}-{n}"


def bar_chart(title: str, categories: Sequence[str], series: Sequence[Series], **options: Any) -> Chart:
    return Chart(Kind.BAR, title, list(categories), list(series), **options)


def horizontal_bar_chart(title: str, categories: Sequence[str], series: Sequence[Series], **options: Any) -> Chart:
    """Horizontal bars, one row per category (first on top); by default as tall as its rows need."""
    if "size" not in options:
        rows = len(categories) * (1 if options.get("stacked") else max(1, len(series)))
        options["size"] = (7.0, min(MAX_HEIGHT, max(3.6, 1.2 + 0.25 * rows)))
    return Chart(Kind.HORIZONTAL_BAR, title, list(categories), list(series), **options)


def line_chart(title: str, categories: Sequence[str], series: Sequence[Series], **options: Any) -> Chart:
    return Chart(Kind.LINE, title, list(categories), list(series), **options)


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _formatted(value: float | None, scale: Scale) -> str:
    if not _finite(value):
        return "no value"
    assert value is not None
    if scale is Scale.PERCENT:
        return f"{value * 100:.0f}%"
    if scale is Scale.NUMBER:
        return f"{value:.2f}"
    return f"{value:g}"


def describe(chart: Chart) -> str:
    """The chart in words: its kind, title and every value (the SVG's <desc>, a PNG's alt text)."""
    kind = {Kind.BAR: "Bar chart", Kind.HORIZONTAL_BAR: "Horizontal bar chart", Kind.LINE: "Line chart"}[chart.kind]
    if chart.empty:
        return f"{kind}: {chart.title}. {NO_DATA}."
    parts = [f"{kind}: {chart.title}."]
    shown = 0
    for s in chart.series:
        scale = chart.right_scale if s.right_axis else chart.scale
        values = []
        for category, value in zip(chart.categories, s.values, strict=True):
            if shown >= _MAX_DESC_VALUES:
                values.append("...")
                break
            values.append(f"{category} {_formatted(value, scale)}")
            shown += 1
        parts.append(f"{s.name}: {', '.join(values)}.")
    if chart.note:
        parts.append(chart.note)
    return " ".join(parts)


def _wrap(label: str, width: int) -> str:
    return "\n".join(textwrap.wrap(label, width)) or label


def _format_axis(axis: Any, scale: Scale) -> None:
    if scale is Scale.PERCENT:
        axis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    elif scale is Scale.COUNT:
        axis.set_major_locator(MaxNLocator(integer=True))


def _values(series: Series) -> list[float]:
    return [float(v) if _finite(v) else math.nan for v in series.values]  # type: ignore[arg-type]


def _widened(chart: Chart) -> tuple[float, float]:
    assert chart.value_range is not None
    low, high = chart.value_range
    values = [v for s in chart.series if not s.right_axis for v in _values(s) if not math.isnan(v)]
    low, high = min([low, *values]), max([high, *values])
    pad = (high - low) * 0.05
    return low - pad, high + pad


def _draw_bars(chart: Chart, ax: Any) -> None:
    n = len(chart.series)
    positions = list(range(len(chart.categories)))
    horizontal = chart.kind is Kind.HORIZONTAL_BAR
    width = 0.8 if chart.stacked or n == 1 else 0.8 / n
    base = [0.0] * len(positions)
    for i, s in enumerate(chart.series):
        values = [0.0 if math.isnan(v) else v for v in _values(s)]
        offset = 0.0 if chart.stacked or n == 1 else (i - (n - 1) / 2) * width
        where = [p + offset for p in positions]
        if horizontal:
            bars = ax.barh(where, values, height=width, left=base if chart.stacked else None, color=chart.colour(i), label=s.name)
        else:
            bars = ax.bar(where, values, width=width, bottom=base if chart.stacked else None, color=chart.colour(i), label=s.name)
        for k, patch in enumerate(bars.patches):
            patch.set_gid(f"{chart.series_gid(i)}-{k}")
        if not chart.stacked:
            labels = [_formatted(v, chart.scale) if _finite(v) else "n/a" for v in s.values]
            ax.bar_label(bars, labels=labels, padding=2, fontsize=8)
        if chart.stacked:
            base = [b + v for b, v in zip(base, values, strict=True)]
    _format_axis(ax.xaxis if horizontal else ax.yaxis, chart.scale)
    longest = max((len(c) for c in chart.categories), default=0)
    if horizontal:
        ax.set_yticks(positions, [_wrap(c, 40) for c in chart.categories])
        ax.invert_yaxis()  # the first category on top, as it is read
        ax.margins(x=0.12)
    else:
        rotate = longest > 14 or len(chart.categories) > 8
        ax.set_xticks(positions, [_wrap(c, 18) if not rotate else c for c in chart.categories],
                      rotation=30 if rotate else 0, ha="right" if rotate else "center")
        ax.margins(y=0.12)
    if chart.value_range is not None:
        (ax.set_xlim if horizontal else ax.set_ylim)(*_widened(chart))


def _draw_lines(chart: Chart, ax: Any) -> None:
    positions = list(range(len(chart.categories)))
    right = ax.twinx() if any(s.right_axis for s in chart.series) else None
    handles = []
    for i, s in enumerate(chart.series):
        target = right if s.right_axis and right is not None else ax
        (line,) = target.plot(positions, _values(s), color=chart.colour(i), marker="o", linewidth=2, label=s.name)
        line.set_gid(chart.series_gid(i))
        handles.append(line)
    _format_axis(ax.yaxis, chart.scale)
    if right is not None:
        _format_axis(right.yaxis, chart.right_scale)
        right.set_ylabel(chart.right_label)
        right.set_ylim(bottom=0)
        right.spines["right"].set_visible(True)
    rotate = len(chart.categories) > 8 or max((len(c) for c in chart.categories), default=0) > 10
    ax.set_xticks(positions, list(chart.categories), rotation=30 if rotate else 0, ha="right" if rotate else "center")
    if chart.value_range is not None:
        ax.set_ylim(*_widened(chart))
    elif chart.scale is not Scale.NUMBER:
        ax.set_ylim(bottom=0)
    # Every category has its place on the axis, those without a value included.
    ax.set_xlim(-0.5 if len(positions) == 1 else -0.25, len(positions) - (0.5 if len(positions) == 1 else 0.75))
    if len(chart.series) > 1:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.08 if right is not None else 1.0, 1.0), frameon=False)


def figure(chart: Chart) -> Figure:
    """The chart drawn on a new Figure (no pyplot)."""
    fig = Figure(figsize=chart.size, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_title(chart.title, fontsize=11, fontweight="bold", loc="left")
    if chart.empty:
        ax.set_axis_off()
        ax.text(0.5, 0.5, NO_DATA, ha="center", va="center", fontsize=14, transform=ax.transAxes, gid="no-data")
        return fig
    if chart.kind is Kind.LINE:
        _draw_lines(chart, ax)
    else:
        _draw_bars(chart, ax)
        if len(chart.series) > 1 and chart.kind is Kind.HORIZONTAL_BAR:  # long labels take the width: the legend goes below
            fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncol=len(chart.series), frameon=False)
        elif len(chart.series) > 1:
            ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    ax.set_xlabel(chart.x_label)
    ax.set_ylabel(chart.y_label)
    ax.grid(axis="x" if chart.kind is Kind.HORIZONTAL_BAR else "y", color="#DDDDDD", linewidth=0.6)
    ax.set_axisbelow(True)
    return fig


def _accessible(svg: str, chart: Chart) -> str:
    head, sep, rest = svg.partition("<svg ")
    tag_end = rest.index(">")
    attributes, body = rest[:tag_end], rest[tag_end + 1:]
    label = ' role="img" aria-labelledby="chart-title chart-desc"'
    return (
        f'{head}{sep}{attributes}{label}>\n <title id="chart-title">{escape(chart.title)}</title>\n'
        f' <desc id="chart-desc">{escape(describe(chart))}</desc>{body}'
    )


def svg(chart: Chart) -> bytes:
    """The chart as an SVG document (UTF-8), the same bytes for the same chart."""
    with _LOCK, rc_context(_RC):
        fig = figure(chart)
        out = io.StringIO()
        fig.savefig(out, format="svg", metadata={"Date": None, "Description": describe(chart)})
    return _accessible(out.getvalue(), chart).encode("utf-8")


def png(chart: Chart, *, dpi: int = 150) -> bytes:
    """The chart as a PNG (e.g. for a PDF), without a date or software stamp."""
    with _LOCK, rc_context(_RC):
        fig = figure(chart)
        out = io.BytesIO()
        fig.savefig(out, format="png", dpi=dpi, metadata={"Software": None, "Title": chart.title, "Description": describe(chart)})
    return out.getvalue()
