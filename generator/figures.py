"""Figures: matplotlib charts -> PNG bytes, drawn with the object API on the Agg canvas.

This is the only module that imports matplotlib. No pyplot, so no global figure state: every
figure is created, drawn, saved to bytes and closed here. Images carry no date or version
stamp, so the same inputs give the same bytes.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from generator.formats import tick

if TYPE_CHECKING:  # matplotlib and Pillow load when a chart is drawn, not for cached reports
    import PIL.Image
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

# Okabe & Ito's colour-blind-safe palette, darkest first; marker shapes are a second channel.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
SIZE = (6.4, 5.8)  # the main segment map, legend below
DPI = 110
# Charts are drawn for the text column (at most about 700 px) and shrink with it. On a phone the
# column is about PHONE_COLUMN px wide; text stays at least SMALLEST_TEXT px high there when a chart
# W inches wide sets its type at W * 72 * SMALLEST_TEXT / PHONE_COLUMN points or more.
PHONE_COLUMN = 358
SMALLEST_TEXT = 9.0
MAX_MARKER_AREA = 25.0  # the largest marker of stacked customers, in multiples of a single customer's
PNG_COLOURS = 128  # colours of a saved chart (PNG palette); anti-aliased edges stay smooth
LIBRARIES = ("matplotlib.backends.backend_agg", "matplotlib.figure", "PIL.Image")  # for a worker to import
# before its first chart (see `scheduler`)
PNG_LEVEL = 4  # zlib compression of a saved chart: 6 took 40% longer for files 8% smaller (bench/README.md)


@dataclass(frozen=True)
class Theme:
    """The colours of a chart for one of the site's palettes (Material's light and dark schemes)."""

    background: str
    ink: str  # text, axes, median lines
    grid: str
    guide: str  # reference lines
    halo: str  # edges around points, fill of centre markers
    palette: tuple[str, ...]

    def rc(self) -> dict[Any, Any]:
        return {"figure.facecolor": self.background, "axes.facecolor": self.background,
                "savefig.facecolor": self.background, "text.color": self.ink, "axes.labelcolor": self.ink,
                "axes.edgecolor": self.ink, "xtick.color": self.ink, "ytick.color": self.ink,
                "legend.labelcolor": self.ink, "grid.color": self.grid}


# The dark palette swaps black, invisible on a dark page, for a light grey.
THEMES = {
    "light": Theme("#ffffff", "#222222", "#dddddd", "#777777", "#ffffff", PALETTE),
    "dark": Theme("#1e2129", "#e2e4e9", "#3a3f4b", "#9aa0ac", "#1e2129",
                  tuple("#dddddd" if colour == "#000000" else colour for colour in PALETTE)),
}


@dataclass(frozen=True)
class Scatter:
    """What a segment scatterplot shows; names and labels are plain text, never markup."""

    x: np.ndarray
    y: np.ndarray
    labels: np.ndarray  # segment number of every point
    centers: np.ndarray  # segments x 2, in the same units as x and y
    names: Sequence[str]  # legend entry of every segment
    xlabel: str
    ylabel: str


def style(number: int) -> tuple[str, str]:
    """The colour and marker of a segment, the same in every chart (drawn light; `themed` swaps the
    colours for the dark palette)."""
    palette = THEMES["light"].palette
    return palette[number % len(palette)], MARKERS[(number // len(palette) + number) % len(MARKERS)]


def type_size(width: float) -> float:
    """The point size of a chart's smallest text, for a chart `width` inches wide (see PHONE_COLUMN)."""
    return float(np.ceil(2 * width * 72 * SMALLEST_TEXT / PHONE_COLUMN) / 2)


def stacked(x: np.ndarray, y: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The distinct (segment, x, y) points and how many customers sit at each: customers at one
    point are drawn once, with a marker that grows with their number."""
    if len(x) == 0:
        return x, y, labels, np.zeros(0, dtype=int)
    points, counts = np.unique(np.column_stack([labels, x, y]), axis=0, return_counts=True)
    return points[:, 1], points[:, 2], points[:, 0].astype(int), counts


def scatter(chart: Scatter, size: tuple[float, float] = SIZE) -> Pair:
    """A scatterplot coloured by segment, each centre marked with its number. Customers sharing a
    point are one marker whose area grows with their number (up to MAX_MARKER_AREA times).

    Drawn on a panel laid out once, as `panels` is: the limits (the data and a 5% margin) and the
    ticks (as many as matplotlib's automatic ones for the plot's size) are known before drawing,
    so the margins come from the widest tick label, measured once."""
    from matplotlib import rc_context
    from matplotlib.figure import Figure
    from matplotlib.transforms import Bbox
    colours = THEMES["light"]
    width, height = size
    font = type_size(width)
    xs = np.concatenate([chart.x, chart.centers[:, 0]])
    ys = np.concatenate([chart.y, chart.centers[:, 1]])
    with rc_context(colours.rc() | {"font.size": font}):
        measure = _Measure(font)
        line = measure.height
        figure = Figure(figsize=size, dpi=DPI)
        try:
            labels = [plain(f"{number}: {name}") for number, name in enumerate(chart.names)]
            # Below the plot: the key, the x label, the tick labels.
            under = _key_height(len(labels), font, measure) + 0.15 + line + 0.05 + line + 0.1
            above, right = 0.15, 0.25
            plot_height = height - under - above
            y_limits, y_values = _limits(ys, _tick_space(plot_height, 2 * font))
            widest = measure.widest([tick(v) for v in y_values])
            left = 0.08 + line + 0.05 + widest + 0.1
            plot_width = width - left - right
            x_limits, x_values = _limits(xs, _tick_space(plot_width, 3 * font))
            ax = _Panel(figure, Bbox.from_bounds(left / width, under / height, plot_width / width,
                                                 plot_height / height), x_limits, y_limits)
            stacks = _marks(ax, chart, font, point_size=(40 if len(chart.x) <= 500 else 14))
            _key(figure, _Key(labels, _legend_title(stacks, [chart])), font)
            _axis(ax, "x", x_values, font)
            _axis(ax, "y", y_values, font)
            ax.text(0.5, -(line + 0.1 + 0.05) / plot_height, plain(chart.xlabel), transform=ax.transAxes,
                    ha="center", va="top", fontsize=font)
            ax.text(-(widest + 0.1 + 0.05) / plot_width, 0.5,
                    plain(chart.ylabel), transform=ax.transAxes, ha="center", va="bottom", rotation=90,
                    rotation_mode="anchor", fontsize=font)
            return themed(figure)
        finally:
            _close(figure)


def _tick_space(length: float, spacing: float) -> int:
    """How many tick intervals matplotlib's automatic ticks allow on an axis `length` inches long,
    one per `spacing` points (three times the font size across, twice along a vertical axis), 1 to 9."""
    return max(1, min(9, int(length * 72 // spacing)))


def _title(ax: Any, text: str, font: float, left: bool = False) -> None:
    """A title above an axes (centred, or at its left edge), placed by offset (`Axes.set_title` would
    measure every tick label to find its place)."""
    ax.text(0.0 if left else 0.5, 1.0, plain(text), transform=_offset(ax, ax.transAxes, 0, 5),
            ha="left" if left else "center", va="bottom", fontsize=font)


KEY_HANDLE = 20.0  # points: the length of a line in a key
KEY_PAD = 4.0  # points between a key's handle and its label
KEY_GAP = 12.0  # points between two entries of a key


def _key_above(ax: Any, entries: Sequence[tuple[str, dict[str, Any]]], font: float, measure: _Measure) -> None:
    """A key on the right of the line above an axes (where a left-aligned `_title` leaves room): each
    entry a short line or marker drawn with the given Line2D options, then its label; entries right
    to left from the axes' right edge. Placed from the labels' measured widths, where matplotlib's
    Legend searching the "best" place took a quarter of the chart's time; it never covers the data."""
    from matplotlib.lines import Line2D
    from matplotlib.transforms import Affine2D, ScaledTranslation
    corner = Affine2D().scale(ax.figure.dpi / 72) + ScaledTranslation(1, 1, ax.transAxes)  # points from the corner
    right = 0.0
    for label, options in reversed(entries):
        ax.text(right, 5, plain(label), transform=corner, ha="right", va="bottom", fontsize=font)
        right -= measure.size(plain(label))[0] * 72 + KEY_PAD
        middle = 5 + measure.height * 72 * 0.35
        line = options.get("linestyle") != "none"
        xs = [right - KEY_HANDLE, right - KEY_HANDLE / 2, right] if line else [right - KEY_HANDLE / 2]
        handle: dict[str, Any] = {"markevery": [1]} if line and "marker" in options else {}
        ax.add_artist(Line2D(xs, [middle] * len(xs), transform=corner, clip_on=False, **handle, **options))
        right -= KEY_HANDLE + KEY_GAP


def _offset(ax: Any, transform: Any, right: float, up: float) -> Any:
    """`transform`, then `right` and `up` points further (text beside a point, without an annotation's
    cost: an annotation checks its point against the axes at every drawing)."""
    from matplotlib.transforms import ScaledTranslation
    return transform + ScaledTranslation(right / 72, up / 72, ax.figure.dpi_scale_trans)


def _place(figure: Figure, ax: Any, font: float, below: float = 0.0) -> None:
    """One axes placed without a layout engine: room on the left for the widest y tick label and the
    y label, below for the x tick labels (`_axis` drew them), the x label and `below` inches (a
    key). The y ticks are matplotlib's automatic ones for the axes' final height, drawn by `_axis`;
    tick labels are measured once, with the renderer that draws them."""
    renderer = _canvas(figure).get_renderer()  # type: ignore[no-untyped-call]
    width, height = figure.get_size_inches()
    line = font / 72 * 1.25
    ticks_x = max((t.get_window_extent(renderer).height for t in _texts(ax, "x")), default=0.0) / figure.dpi
    x_label = _texts(ax, "xlabel")
    under = below + 0.08 + (line + 0.05 if x_label else 0.0) + ticks_x + 0.1
    plot = height - under - 0.15
    # A provisional width first: the automatic y ticks depend on the height alone.
    ax.set_position([0.2, under / height, 0.7, plot / height])
    _axis(ax, "y", _automatic(ax.yaxis), font)
    widest = max((t.get_window_extent(renderer).width for t in _texts(ax, "y")), default=0.0) / figure.dpi
    y_labels = _texts(ax, "ylabel")
    left = 0.08 + (line + 0.05 if y_labels else 0.0) + widest + 0.1
    right = 0.25
    ax.set_position([left / width, under / height, (width - left - right) / width, plot / height])
    for text in y_labels:
        text.set_position((-(widest + 0.1 + 0.05) / (width - left - right), 0.5))
    for text in x_label:
        text.set_position((0.5, -(ticks_x + 0.1 + 0.05) / plot))


def _texts(ax: Any, tag: str) -> list[Any]:
    """The texts of `ax` that `_axis` or `_tidy` tagged: tick labels ("x", "y") or axis labels."""
    return [text for text in ax.texts if text.get_gid() == tag]


def _automatic(axis: Any) -> list[float]:
    """The ticks matplotlib would draw on `axis` at its axes' present size (its default locator),
    within the view."""
    low, high = sorted(axis.get_view_interval())
    slack = 1e-10 * (high - low)
    return [float(v) for v in axis.get_major_locator()() if low - slack <= v <= high + slack]


TICK_LENGTH = 3.5  # points, as matplotlib's default major ticks
TICK_PAD = 3.5


def _axis(ax: Any, side: str, values: Sequence[float], font: float, labels: Sequence[str] | None = (),
          marked: bool = True, rotation: float = 0.0) -> None:
    """One side's grid lines, tick marks and tick labels, drawn without matplotlib's Tick objects (five
    artists each, built, clipped and drawn; `_tidy` hides the axes' own): the grid one collection
    across the axes, the marks one line of tick markers on the bottom (x) or left (y) edge, each
    label a plain text tagged `side` for `_place` to measure. Labels are the values through
    formats, unless given; None: no labels, and no marks unless `marked`."""
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D
    from matplotlib.markers import TICKDOWN, TICKLEFT
    colours = THEMES["light"]
    across = side == "x"
    transform = ax.get_xaxis_transform() if across else ax.get_yaxis_transform()
    ends = [((v, 0.0), (v, 1.0)) if across else ((0.0, v), (1.0, v)) for v in values]
    ax.add_collection(LineCollection(ends, colors=colours.grid, linewidths=0.6, zorder=0.5, transform=transform),
                      autolim=False)
    if labels is None and not marked:
        return
    edge = [0.0] * len(values)
    marker: Any = TICKDOWN if across else TICKLEFT
    # An artist of its own, not a plotted line: a legend placed "best" does not avoid tick marks.
    ax.add_artist(Line2D(*((values, edge) if across else (edge, values)), transform=transform, linestyle="none",
                         marker=marker, markersize=TICK_LENGTH, markeredgewidth=0.8,
                         color=colours.ink, clip_on=False))
    if labels is None:
        return
    shown = [tick(v) for v in values] if not labels else [plain(label) for label in labels]
    away = TICK_LENGTH + TICK_PAD
    placed = _offset(ax, transform, 0.0, -away) if across else _offset(ax, transform, -away, 0.0)
    for value, label in zip(values, shown, strict=True):
        ax.text(*((value, 0.0) if across else (0.0, value)), label, transform=placed, fontsize=font,
                ha=("right" if rotation else "center") if across else "right",
                va="top" if across else "center_baseline", rotation=rotation, gid=side)


def _canvas(figure: Figure) -> FigureCanvasAgg:
    """The figure's Agg canvas (made once, so its renderer and the text sizes it measured are reused)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    canvas = figure.canvas
    return canvas if isinstance(canvas, FigureCanvasAgg) else FigureCanvasAgg(figure)


PANEL_HEIGHT = 2.3  # inches of one map of `panels`, in a figure SIZE[0] wide, two maps to a row
TICKS = 4  # at most this many tick intervals on a small axis: its tick labels are known before layout


def panels(charts: Sequence[Scatter], titles: Sequence[str]) -> Pair:
    """Small multiples: one small segment map per chart (the same points and axes, other segments),
    two to a row, titled; the axes' labels once, and one legend of the segments' colours and markers.

    One figure, laid out once without a layout engine: the ticks are fixed before drawing, so the
    margins come from the widest tick label, measured once (`_Measure`)."""
    from matplotlib import rc_context
    from matplotlib.figure import Figure
    colours = THEMES["light"]
    columns = min(2, len(charts))
    rows = -(-len(charts) // columns)
    width = SIZE[0]
    font = type_size(width)
    most = max(len(chart.names) for chart in charts)
    legend_columns = most if most <= 10 else -(-most // 2)  # one row, or two filled column by column
    legend_rows = -(-most // legend_columns)
    with rc_context(colours.rc() | {"font.size": font}):
        measure = _Measure(font)
        x_limits, x_values = _limits(np.concatenate([c.x for c in charts] + [c.centers[:, 0] for c in charts]))
        y_limits, y_values = _limits(np.concatenate([c.y for c in charts] + [c.centers[:, 1] for c in charts]))
        x_ticks, y_ticks = [tick(v) for v in x_values], [tick(v) for v in y_values]
        line = measure.height
        left = 0.08 + line + 0.08 + measure.widest(y_ticks) + 0.1
        right = 0.1 + measure.widest(x_ticks[-1:]) / 2
        legend = (1 + legend_rows) * line * 1.6 + 0.15
        bottom = legend + line + 0.1 + line + 0.1
        top = 0.1 + line + 0.08
        between = line + 0.2
        height = top + rows * PANEL_HEIGHT + (rows - 1) * between + bottom
        figure = Figure(figsize=(width, height), dpi=DPI)
        try:
            panel_width = (width - left - right - 0.2 * (columns - 1)) / columns
            grid = figure.add_gridspec(rows, columns, left=left / width, right=1 - right / width,
                                       bottom=bottom / height, top=1 - top / height, wspace=0.2 / panel_width,
                                       hspace=between / PANEL_HEIGHT)
            stacks = False
            for n, (chart, title) in enumerate(zip(charts, titles, strict=True)):
                ax = _Panel(figure, grid[n // columns, n % columns].get_position(figure), x_limits, y_limits)
                stacks |= _marks(ax, chart, font, point_size=(16 if len(chart.x) <= 500 else 6))
                ax.text(0.5, 1.0 + 0.08 / PANEL_HEIGHT, plain(title), transform=ax.transAxes, ha="center",
                        va="bottom", fontsize=font)
                # Tick labels on the outer maps only (the lowest in each column, the first column).
                _axis(ax, "x", x_values, font, () if n + columns >= len(charts) else None, marked=False)
                _axis(ax, "y", y_values, font, () if n % columns == 0 else None, marked=False)
            figure.supxlabel(plain(charts[0].xlabel), fontsize=font, y=(legend + 0.05) / height, va="bottom")
            figure.supylabel(plain(charts[0].ylabel), fontsize=font, x=0.08 / width, ha="left")
            _key(figure, _Key([str(n) for n in range(most)], _legend_title(stacks, charts), bottom=0.02,
                              columns=legend_columns, compact=True), font)
            return themed(figure)
        finally:
            _close(figure)


class _Panel:
    """A rectangle of a figure that a small multiple draws on as on an axes, without one: its data
    limits mapped onto the rectangle, its artists the figure's own, a left and a bottom frame line.
    An Axes (two axis objects with their prototype ticks, four spines, a patch, a clear() when made)
    cost a fifth of a small-multiples chart; a panel holds only what the chart draws on it (the
    grid, ticks and labels from `_axis`, the marks), and every mark lies within its limits, so
    nothing needs clipping."""

    def __init__(self, figure: Figure, box: Any, x_limits: tuple[float, float], y_limits: tuple[float, float]) -> None:
        from matplotlib.lines import Line2D
        from matplotlib.transforms import Bbox, BboxTransform, BboxTransformTo, TransformedBbox
        self.figure = figure
        self.transAxes = BboxTransformTo(TransformedBbox(box, figure.transSubfigure))
        limits = Bbox([[x_limits[0], y_limits[0]], [x_limits[1], y_limits[1]]])
        self.transData = BboxTransform(limits, Bbox.unit()) + self.transAxes
        figure.add_artist(Line2D([0, 0, 1], [1, 0, 0], transform=self.transAxes, linewidth=0.8,
                                 color=THEMES["light"].ink, solid_capstyle="projecting", zorder=2.5))

    def get_xaxis_transform(self) -> Any:
        from matplotlib.transforms import blended_transform_factory
        return blended_transform_factory(self.transData, self.transAxes)

    def get_yaxis_transform(self) -> Any:
        from matplotlib.transforms import blended_transform_factory
        return blended_transform_factory(self.transAxes, self.transData)

    def add_collection(self, collection: Any, autolim: bool = True) -> None:
        if not collection.is_transform_set():
            collection.set_transform(self.transData)
        self.figure.add_artist(collection)

    def add_artist(self, artist: Any) -> None:
        if not artist.is_transform_set():
            artist.set_transform(self.transData)
        self.figure.add_artist(artist)

    add_line = add_artist

    def text(self, x: float, y: float, text: str, transform: Any = None, **options: Any) -> None:
        self.figure.text(x, y, text, transform=self.transData if transform is None else transform, **options)


def _locator(intervals: int = TICKS) -> Any:
    """The tick locator of a small axis: at most TICKS intervals, whatever the axis's length, so its
    tick labels are known before the layout; with other `intervals`, at most that many, at matplotlib's
    automatic ticks' steps (1, 2, 2.5 or 5 times a power of ten)."""
    from matplotlib.ticker import MaxNLocator
    return MaxNLocator(intervals) if intervals == TICKS else MaxNLocator(intervals, steps=[1, 2, 2.5, 5, 10])


DIAGNOSTIC_TICKS = 5  # at most this many tick intervals on a panel of the k chart


def _limits(values: np.ndarray, intervals: int = TICKS) -> tuple[tuple[float, float], list[float]]:
    """An axis's limits (the data and a 5% margin, as matplotlib's autoscale) and its ticks, at most
    `intervals` of them."""
    finite = values[np.isfinite(values)]  # a withheld segment's percentiles are not numbers
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if high == low:
        low, high = low - 0.5, high + 0.5
    margin = 0.05 * (high - low)
    low, high = low - margin, high + margin
    return (low, high), [float(v) for v in _locator(intervals).tick_values(low, high) if low <= v <= high]


class _Measure:
    """Text sizes in inches at one font size, measured with the Agg renderer (which draws it)."""

    def __init__(self, size: float) -> None:
        from matplotlib.backends.backend_agg import RendererAgg
        from matplotlib.font_manager import FontProperties
        self.renderer = RendererAgg(1, 1, DPI)  # type: ignore[no-untyped-call]
        self.font = FontProperties(size=size)
        self.height = self.size("0,9Ag")[1]

    def size(self, text: str) -> tuple[float, float]:
        width, height, _ = self.renderer.get_text_width_height_descent(  # type: ignore[no-untyped-call]
            text, self.font, ismath=False)
        return width / DPI, height / DPI

    def widest(self, texts: Sequence[str]) -> float:
        return max((self.size(text)[0] for text in texts), default=0.0)


def _marks(ax: Any, chart: Scatter, font: float, point_size: float) -> bool:
    """A chart's points, coloured and shaped by segment, and its circled, numbered centres, drawn on
    `ax`; whether some markers stand for several customers at one point. The points are drawn segment
    after segment; the centres are one collection, above them."""
    from matplotlib.collections import PathCollection
    from matplotlib.lines import Line2D
    from matplotlib.markers import MarkerStyle
    from matplotlib.transforms import IdentityTransform
    colours = THEMES["light"]
    xs, ys, labels, counts = stacked(chart.x, chart.y, chart.labels)  # ordered by segment
    alpha = 0.85 if len(chart.x) <= 500 else 0.45
    areas = point_size * np.minimum(np.sqrt(counts), MAX_MARKER_AREA)
    shapes = [MarkerStyle(marker) for marker in (*(style(number)[1] for number in range(len(chart.names))), "o")]
    paths = [shape.get_path().transformed(shape.get_transform()) for shape in shapes]
    # Segment after segment: its single customers as one line of markers (a marker is rasterised once
    # and stamped, a sixth of the time of a collection's paths), then its stacked ones, larger, as a
    # collection (the one `Axes.scatter` would make, made directly). Same zorder: drawn in this order.
    for number in np.unique(labels):
        colour, marker = style(int(number))
        single = (labels == number) & (counts == 1)
        ax.add_line(Line2D(xs[single], ys[single], linestyle="none", marker=marker, markersize=np.sqrt(point_size),
                           markerfacecolor=colour, markeredgecolor=colours.halo, markeredgewidth=0.4, alpha=alpha,
                           zorder=1))
        stacked_here = (labels == number) & (counts > 1)
        if stacked_here.any():
            points = PathCollection([paths[number]], areas[stacked_here],
                                    offsets=np.column_stack([xs[stacked_here], ys[stacked_here]]),
                                    offset_transform=ax.transData, facecolors=colour, edgecolors=colours.halo,
                                    linewidths=0.4, alpha=alpha, zorder=1)
            points.set_transform(IdentityTransform())
            ax.add_collection(points)
    # A withheld centre (suppress_below) is not a number: its customers are drawn, but no marker.
    numbers = [number for number, centre in enumerate(chart.centers) if np.isfinite(centre).all()]
    centres = PathCollection(paths[-1:], [22 * font ** 2 / 10], offsets=chart.centers[numbers].reshape(-1, 2),
                             offset_transform=ax.transData, facecolors=colours.halo,
                             edgecolors=[style(number)[0] for number in numbers], linewidths=2.5, zorder=3)
    centres.set_transform(IdentityTransform())
    ax.add_collection(centres)
    _numbers(ax, chart.centers[numbers].reshape(-1, 2), [str(n) for n in numbers], ax.transData, font, bold=True,
             top=False)
    return bool(len(counts) and counts.max() > 1)


def _numbers(ax: Any, at: np.ndarray, texts: Sequence[str], transform: Any, font: float, bold: bool,
             top: bool) -> None:
    """Short texts (segment numbers) centred on points of `transform` (or hanging from them: `top`), as
    one collection of their glyphs' outlines in the ink: the outlines are made once per process
    (`_outline`), and a report draws some eighty such numbers, each a Text laid out twice otherwise."""
    from matplotlib.collections import PathCollection
    from matplotlib.transforms import Affine2D
    if not len(texts):
        return
    numbers = PathCollection([_outline(text, font, bold, top) for text in texts], offsets=at,
                             offset_transform=transform, facecolors=THEMES["light"].ink, edgecolors="none",
                             linewidths=0.0, zorder=4)
    numbers.set_transform(Affine2D().scale(DPI / 72))
    ax.add_collection(numbers)


@functools.lru_cache(maxsize=512)
def _outline(text: str, font: float, bold: bool, top: bool) -> Any:
    """The outline of `text` at `font` points, in points, its ink centred on (0, 0), or hanging from it."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath
    path = TextPath((0, 0), text, prop=FontProperties(size=font, weight="bold" if bold else "normal"))
    (x0, y0), (x1, y1) = path.get_extents().get_points()
    return path.transformed(_shift(-(x0 + x1) / 2, -y1 if top else -(y0 + y1) / 2))


def _shift(right: float, up: float) -> Any:
    from matplotlib.transforms import Affine2D
    return Affine2D().translate(right, up)


def _key_height(rows: int, font: float, measure: _Measure) -> float:
    """The height in inches of a `_key` of `rows` rows."""
    em = font / 72
    return 0.4 * em + rows * (measure.height + 0.5 * em) + 0.5 * em + measure.height


@dataclass(frozen=True)
class _Key:
    """A key of segments (see `_key`): a label per segment, in segment order, under a title; placed
    `bottom` inches up from the figure's bottom, in `columns` columns filled column by column;
    `compact` (short handles, close columns: the small multiples' key); each handle the segment's
    marker alone, or on a short line of its colour (`lines`: the profiles' lines)."""

    labels: Sequence[str]
    title: str
    bottom: float = 0.0
    columns: int = 1
    compact: bool = False
    lines: bool = False


def _key(figure: Figure, key: _Key, font: float) -> float:
    """Draw `key` at the bottom of `figure`: its title centred, then every segment's handle in its
    colour and shape beside its label; returns where its top is, in inches from the figure's bottom.
    Drawn without matplotlib's Legend (boxes packed and every text laid out three times, a sixth of
    a map's time): the texts are placed from their widths, measured once."""
    from matplotlib.lines import Line2D
    colours = THEMES["light"]
    measure = _Measure(font)
    width, height = figure.get_size_inches()
    em = font / 72
    handle, pad, spacing = (1.0 * em, 0.2 * em, 1.0 * em) if key.compact else (2.0 * em, 0.8 * em, 2.0 * em)
    rows = -(-len(key.labels) // key.columns)
    pitch = measure.height + 0.5 * em
    parts = [key.labels[c * rows:(c + 1) * rows] for c in range(key.columns)]
    widths = [handle + pad + measure.widest(part) for part in parts]
    left = (width - sum(widths) - spacing * (len(parts) - 1)) / 2
    top = key.bottom + _key_height(rows, font, measure)
    figure.text(0.5, (top - 0.05 * em) / height, key.title, ha="center", va="top", fontsize=font)
    first = top - measure.height - 0.5 * em - pitch / 2  # the middle of the first row
    for c, part in enumerate(parts):
        for r, label in enumerate(part):
            number, y = c * rows + r, (first - r * pitch) / height
            colour, marker = style(number)
            x = [left / width, (left + handle / 2) / width, (left + handle) / width]
            figure.add_artist(Line2D(x if key.lines else x[1:2], [y] * (3 if key.lines else 1),
                                     transform=figure.transFigure, linestyle="-" if key.lines else "none",
                                     linewidth=2, marker=marker,
                                     markevery=[1] if key.lines else None, markersize=7, color=colour,
                                     markeredgecolor=colour if key.lines else colours.halo))
            figure.text((left + handle + pad) / width, y, label, ha="left", va="center_baseline", fontsize=font)
        left += widths[c] + spacing
    return top


def _legend_title(stacks: bool, charts: Sequence[Scatter]) -> str:
    """The legend's title: what a circle and a larger marker mean, where the charts have them (no
    circle where every centre is withheld)."""
    notes = ["circled: centre"] if any(np.isfinite(chart.centers).all(axis=1).any() for chart in charts) else []
    notes += ["larger marker: more customers at one point"] if stacks else []
    return "Segment" + (f" ({'; '.join(notes)})" if notes else "")


@dataclass(frozen=True)
class Diagnostics:
    """The measures of every evaluated k, for the "Choosing k" charts."""

    ks: Sequence[int]
    inertia: Sequence[float]
    silhouette: Sequence[float | None]
    stability: Sequence[float | None]
    chosen: int
    knee: int | None
    stable_line: float  # the stability a solution needs to count as stable
    reference: Sequence[float | None]  # the silhouette of structureless data at each k


def diagnostics(chart: Diagnostics) -> Pair:
    """Three panels over k, one above the other: inertia with its elbow, mean silhouette, and stability;
    each titled on the left, its key on the right of the title's line.

    Laid out once without a layout engine, as `panels` is: each panel's limits and ticks are known
    before drawing (`_limits`), so the margins come from the widest tick label, measured once."""
    from matplotlib import rc_context
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.transforms import Bbox
    colours = THEMES["light"]
    width, height = 6.4, 8.4
    font = type_size(width)
    series = (("Inertia (lower = tighter)", chart.inertia), ("Mean silhouette", chart.silhouette),
              ("Stability (adjusted Rand)", chart.stability))
    known = [[float(v) for v in values if v is not None] for _, values in series]
    known[1] += [float(r) for r in chart.reference if r is not None]
    stability = (min([0.0, *known[2]]), 1.05)
    scales = [_limits(np.array(known[0]), DIAGNOSTIC_TICKS), _limits(np.array(known[1]), DIAGNOSTIC_TICKS),
              (stability, _limits(np.array(stability), DIAGNOSTIC_TICKS)[1])]
    scales[2] = (stability, [v for v in scales[2][1] if stability[0] <= v <= stability[1]])
    x_limits, _ = _limits(np.array(chart.ks, dtype=float))
    with rc_context(colours.rc() | {"font.size": font}):
        measure = _Measure(font)
        line = measure.height
        widest = max(measure.widest([tick(v) for v in values]) for _, values in scales)
        left, right = 0.08 + widest + 0.1, 0.25
        under = 0.08 + line + 0.05 + line + 0.1  # the x label, the tick labels
        above, gap = 0.15 + line + 0.1, line + 0.15
        plot = (height - under - above - 2 * gap) / 3
        figure = Figure(figsize=(width, height), dpi=DPI)
        try:
            panels = []
            for n, (y_limits, _) in enumerate(scales):
                bottom = under + (2 - n) * (plot + gap)
                box = Bbox.from_bounds(left / width, bottom / height, (width - left - right) / width, plot / height)
                panels.append(_Panel(figure, box, x_limits, y_limits))
            keys: list[list[tuple[str, dict[str, Any]]]] = [[], [], []]
            chosen: dict[str, Any] = {"marker": "o", "markerfacecolor": "none",
                                      "markeredgecolor": colours.palette[3], "markeredgewidth": 2.2}
            for ax, key, (title, values), (_, y_values) in zip(panels, keys, series, scales, strict=True):
                points = [(k, v) for k, v in zip(chart.ks, values, strict=True) if v is not None]
                if points:
                    ks, ys = zip(*points, strict=True)
                    ax.add_line(Line2D(ks, ys, color=colours.palette[0], marker="o", linewidth=1.8))
                    for k, y in points:
                        if k == chart.chosen:
                            ax.add_line(Line2D([k], [y], linestyle="none", markersize=np.sqrt(160), zorder=3,
                                               **chosen))
                            key.append((f"chosen k = {k}", {"linestyle": "none", "markersize": 9, **chosen}))
                _title(ax, title, font, left=True)
                _axis(ax, "x", list(chart.ks), font, [str(k) for k in chart.ks] if ax is panels[-1] else None)
                _axis(ax, "y", y_values, font)
            panels[-1].text(0.5, -(line + 0.1 + 0.05) / plot, "k (number of segments)", transform=panels[-1].transAxes,
                            ha="center", va="top", fontsize=font)
            guide: dict[str, Any] = {"color": colours.guide, "linewidth": 1.2}
            if chart.knee is not None:
                panels[0].add_artist(Line2D([chart.knee] * 2, [0, 1], transform=panels[0].get_xaxis_transform(),
                                            linestyle=":", **guide))
                keys[0].append((f"elbow k = {chart.knee}", {"linestyle": ":", **guide}))
            reference = [(k, r) for k, r in zip(chart.ks, chart.reference, strict=True) if r is not None]
            if reference:
                ks, ys = zip(*reference, strict=True)
                panels[1].add_line(Line2D(ks, ys, linestyle=":", marker=".", **guide))
                keys[1].append(("structureless data", {"linestyle": ":", "marker": ".", **guide}))
            panels[2].add_artist(Line2D([0, 1], [chart.stable_line] * 2, transform=panels[2].get_yaxis_transform(),
                                        linestyle="--", **guide))
            keys[2].append(("stable from here", {"linestyle": "--", **guide}))
            for ax, key in zip(panels, keys, strict=True):
                _key_above(ax, key, font, measure)
            return themed(figure)
        finally:
            _close(figure)


@dataclass(frozen=True)
class Distributions:
    """Every feature's percentiles by segment, for box plots."""

    # feature x segment x (5th, 25th, 50th, 75th, 95th); None for a withheld segment (no box)
    quantiles: Sequence[Sequence[Sequence[float] | None]]
    features: Sequence[str]  # display labels
    k: int


BOX_HEIGHT = 1.9  # inches of one feature's box plot


def distributions(chart: Distributions) -> Pair:
    """One box plot per feature, a box per segment: the middle half, whiskers at 5% and 95%.

    The boxes come from the percentiles already computed: each plot's boxes are one collection, its
    whiskers, caps and medians two more. Laid out once without a layout engine: the ticks are fixed
    before drawing, so the margins come from the widest tick label, measured once (`_Measure`)."""
    from matplotlib import rc_context
    from matplotlib.figure import Figure
    colours = THEMES["light"]
    columns = min(2, len(chart.features))
    rows = -(-len(chart.features) // columns)
    width = 6.4
    font = type_size(width)
    with rc_context(colours.rc() | {"font.size": font}):
        measure = _Measure(font)
        cut_rows = [_cut_rows(cuts) for cuts in chart.quantiles]
        scales = [_limits(cuts) for cuts in cut_rows]
        line = measure.height
        tick_room = measure.widest([tick(v) for _, values in scales for v in values]) + 0.1
        left, right, gap = 0.08 + tick_room, 0.1, 0.25 + tick_room
        title = line + 0.1
        under = 7 / 72 + line + 0.05 + line + 0.1  # tick labels, then "segment"
        height = rows * (title + BOX_HEIGHT + under) + 0.05
        figure = Figure(figsize=(width, height), dpi=DPI)
        try:
            panel_width = (width - left - right - gap * (columns - 1)) / columns
            grid = figure.add_gridspec(rows, columns, left=left / width, right=1 - right / width, bottom=under / height,
                                       top=1 - (title + 0.05) / height, wspace=gap / panel_width,
                                       hspace=(title + under) / BOX_HEIGHT)
            for n, (cuts, label, (limits, values)) in enumerate(zip(cut_rows, chart.features, scales, strict=True)):
                ax = _Panel(figure, grid[n // columns, n % columns].get_position(figure), (0.5, chart.k + 0.5), limits)
                _boxes(ax, cuts, colours)
                _axis(ax, "x", range(1, chart.k + 1), font, None, marked=False)
                _axis(ax, "y", values, font, marked=False)
                _numbers(ax, np.column_stack([np.arange(1, chart.k + 1), np.zeros(chart.k)]),  # under the boxes
                         [str(n) for n in range(chart.k)], _offset(ax, ax.get_xaxis_transform(), 0, -5), font,
                         bold=False, top=True)
                ax.text(0.5, 1.0 + 0.08 / BOX_HEIGHT, plain(label), transform=ax.transAxes, ha="center",
                        va="bottom", fontsize=font)
                ax.text(0.5, 0.0, "segment", transform=_offset(ax, ax.transAxes, 0, -(7 + line * 72 + 3)),
                        ha="center", va="top", fontsize=font)
            return themed(figure)
        finally:
            _close(figure)


def _cut_rows(cuts: Sequence[Sequence[float] | None]) -> np.ndarray:
    """A feature's percentiles as segments x 5 floats, a withheld segment's row not a number."""
    return np.array([cut if cut is not None else [np.nan] * 5 for cut in cuts], dtype=float).reshape(-1, 5)


def _boxes(ax: Any, cuts: np.ndarray, colours: Theme) -> None:
    """Boxes from (5th, 25th, 50th, 75th, 95th) percentiles, one row per segment, at 1, 2, ...: the
    boxes one collection in the segments' colours, whiskers and caps one, the medians one. A
    withheld segment (its row not a number) gets no box."""
    from matplotlib.collections import LineCollection, PolyCollection
    shown = np.flatnonzero(np.isfinite(cuts).all(axis=1))
    at = (shown + 1).astype(float)
    half, cap = 0.3, 0.15
    low, q1, med, q3, high = cuts[shown].T
    boxes = [((x - half, a), (x + half, a), (x + half, b), (x - half, b)) for x, a, b in zip(at, q1, q3, strict=True)]
    ax.add_collection(PolyCollection(boxes, facecolors=[style(int(n))[0] for n in shown], alpha=0.85,
                                     edgecolors=colours.ink, linewidths=1.0), autolim=False)
    whiskers = [((x, a), (x, b)) for x, a, b in zip(at, q1, low, strict=True)]
    whiskers += [((x, a), (x, b)) for x, a, b in zip(at, q3, high, strict=True)]
    whiskers += [((x - cap, y), (x + cap, y)) for x, y in (*zip(at, low, strict=True), *zip(at, high, strict=True))]
    ax.add_collection(LineCollection(whiskers, colors=colours.ink, linewidths=1.0), autolim=False)
    medians = [((x - half, y), (x + half, y)) for x, y in zip(at, med, strict=True)]
    ax.add_collection(LineCollection(medians, colors=colours.ink, linewidths=1.4, zorder=2.5), autolim=False)


@dataclass(frozen=True)
class Profiles:
    """Standardised segment centres (z-scores) for the profile ("snake") chart."""

    z: np.ndarray  # segments x features
    features: Sequence[str]  # display labels
    names: Sequence[str]


def profiles(chart: Profiles) -> Pair:
    """One line per segment across the features: how far its centre sits from the average."""
    from matplotlib import rc_context
    from matplotlib.figure import Figure
    colours = THEMES["light"]
    width = 6.4
    font = type_size(width)
    with rc_context(colours.rc() | {"font.size": font}):
        figure = Figure(figsize=(width, 6.0 + 0.3 * len(chart.names)), dpi=DPI)
        try:
            ax = figure.add_subplot()
            positions = np.arange(len(chart.features))
            ax.axhline(0, color=colours.guide, linewidth=1, linestyle="--")
            for number in range(len(chart.names)):
                colour, marker = style(number)
                ax.plot(positions, chart.z[number], color=colour, marker=marker, linewidth=2, markersize=7)
            _tidy(ax, font, ylabel="centre vs average (standard deviations)")
            _axis(ax, "x", list(positions), font, chart.features, rotation=30 if len(positions) <= 4 else 45)
            labels = [plain(f"{number}: {name}") for number, name in enumerate(chart.names)]
            _place(figure, ax, font, below=_key(figure, _Key(labels, "Segment", lines=True), font))
            return themed(figure)
        finally:
            _close(figure)


def _tidy(ax: Any, font: float, xlabel: str | None = None, ylabel: str | None = None) -> None:
    """No top and right frame; the axes' own ticks hidden (`_axis` draws them); the axis labels as
    plain texts tagged for `_place`, which puts them beside the tick labels."""
    ax.xaxis.set_visible(False)
    ax.yaxis.set_visible(False)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if xlabel:
        ax.text(0.5, 0.0, plain(xlabel), transform=ax.transAxes, ha="center", va="top", fontsize=font, gid="xlabel")
    if ylabel:
        ax.text(0.0, 0.5, plain(ylabel), transform=ax.transAxes, ha="center", va="bottom", rotation=90,
                rotation_mode="anchor", fontsize=font, gid="ylabel")


def _close(figure: Figure) -> None:
    """Let go of a drawn figure's pixels (its Agg canvas) at once; the figure itself is garbage when
    its function returns, as no pyplot keeps it. (`Figure.clear` would first rebuild every axes.)"""
    from matplotlib.backend_bases import FigureCanvasBase
    FigureCanvasBase(figure)


def png(figure: Figure) -> bytes:
    """A figure as a light PNG (see `themed` for both palettes)."""
    return _save(_quantized(figure))


def _quantized(figure: Figure) -> PIL.Image.Image:
    """A figure drawn opaque and reduced to a palette of PNG_COLOURS colours (a chart's few colours
    and their anti-aliased edges need no more), every entry near a theme colour snapped to it.

    The fast octree quantiser: a tenth of the time of median cut, and files no larger (measured on
    the report charts; bench/README.md)."""
    import PIL.Image

    canvas = _canvas(figure)
    canvas.draw()  # type: ignore[no-untyped-call]
    pixels = canvas.buffer_rgba()  # type: ignore[no-untyped-call]
    picture = PIL.Image.frombuffer("RGBA", canvas.get_width_height(), pixels).convert("RGB")
    reduced = picture.quantize(colors=PNG_COLOURS, method=PIL.Image.Quantize.FASTOCTREE, dither=PIL.Image.Dither.NONE)
    reduced.putpalette(_snapped(reduced.getpalette() or []))
    return reduced


def _save(picture: PIL.Image.Image) -> bytes:
    """PNG bytes at PNG_LEVEL, without metadata that varies by build."""
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", compress_level=PNG_LEVEL)
    return buffer.getvalue()


def _snapped(palette: list[int]) -> list[int]:
    """The octree quantiser averages the colours of a bucket, so a flat colour (a background, the ink)
    can come out a shade off; every palette entry within SNAP of a theme colour becomes that colour."""
    entries = np.array(palette, dtype=int).reshape(-1, 3)
    distance = np.abs(entries[:, None, :] - _EXACT[None, :, :]).max(axis=2)
    nearest = distance.argmin(axis=1)
    close = distance[np.arange(len(entries)), nearest] <= SNAP
    entries[close] = _EXACT[nearest[close]]
    return [int(v) for v in entries.ravel()]


Pair = tuple[bytes, bytes]  # a chart's PNG for the light palette, then for the dark one


def themed(figure: Figure) -> Pair:
    """A figure drawn once, in the light theme, as PNGs for both palettes: the light picture, and the
    same pixels with every palette entry swapped for its dark counterpart (`darkened`). The two show
    the same data in the same places, and the figure is laid out and drawn once."""
    light = _quantized(figure)
    saved = _save(light)
    return saved, _repainted(saved, darkened(light.getpalette() or []))


def _repainted(saved: bytes, palette: list[int]) -> bytes:
    """A palette PNG with its PLTE chunk's colours replaced by `palette` (as many entries): the pixels
    are palette indices, so the compressed image data is the same for both palettes and is encoded
    once; the bytes are those that saving the same picture with `palette` would give."""
    import zlib
    start = 8  # after the signature: chunks of length, type, data, CRC
    while saved[start + 4:start + 8] != b"PLTE":
        if start >= len(saved):
            raise ValueError("not a palette PNG")
        start += 12 + int.from_bytes(saved[start:start + 4], "big")
    length = int.from_bytes(saved[start:start + 4], "big")
    colours = bytes(palette)
    if len(colours) != length:
        raise ValueError(f"a palette of {len(colours)} bytes for a PLTE chunk of {length}")
    chunk = b"PLTE" + colours
    return (saved[:start] + length.to_bytes(4, "big") + chunk + zlib.crc32(chunk).to_bytes(4, "big")
            + saved[start + 12 + length:])


def _rgb(colour: str) -> list[int]:
    return [int(colour[i:i + 2], 16) for i in (1, 3, 5)]


def darkened(palette: list[int]) -> list[int]:
    """The dark counterpart of every entry of a light chart's palette.

    Every pixel of a light chart is a theme colour C laid over the light background at some opacity a
    (a = 1 inside a mark, 0 < a < 1 on its anti-aliased edge or for a translucent mark): the entry
    nearest to `background + a (C - background)` over every C and a in [0, 1] is taken for it, and its
    dark counterpart is `dark background + a (C' - dark background)`, C' being C's dark colour
    (`SWAP`), which is what drawing the figure on the dark background would give. Greys lie on the
    line of every grey theme colour; the ink comes first, and the dark theme's greys sit where the
    ink's opacities put them (the grid is the ink at about 15%), so the choice hardly shows."""
    entries = np.array(palette, dtype=float).reshape(-1, 3)
    light_ground = np.array(_rgb(THEMES["light"].background), float)
    dark_ground = np.array(_rgb(THEMES["dark"].background), float)
    inks = [(np.array(_rgb(old), float), np.array(_rgb(new), float)) for old, new in SWAP.items()
            if old != THEMES["light"].background.lower()]
    lights = np.array([old for old, _ in inks]) - light_ground  # colours x 3, from the background
    darks = np.array([new for _, new in inks]) - dark_ground
    offset = entries - light_ground  # entries x 3
    opacity = np.clip(offset @ lights.T / (lights ** 2).sum(axis=1), 0.0, 1.0)  # entries x colours
    residual = ((offset[:, None, :] - opacity[:, :, None] * lights[None, :, :]) ** 2).sum(axis=2)
    best = residual.argmin(axis=1)
    rows = np.arange(len(entries))
    result = dark_ground + opacity[rows, best][:, None] * darks[best]
    for old, new in SWAP.items():  # a theme colour itself (snapped) takes its own counterpart, greys included
        result[(entries == _rgb(old)).all(axis=1)] = _rgb(new)
    return [int(v) for v in np.clip(np.rint(result), 0, 255).astype(int).ravel()]


def _swap(light: Theme, dark: Theme) -> dict[str, str]:
    pairs = [(light.background, dark.background), (light.ink, dark.ink), (light.grid, dark.grid),
             (light.guide, dark.guide), (light.halo, dark.halo), *zip(light.palette, dark.palette, strict=True)]
    swap: dict[str, str] = {}
    for old, new in pairs:
        if swap.setdefault(old.lower(), new.lower()) != new.lower():
            raise ValueError(f"the light colour {old} has two dark counterparts")
    return swap


SWAP = _swap(THEMES["light"], THEMES["dark"])  # light colour -> its dark counterpart, lower-case hex
_EXACT = np.array([_rgb(c) for c in sorted({*SWAP, *SWAP.values()})])
SNAP = 4  # the largest difference per channel, out of 255, snapped to a theme colour


def snapshot(value: object) -> bytes:
    """PNG bytes of a figure that other code (the tutorial's snippets) drew; then clear it."""
    from matplotlib.figure import Figure
    if not isinstance(value, Figure):
        raise TypeError(f"expected a matplotlib Figure, got {type(value).__name__}")
    try:
        return png(value)
    finally:
        value.clear()


def plain(text: str) -> str:
    """Text that matplotlib shows literally: `$` would otherwise start mathtext."""
    return text.replace("$", r"\$")


@dataclass(frozen=True)
class Flows:
    """Customers by segment at each date, and the flows between consecutive dates."""

    dates: Sequence[str]  # the dates, as shown
    sizes: np.ndarray  # dates x segments: customers in each segment at each date
    counts: Sequence[np.ndarray]  # per consecutive pair: (segments + 1) x segments, the last row "not yet customers"
    names: Sequence[str]  # legend entry of every segment


def flows(chart: Flows) -> Pair:
    """Stacked bars of the segments at each date, joined by bands as wide as the customers who moved."""
    from matplotlib import rc_context
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch
    colours = THEMES["light"]
    k = chart.sizes.shape[1]
    total = float(chart.sizes[-1].sum())
    gap = 0.02 * total
    width = 0.16
    size = SIZE[0], 4.0 + 0.3 * k  # the width of the other charts, so its type reads the same on a phone
    font = type_size(size[0])
    with rc_context(colours.rc() | {"font.size": font}):
        figure = Figure(figsize=size, dpi=DPI, layout="constrained")
        try:
            ax = figure.add_subplot()
            tops = []  # per date, the top of every segment's bar (segment 0 highest)
            for x, sizes in enumerate(chart.sizes):
                top = np.empty(k)
                level = total + gap * (k - 1)
                for number in range(k):
                    top[number] = level
                    colour, _ = style(number)
                    ax.bar(x, sizes[number], bottom=level - sizes[number], width=width, color=colour,
                           edgecolor=colours.halo, linewidth=0.6)
                    level -= sizes[number] + gap
                tops.append(top)
            curve = np.linspace(0, 1, 40)
            ease = 3 * curve ** 2 - 2 * curve ** 3
            for x, counts in enumerate(chart.counts):
                out = tops[x].copy()
                inward = tops[x + 1].copy()
                for row in range(k + 1):
                    for column in range(k):
                        n = float(counts[row, column])
                        if n <= 0:
                            continue
                        if row < k:
                            start, out[row] = out[row], out[row] - n
                        else:  # not yet customers: they come in from below the bars
                            start = 0.0
                        end, inward[column] = inward[column], inward[column] - n
                        xs = x + width / 2 + curve * (1 - width)
                        upper = start + (end - start) * ease
                        colour = style(column)[0] if row == k else style(row)[0]
                        ax.fill_between(xs, upper - n, upper, color=colour, alpha=0.35 if row < k else 0.18,
                                        linewidth=0)
            # Dates on two lines (year, then month-day), so four or more dates fit the width at phone size.
            ax.set_xticks(range(len(chart.dates)), [plain(d).replace("-", "\n", 1) for d in chart.dates])
            ax.set_xlim(-0.5, len(chart.dates) - 0.5)
            for side in ("top", "right", "left"):
                ax.spines[side].set_visible(False)
            ax.set_yticks([])
            handles = [Patch(color=style(n)[0], label=plain(f"{n}: {name}"))
                       for n, name in enumerate(chart.names)]
            figure.legend(handles=handles, title="Segment", fontsize=font, title_fontsize=font, frameon=False,
                          loc="outside lower center", ncols=1)
            return themed(figure)
        finally:
            _close(figure)


def pixels(content: bytes) -> tuple[int, int] | None:
    """The width and height of a raster image (PNG, JPEG, ...), or None for anything else (an SVG
    sizes itself). The site gives every image of its own both, so pages do not shift while they load."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(content)) as image:
            width, height = image.size
    except UnidentifiedImageError:
        return None
    return (width, height) if width > 0 and height > 0 else None
