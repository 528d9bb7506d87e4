"""Figures: matplotlib charts -> PNG bytes, drawn with the object API on the Agg canvas.

This is the only module that imports matplotlib. No pyplot, so no global figure state: every
figure is created, drawn, saved to bytes and closed here. Images carry no date or version
stamp, so the same inputs give the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

# Okabe & Ito's colour-blind-safe palette, darkest first; marker shapes are a second channel.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
SIZE = (7.5, 5.0)
DPI = 110


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
    """The colour and marker of a segment, the same in every chart."""
    return PALETTE[number % len(PALETTE)], MARKERS[(number // len(PALETTE) + number) % len(MARKERS)]


def scatter(chart: Scatter) -> bytes:
    """A scatterplot coloured by segment, each centre marked with its number."""
    figure = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
    try:
        ax = figure.add_subplot()
        alpha = 0.85 if len(chart.x) <= 500 else 0.4
        point_size = 46 if len(chart.x) <= 500 else 12
        for number, name in enumerate(chart.names):
            colour, marker = style(number)
            mask = chart.labels == number
            ax.scatter(chart.x[mask], chart.y[mask], s=point_size, c=colour, marker=marker, alpha=alpha,
                       edgecolors="white", linewidths=0.4, label=plain(f"{number}: {name}"))
        for number, (cx, cy) in enumerate(chart.centers):
            colour, _ = style(number)
            ax.scatter([cx], [cy], s=320, c="white", marker="o", edgecolors=colour, linewidths=2.5, zorder=3)
            ax.annotate(str(number), (cx, cy), ha="center", va="center", fontsize=10,
                        fontweight="bold", color="#222222", zorder=4)
        ax.set_xlabel(plain(chart.xlabel))
        ax.set_ylabel(plain(chart.ylabel))
        ax.grid(True, color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.legend(title="Segment (circled: centre)", fontsize=8, title_fontsize=8, frameon=False,
                  loc="upper left", bbox_to_anchor=(1.0, 1.0))
        return png(figure)
    finally:
        figure.clear()


def png(figure: Figure) -> bytes:
    """Save a figure as PNG bytes without the metadata that would vary between builds."""
    buffer = io.BytesIO()
    FigureCanvasAgg(figure)
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def snapshot(value: object) -> bytes:
    """PNG bytes of a figure that other code (the tutorial's snippets) drew; then clear it."""
    if not isinstance(value, Figure):
        raise TypeError(f"expected a matplotlib Figure, got {type(value).__name__}")
    try:
        return png(value)
    finally:
        value.clear()


def plain(text: str) -> str:
    """Text that matplotlib shows literally: `$` would otherwise start mathtext."""
    return text.replace("$", r"\$")
