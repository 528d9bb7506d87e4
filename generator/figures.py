"""Figures: matplotlib charts -> PNG bytes, drawn with the object API on the Agg canvas.

This is the only module that imports matplotlib. No pyplot, so no global figure state: every
figure is created, drawn, saved to bytes and closed here. Images carry no date or version
stamp, so the same inputs give the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from generator.formats import tick

if TYPE_CHECKING:  # matplotlib and Pillow load when a chart is drawn, not for cached reports
    import PIL.Image
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
PNG_LEVEL = 6  # zlib compression of a saved chart


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
    point are one marker whose area grows with their number (up to MAX_MARKER_AREA times)."""
    return scatters((chart,), size)[0]


def scatters(charts: Sequence[Scatter], size: tuple[float, float] = SIZE) -> list[Pair]:
    """Scatterplots of the same axes (the same points, other segments), one after another on one
    figure: its axes, ticks and labels are made once, each chart's points, centres and legend drawn
    on them and taken off again, and the layout follows each legend."""
    from matplotlib import rc_context
    from matplotlib.figure import Figure
    colours = THEMES["light"]
    font = type_size(size[0])
    with rc_context(colours.rc() | {"font.size": font}):
        figure = Figure(figsize=size, dpi=DPI, layout="constrained")
        try:
            ax = figure.add_subplot()
            ax.set_xlabel(plain(charts[0].xlabel))
            ax.set_ylabel(plain(charts[0].ylabel))
            _tidy(ax)
            drawn = []
            for chart in charts:
                # A short map keeps its points in view: more than four entries go in two columns.
                columns = 2 if size[1] < SIZE[1] and len(chart.names) > 4 else 1
                marks = _segments(figure, ax, chart, font, columns)
                drawn.append(themed(figure))
                for mark in marks:
                    mark.remove()
            return drawn
        finally:
            figure.clear()


def _segments(figure: Figure, ax: Any, chart: Scatter, font: float, columns: int) -> list[Any]:
    """One chart's points, centres and legend, drawn on `ax`; returns what it added."""
    from matplotlib.lines import Line2D
    colours = THEMES["light"]
    xs, ys, labels, counts = stacked(chart.x, chart.y, chart.labels)
    alpha = 0.85 if len(chart.x) <= 500 else 0.45
    point_size = 40 if len(chart.x) <= 500 else 14
    areas = point_size * np.minimum(np.sqrt(counts), MAX_MARKER_AREA)
    marks, handles = [], []
    for number, name in enumerate(chart.names):
        colour, marker = style(number)
        mask = labels == number
        marks.append(ax.scatter(xs[mask], ys[mask], s=areas[mask], marker=marker, c=colour, alpha=alpha,
                                edgecolors=colours.halo, linewidths=0.4))
        handles.append(Line2D([], [], linestyle="none", marker=marker, markersize=7, color=colour,
                              markeredgecolor=colours.halo, label=plain(f"{number}: {name}")))
    for number, (cx, cy) in enumerate(chart.centers):
        if not (np.isfinite(cx) and np.isfinite(cy)):  # a withheld centre (suppress_below): no marker
            continue
        colour, _ = style(number)
        marks.append(ax.scatter([cx], [cy], s=22 * font ** 2 / 10, c=colours.halo, marker="o", edgecolors=colour,
                                linewidths=2.5, zorder=3))
        marks.append(ax.annotate(str(number), (cx, cy), ha="center", va="center", fontsize=font,
                                 fontweight="bold", color=colours.ink, zorder=4))
    title = "Segment (circled: centre" + ("; larger marker: more customers at one point)"
                                          if len(counts) and counts.max() > 1 else ")")
    marks.append(figure.legend(handles=handles, title=title, fontsize=font, title_fontsize=font, frameon=False,
                               loc="outside lower center", ncols=columns))
    return marks


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
    """Three panels over k, one above the other: inertia with its elbow, mean silhouette, and stability."""
    from matplotlib import rc_context
    from matplotlib.figure import Figure
    colours = THEMES["light"]
    width = 6.4
    font = type_size(width)
    with rc_context(colours.rc() | {"font.size": font}):
        figure = Figure(figsize=(width, 8.4), dpi=DPI, layout="constrained")
        try:
            panels = figure.subplots(3, 1, sharex=True)
            series = (("Inertia (lower = tighter)", chart.inertia), ("Mean silhouette", chart.silhouette),
                      ("Stability (adjusted Rand)", chart.stability))
            for ax, (title, values) in zip(panels, series, strict=True):
                points = [(k, v) for k, v in zip(chart.ks, values, strict=True) if v is not None]
                if points:
                    ks, ys = zip(*points, strict=True)
                    ax.plot(ks, ys, color=colours.palette[0], marker="o", linewidth=1.8)
                    for k, y in points:
                        if k == chart.chosen:
                            ax.scatter([k], [y], s=160, facecolors="none", edgecolors=colours.palette[3],
                                       linewidths=2.2, zorder=3, label=f"chosen k = {k}")
                ax.set_title(title, fontsize=font)
                ax.set_xticks(list(chart.ks))
                _tidy(ax)
            panels[-1].set_xlabel("k (number of segments)")
            if chart.knee is not None:
                panels[0].axvline(chart.knee, color=colours.guide, linestyle=":", linewidth=1.2,
                                  label=f"elbow k = {chart.knee}")
            reference = [(k, r) for k, r in zip(chart.ks, chart.reference, strict=True) if r is not None]
            if reference:
                ks, ys = zip(*reference, strict=True)
                panels[1].plot(ks, ys, color=colours.guide, linestyle=":", marker=".", linewidth=1.2,
                               label="structureless data")
            panels[2].axhline(chart.stable_line, color=colours.guide, linestyle="--", linewidth=1.2,
                              label="stable from here")
            panels[2].set_ylim(min(0.0, *(v for v in chart.stability if v is not None)), 1.05)
            for ax in panels:
                ax.legend(fontsize=font, frameon=False, loc="best")
            return themed(figure)
        finally:
            figure.clear()


@dataclass(frozen=True)
class Distributions:
    """Every feature's percentiles by segment, for box plots."""

    # feature x segment x (5th, 25th, 50th, 75th, 95th); None for a withheld segment (no box)
    quantiles: Sequence[Sequence[Sequence[float] | None]]
    features: Sequence[str]  # display labels
    k: int


def distributions(chart: Distributions) -> Pair:
    """One box plot per feature, a box per segment: the middle half, whiskers at 5% and 95%."""
    from matplotlib import rc_context
    from matplotlib.figure import Figure
    colours = THEMES["light"]
    columns = min(2, len(chart.features))
    rows = -(-len(chart.features) // columns)
    width = 6.4
    font = type_size(width)
    with rc_context(colours.rc() | {"font.size": font}):
        figure = Figure(figsize=(width, 2.9 * rows), dpi=DPI, layout="constrained")
        try:
            axes = np.atleast_1d(figure.subplots(rows, columns)).ravel()
            for ax, cuts, label in zip(axes, chart.quantiles, chart.features, strict=False):
                shown = [number for number, cut in enumerate(cuts) if cut is not None]
                stats = [{"whislo": low, "q1": q1, "med": med, "q3": q3, "whishi": high}
                         for low, q1, med, q3, high in (cut for cut in cuts if cut is not None)]
                if stats:  # every segment withheld: an empty panel with its axis
                    boxes = ax.bxp(stats, positions=[number + 1 for number in shown], showfliers=False,
                                   patch_artist=True, widths=0.6,
                                   medianprops={"color": colours.ink, "linewidth": 1.4},
                                   whiskerprops={"color": colours.ink}, capprops={"color": colours.ink},
                                   boxprops={"edgecolor": colours.ink})
                    for number, box in zip(shown, boxes["boxes"], strict=True):
                        box.set_facecolor(style(number)[0])
                        box.set_alpha(0.85)
                ax.set_xticks(range(1, chart.k + 1), [str(s) for s in range(chart.k)])
                ax.set_xlabel("segment", fontsize=font)
                ax.set_title(plain(label), fontsize=font)
                ax.tick_params(labelsize=font)
                _tidy(ax, named_x=True)
            for ax in axes[len(chart.features):]:
                ax.set_visible(False)
            return themed(figure)
        finally:
            figure.clear()


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
        figure = Figure(figsize=(width, 6.0 + 0.3 * len(chart.names)), dpi=DPI, layout="constrained")
        try:
            ax = figure.add_subplot()
            positions = np.arange(len(chart.features))
            ax.axhline(0, color=colours.guide, linewidth=1, linestyle="--")
            for number, name in enumerate(chart.names):
                colour, marker = style(number)
                ax.plot(positions, chart.z[number], color=colour, marker=marker, linewidth=2, markersize=7,
                        label=plain(f"{number}: {name}"))
            ax.set_xticks(positions, [plain(f) for f in chart.features], rotation=30 if len(positions) <= 4 else 45,
                          ha="right", fontsize=font)
            ax.set_ylabel("centre vs average (standard deviations)")
            _tidy(ax, named_x=True)
            figure.legend(title="Segment", fontsize=font, title_fontsize=font, frameon=False,
                          loc="outside lower center", ncols=1)
            return themed(figure)
        finally:
            figure.clear()


def _tidy(ax: Any, named_x: bool = False) -> None:
    """Grid behind, no top and right frame, number tick labels through formats (thousands separated,
    as in the tables); `named_x` keeps the x tick labels already set (segments, features)."""
    from matplotlib.ticker import FuncFormatter
    axes = (ax.yaxis,) if named_x else (ax.xaxis, ax.yaxis)
    for axis in axes:
        axis.set_major_formatter(FuncFormatter(lambda value, _: tick(value)))
    ax.grid(True, linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def preload() -> None:
    """Import matplotlib and Pillow now (a worker, before its first chart)."""
    import matplotlib.backends.backend_agg
    import matplotlib.figure  # noqa: F401
    import PIL.Image  # noqa: F401


def png(figure: Figure) -> bytes:
    """A figure as a light PNG (see `themed` for both palettes)."""
    return _save(_quantized(figure))


def _quantized(figure: Figure) -> PIL.Image.Image:
    """A figure drawn opaque and reduced to a palette of PNG_COLOURS colours (a chart's few colours
    and their anti-aliased edges need no more), every entry near a theme colour snapped to it.

    The fast octree quantiser: a tenth of the time of median cut, and files no larger (measured on
    the report charts; bench/README.md)."""
    import PIL.Image
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    canvas.draw()  # type: ignore[no-untyped-call]
    pixels = canvas.buffer_rgba()  # type: ignore[no-untyped-call]
    picture = PIL.Image.frombuffer("RGBA", canvas.get_width_height(), pixels).convert("RGB")
    reduced = picture.quantize(colors=PNG_COLOURS, method=PIL.Image.Quantize.FASTOCTREE, dither=PIL.Image.Dither.NONE)
    reduced.putpalette(_snapped(reduced.getpalette() or []))
    return reduced


def _save(picture: PIL.Image.Image) -> bytes:
    """PNG bytes at zlib's default level, without metadata that varies by build."""
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
    dark = light.copy()
    dark.putpalette(darkened(light.getpalette() or []))
    return _save(light), _save(dark)


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
            figure.clear()


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
