"""Illustrations: every chart of a report, drawn, with alt text and a caption written from the data.

Alt text says what a chart shows in numbers (sizes, centres, medians, the best k), so a
reader who cannot see the image loses nothing. All text here is plain; pages escape it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from generator.config import DatasetConfig
from generator.figures import (
    Diagnostics,
    Distributions,
    Flows,
    Pair,
    Profiles,
    Scatter,
    diagnostics,
    distributions,
    flows,
    panels,
    profiles,
    scatter,
)
from generator.formats import (
    WITHHELD,
    column,
    count,
    formatter,
    number,
    percent,
    plural,
    signed,
    silhouette,
    stability,
)
from generator.maps import MAP_SAMPLE
from generator.migration import Migration, largest_moves
from generator.profiles import Profile
from generator.recommendation import STABLE_ARI
from generator.segmentation import Segmentation


@dataclass(frozen=True)
class Image:
    """A chart of a page: its file name beside the page, alt text, caption, and its bytes drawn
    for the site's light and dark palettes (the dark one is `<name>-dark.png`)."""

    src: str
    alt: str
    caption: str
    content: bytes
    dark: bytes
    data: tuple[tuple[str, ...], ...] = ()  # the numbers drawn: a header row, then rows (plain text)

    @property
    def dark_src(self) -> str:
        return self.src.removesuffix(".png") + "-dark.png"

    def files(self) -> tuple[tuple[str, bytes], ...]:
        return (self.src, self.content), (self.dark_src, self.dark)


class _Drawings:
    """The charts of a report, collected first and then drawn all at once (in a pool, if given).

    `both` and `several` return placeholders for the light and dark drawings; `draw` turns every
    placeholder into its PNG bytes. A chart's bytes do not depend on where it is drawn; its two
    palettes come from one drawing (`figures.themed`).
    """

    def __init__(self) -> None:
        self.jobs: list[tuple[Callable[..., Sequence[Pair]], tuple[object, ...], dict[str, Any]]] = []

    def both(self, draw: Callable[..., Pair], chart: object, **options: Any) -> Pair:
        return self.several(_single, (chart,), one=draw, **options)[0]

    def several(self, draw: Callable[..., Sequence[Pair]], charts: Sequence[object], **options: Any) -> list[Pair]:
        """Placeholders for charts that `draw` draws together (on one figure, say), in order."""
        job = len(self.jobs)
        self.jobs.append((draw, tuple(charts), options))
        return [(f"\0chart {job}.{n} light".encode(), f"\0chart {job}.{n} dark".encode()) for n in range(len(charts))]

    def draw(self, pool: Executor | None) -> Callable[[], dict[bytes, bytes]]:
        """Queue every chart in `pool` now (if given); the drawings by placeholder when the result is
        called (drawn then, without a pool)."""
        drawn = (pool.map(_draw, self.jobs) if pool is not None else map(_draw, self.jobs))

        def found() -> dict[bytes, bytes]:
            return {f"\0chart {job}.{n} {theme}".encode(): png
                    for job, pairs in enumerate(drawn) for n, pair in enumerate(pairs)
                    for theme, png in zip(("light", "dark"), pair, strict=True)}
        return found


def _single(charts: tuple[object], one: Callable[..., Pair], **options: Any) -> list[Pair]:
    return [one(charts[0], **options)]


def _draw(job: tuple[Callable[..., Sequence[Pair]], tuple[object, ...], dict[str, Any]]) -> Sequence[Pair]:
    draw, charts, options = job
    return draw(charts, **options)


@dataclass(frozen=True)
class Illustrations:
    """The charts of one report, by the section that shows them."""

    maps: tuple[Image, ...]  # the segment map, and a PCA map for more than two features
    diagnostics: Image  # inertia, silhouette and stability over k
    candidates: Image  # a small segment map for every evaluated k, side by side
    distributions: Image  # box plots of every feature by segment
    profiles: Image  # standardised centres across the features
    flows: Image | None = None  # customers moving between segments across snapshot dates

    def images(self) -> tuple[Image, ...]:
        return (*self.maps, self.diagnostics, self.candidates,
                self.distributions, self.profiles, *((self.flows,) if self.flows is not None else ()))


def illustrate(config: DatasetConfig, result: Segmentation, named: tuple[Profile, ...],
               pool: Executor | None = None, migration: Migration | None = None) -> Callable[[], Illustrations]:
    """Plan every chart of a report and describe each; with a `pool`, its processes start drawing
    them at once, and the caller may work meanwhile. The charts come when the result is called."""
    charts = _Drawings()
    planned = Illustrations(
        maps=_maps(config, result, named, charts),
        diagnostics=_diagnostics(result, charts),
        candidates=_candidate_maps(config, result, charts),
        distributions=_distributions(config, result, charts),
        profiles=_profiles(config, result, named, charts),
        flows=_flows(migration, named, charts, config.suppress_below) if migration is not None else None,
    )
    drawing = charts.draw(pool)

    def drawn() -> Illustrations:
        found = drawing()

        def filled(image: Image) -> Image:
            return replace(image, content=found[image.content], dark=found[image.dark])

        return Illustrations(
            maps=tuple(filled(image) for image in planned.maps),
            diagnostics=filled(planned.diagnostics),
            candidates=filled(planned.candidates),
            distributions=filled(planned.distributions),
            profiles=filled(planned.profiles),
            flows=filled(planned.flows) if planned.flows is not None else None,
        )
    return drawn


CHART_KINDS = ("candidate maps", "box plots", "k charts", "two maps", "profiles")


def draw_kind(kind: str, config: DatasetConfig, result: Segmentation, named: tuple[Profile, ...]) -> int:
    """Plan and draw one kind of `CHART_KINDS` alone, as `illustrate` does (bench/charts.py times each);
    the number of charts drawn (each in both palettes)."""
    charts = _Drawings()
    plans: dict[str, Callable[[], object]] = {
        "candidate maps": lambda: _candidate_maps(config, result, charts),
        "box plots": lambda: _distributions(config, result, charts),
        "k charts": lambda: _diagnostics(result, charts),
        "two maps": lambda: _maps(config, result, named, charts),
        "profiles": lambda: _profiles(config, result, named, charts),
    }
    plans[kind]()
    return len(charts.draw(None)()) // 2


Format = Callable[[float], str]


def plot_axes(config: DatasetConfig, result: Segmentation) -> tuple[str, str]:
    """The two features of the main scatterplot: `plot`, else the two with the largest between-segment
    share of variance (eta squared on the scaled features), ties by feature order; the two keep the
    configuration's order (the first is the horizontal axis)."""
    if config.plot is not None:
        return config.plot
    if not result.maps.separation:
        return config.features[0], config.features[1]
    ranked = sorted(config.features, key=lambda f: (-result.maps.separation[f], config.features.index(f)))
    first, second = sorted(ranked[:2], key=config.features.index)  # in the configuration's order
    return first, second


def centre_formats(config: DatasetConfig, result: Segmentation) -> dict[str, Format]:
    """How each feature's centres read: as in the centroid table's column (the segments' centres
    and the overall mean), so a centre reads the same in every table, chart and alt text."""
    withheld = config.withheld(s.size for s in result.segments)
    overall = result.population.overall
    return {f: formatter([s.center[f] for s in result.segments if s.number not in withheld] + [overall[f]])
            for f in config.features}


def map_alt(result: Segmentation, named: Sequence[Profile], axes: tuple[str, str],
            centres: Sequence[tuple[str, str] | None], lead: str) -> str:
    """Alt text for a segment map: what it plots, then every segment's size and centre (as text;
    None for a withheld centre)."""
    parts = [f"{lead} for {plural(sum(s.size for s in result.segments), 'customer')} "
             f"in {result.k} segments."]
    for segment, profile, centre in zip(result.segments, named, centres, strict=True):
        where = f"centre at {axes[0]} {centre[0]}, {axes[1]} {centre[1]}" if centre else f"centre {WITHHELD}"
        parts.append(f"Segment {segment.number}, {profile.name}: {plural(segment.size, 'customer')} "
                     f"({percent(segment.share)}), {where}.")
    return " ".join(parts)


def _sample_note(result: Segmentation) -> str:
    if len(result.maps.drawn) == result.population.rows:
        return ""
    return (f" Drawn: a random {count(len(result.maps.drawn))} of the {count(result.population.rows)} customers, "
            f"each segment in proportion (maps draw every customer up to {count(MAP_SAMPLE)}).")


def _centres_note(withheld: frozenset[int], k: int) -> str:
    """What the circled numbers on a map are, with withheld centres (suppress_below) left unmarked."""
    if not withheld:
        return "circled numbers mark segment centres"
    if len(withheld) < k:
        return "circled numbers mark the centres of the segments whose statistics are published"
    return "no centre is marked: the statistics of every segment are withheld"


def _drawn(config: DatasetConfig, result: Segmentation, feature: str) -> np.ndarray:
    """The values of one feature for the rows the maps draw."""
    values: np.ndarray = result.maps.sample[:, config.features.index(feature)]
    return values


def _maps(config: DatasetConfig, result: Segmentation, named: tuple[Profile, ...],
          charts: _Drawings) -> tuple[Image, ...]:
    x_name, y_name = plot_axes(config, result)
    x_label, y_label = config.label(x_name), config.label(y_name)
    shown = centre_formats(config, result)
    withheld = config.withheld(s.size for s in result.segments)
    centres = [(math.nan, math.nan) if s.number in withheld else (s.center[x_name], s.center[y_name])
               for s in result.segments]
    texts = [None if s in withheld else (shown[x_name](x), shown[y_name](y)) for s, (x, y) in enumerate(centres)]
    names = [p.name for p in named]
    note = _sample_note(result)
    x, y = _drawn(config, result, x_name), _drawn(config, result, y_name)
    chosen = result.maps.summaries[result.k].drawn
    chart = Scatter(x=x, y=y, labels=chosen, centers=np.array(centres), names=names, xlabel=x_label,
                    ylabel=y_label)
    drawn = charts.both(scatter, chart)
    maps = [Image("segments.png",
                  map_alt(result, named, (x_label, y_label), texts,
                          f"Scatterplot of {y_label} (vertical) against {x_label} (horizontal)"),
                  f"Customers by {x_label} and {y_label}, coloured by segment; {_centres_note(withheld, result.k)}."
                  f"{_axes_note(config, result, (x_name, y_name))}{_overlap_note(chart)}{note}",
                  *drawn, data=_centre_rows(result, named, (x_label, y_label), texts))]
    if result.maps.projection is not None:
        pca = result.maps.projection
        axes = (f"PC1 ({percent(pca.explained[0])} of variance)", f"PC2 ({percent(pca.explained[1])} of variance)")
        pca_centres = np.array([[math.nan, math.nan] if s in withheld else c for s, c in enumerate(pca.centers)])
        pca_chart = Scatter(x=pca.points[:, 0], y=pca.points[:, 1], labels=chosen,
                            centers=pca_centres, names=names, xlabel=axes[0], ylabel=axes[1])
        drawn = charts.both(scatter, pca_chart)
        lead = (f"Map of all {len(config.features)} features reduced to two principal components, "
                f"which together explain {percent(sum(pca.explained))} of their variance,")
        pca_texts = [None if s in withheld else (number(c[0]), number(c[1])) for s, c in enumerate(pca.centers)]
        alt = map_alt(result, named, ("PC1", "PC2"), pca_texts, lead)
        maps.append(Image("pca.png", alt,
                          f"All {len(config.features)} features on one map (PCA of the scaled features): "
                          f"PC1 explains {percent(pca.explained[0])} of the variance, PC2 "
                          f"{percent(pca.explained[1])}.{_overlap_note(pca_chart)}{note}",
                          *drawn, data=_centre_rows(result, named, ("PC1", "PC2"), pca_texts)))
    return tuple(maps)


def _axes_note(config: DatasetConfig, result: Segmentation, axes: tuple[str, str]) -> str:
    """Why these two features: `plot`, or the measure that chose them."""
    if config.plot is not None:
        return " The configuration (plot) chose these two features."
    if not result.maps.separation or len(config.features) == 2:
        return ""
    shares = " and ".join(percent(result.maps.separation[f]) for f in axes)
    return (f" These two of the {len(config.features)} features separate the segments most: the segments' "
            f"means explain {shares} of their variance (eta squared, on the scaled features).")


def _overlap_note(chart: Scatter) -> str:
    """A caption's word on stacked customers, when several share one point of a map."""
    _, counts = np.unique(np.column_stack([chart.labels, chart.x, chart.y]), axis=0, return_counts=True)
    if len(counts) == 0 or counts.max() < 2:
        return ""
    return (f" Larger markers stand for customers at the same point (up to {plural(int(counts.max()), 'customer')}"
            " at one point).")


def _diagnostics(result: Segmentation, charts: _Drawings) -> Image:
    cands = result.evidence.candidates
    chart = Diagnostics(
        ks=[c.k for c in cands], inertia=[c.inertia for c in cands],
        silhouette=[c.silhouette for c in cands], stability=[c.stability for c in cands],
        chosen=result.k, knee=result.evidence.knee, stable_line=STABLE_ARI, reference=[c.reference for c in cands])
    drawn = charts.both(diagnostics, chart)
    inertias = inertia_texts(result)
    parts = [f"Three charts over k from {cands[0].k} to {cands[-1].k}."]
    parts.append(f"Inertia falls from {inertias[0]} at k = {cands[0].k} to "
                 f"{inertias[-1]} at k = {cands[-1].k}"
                 + (f", with its elbow at k = {result.evidence.knee}." if result.evidence.knee is not None else "."))
    scored = [c for c in cands if c.silhouette is not None]
    if scored:
        best = max(scored, key=lambda c: (c.silhouette or 0.0, -c.k))
        reference = (f", against {silhouette(result.reference_silhouette)} for structureless data at the chosen k"
                     if result.reference_silhouette is not None else "")
        parts.append(f"The mean silhouette is highest at k = {best.k} ({silhouette(best.silhouette)}){reference}.")
    measured = [c for c in cands if c.stability is not None]
    if measured:
        steady = max(measured, key=lambda c: (c.stability or 0.0, -c.k))
        passing = sum(1 for c in measured if (c.stability or 0.0) >= STABLE_ARI)
        parts.append(f"Stability is highest at k = {steady.k} ({stability(steady.stability)}); {passing} of "
                     f"{len(measured)} k reach the stable line at {stability(STABLE_ARI)}.")
    parts.append(f"The chosen k = {result.k} is circled.")
    return Image("choosing-k.png", " ".join(parts),
                 "Inertia, mean silhouette and stability for every k evaluated; the chosen k is circled.",
                 *drawn, data=(("k", "Inertia", "Silhouette", "Structureless silhouette", "Stability"),
                               *((str(c.k), inertia, silhouette(c.silhouette), silhouette(c.reference),
                                  stability(c.stability)) for c, inertia in zip(cands, inertias, strict=True))))


def inertia_texts(result: Segmentation) -> list[str]:
    """Every candidate's inertia as the choosing-k table and the chart's data table show it."""
    return column([c.inertia for c in result.evidence.candidates])


def _candidate_maps(config: DatasetConfig, result: Segmentation, charts: _Drawings) -> Image:
    """The segment maps of every evaluated k side by side: one figure of small maps (`figures.panels`)."""
    x_name, y_name = plot_axes(config, result)
    shown = centre_formats(config, result)
    x, y = _drawn(config, result, x_name), _drawn(config, result, y_name)
    at = (config.features.index(x_name), config.features.index(y_name))
    x_label, y_label = config.label(x_name), config.label(y_name)
    passed = {p.k for p in result.evidence.choice.passed_over}
    planned, titles = [], []
    for k, summary in result.maps.summaries.items():
        withheld = config.withheld(summary.sizes)
        centres = [(math.nan, math.nan) if s in withheld else
                   (float(summary.centers[s, at[0]]), float(summary.centers[s, at[1]])) for s in range(k)]
        names = [plural(int(n), "customer") for n in summary.sizes]
        planned.append(Scatter(x=x, y=y, labels=summary.drawn, centers=np.array(centres), names=names,
                               xlabel=x_label, ylabel=y_label))
        titles.append(f"k = {k}" + (" (chosen)" if k == result.k else " (passed over)" if k in passed else ""))
    drawn = charts.both(panels, planned, titles=titles)
    ks = list(result.maps.summaries)
    parts = [f"Segment maps for k = {ks[0]} to {ks[-1]}, side by side: {y_label} against {x_label}; "
             f"the chosen k = {result.k}."]
    rows = []
    for (k, summary), chart, title in zip(result.maps.summaries.items(), planned, titles, strict=True):
        texts = [(WITHHELD, WITHHELD) if not np.isfinite(cx) else (shown[x_name](cx), shown[y_name](cy))
                 for cx, cy in chart.centers]
        parts.append(f"Segment map for k = {k}:")
        parts += [f"Segment {s}: {chart.names[s]}, centre {WITHHELD}." if cx == WITHHELD else
                  f"Segment {s}: {chart.names[s]}, centre at {x_label} {cx}, {y_label} {cy}."
                  for s, (cx, cy) in enumerate(texts)]
        rows += [(title, str(s), count(summary.sizes[s]), cx, cy) for s, (cx, cy) in enumerate(texts)]
    return Image("candidates.png", " ".join(parts),
                 f"The solutions for k = {ks[0]} to {ks[-1]}, each on a small map of the same customers: "
                 f"colours and numbers are each solution's own segments.{_sample_note(result)}",
                 *drawn, data=(("Map", "Segment", "Customers", x_label, y_label), *rows))


def _distributions(config: DatasetConfig, result: Segmentation, charts: _Drawings) -> Image:
    labels = [config.label(f) for f in config.features]
    withheld = config.withheld(s.size for s in result.segments)
    shown = [s for s in result.segments if s.number not in withheld]
    chart = Distributions(quantiles=[[s.quantiles[f] if s.number not in withheld else None for s in result.segments]
                                     for f in config.features], features=labels, k=result.k)
    drawn = charts.both(distributions, chart)
    parts = ["Box plots of every feature by segment; each box holds the middle half of a segment's "
             "customers, whiskers reach from the 5th to the 95th percentile."]
    if withheld:
        parts.append(f"No box for segment{'s' if len(withheld) > 1 else ''} "
                     f"{', '.join(str(s) for s in sorted(withheld))}: {WITHHELD}.")
    for feature, label in zip(config.features, labels, strict=True):
        if shown:
            medians = ", ".join(f"{number(s.median[feature])} in segment {s.number}" for s in shown)
            parts.append(f"Median of {label}: {medians}.")
    rows = [(label, str(s.number), *(number(v) for v in s.quantiles[feature]))
            for feature, label in zip(config.features, labels, strict=True) for s in shown]
    header = ("Feature", "Segment", "5th percentile", "25th", "Median", "75th", "95th")
    return Image("distributions.png", " ".join(parts),
                 "Each feature by segment: boxes span the middle half of the customers, the line is the "
                 "median, whiskers reach the 5th and 95th percentiles.", *drawn, data=(header, *rows))


def _profiles(config: DatasetConfig, result: Segmentation, named: tuple[Profile, ...], charts: _Drawings) -> Image:
    labels = [config.label(f) for f in config.features]
    withheld = config.withheld(s.size for s in result.segments)
    z = np.array([[math.nan if p.number in withheld else p.z[f] for f in config.features] for p in named])
    chart = Profiles(z=z, features=labels, names=[f"{p.name} ({WITHHELD})" if p.number in withheld else p.name
                                                  for p in named])
    drawn = charts.both(profiles, chart)
    parts = ["Profile chart: each segment's centre in standard deviations from the average customer "
             "(0 = average)."]
    for profile, row in zip(named, z, strict=True):
        values = (WITHHELD if profile.number in withheld else
                  ", ".join(f"{label} {signed(value)}" for label, value in zip(labels, row, strict=True)))
        parts.append(f"Segment {profile.number}, {profile.name}: {values}.")
    rows = tuple((str(p.number), p.name, *((WITHHELD,) * len(labels) if p.number in withheld else
                                           (signed(v) for v in row))) for p, row in zip(named, z, strict=True))
    return Image("profiles.png", " ".join(parts),
                 "How far each segment's centre sits from the average, in standard deviations of each "
                 "feature: lines far from 0 set a segment apart.", *drawn,
                 data=(("Segment", "Name", *labels), *rows))


def _flows(migration: Migration, named: tuple[Profile, ...], charts: _Drawings, below: int) -> Image:
    """The flow chart; a number of customers moving below `below` (suppress_below) reads "< below"."""
    dates = [d.date.isoformat() for d in migration.dates]
    sizes = np.array([[s.size for s in d.segments] for d in migration.dates])
    chart = Flows(dates=dates, sizes=sizes, counts=[f.counts for f in migration.flows], names=[p.name for p in named])
    drawn = charts.both(flows, chart)

    def row_name(row: int) -> str:
        return "not yet a customer" if row == migration.k else f"segment {row}"

    parts = [f"Flow chart of customers between segments at {len(dates)} dates, from {dates[0]} to {dates[-1]}."]
    for d in migration.dates:
        held = ", ".join(f"segment {s.number} {plural(s.size, 'customer')}" for s in d.segments)
        parts.append(f"On {d.date.isoformat()}: {held}.")
    moves = largest_moves(migration, below=below)
    if moves:
        parts.append("Largest moves: " + "; ".join(
            f"{plural(n, 'customer')} from {row_name(i)} to segment {j} between {f.start.isoformat()} and "
            f"{f.end.isoformat()}" for f, i, j, n in moves) + ".")
    rows = []
    for f in migration.flows:
        shown = f.shown(below)  # "< 10" and "withheld" stand for withheld numbers (suppress_below)
        rows += [(f.start.isoformat(), f.end.isoformat(), "new" if i == migration.k else str(i), str(j),
                  count(cell) if isinstance(cell, int) else cell)
                 for i, row in enumerate(shown) for j, cell in enumerate(row)
                 if f.counts[i, j] > 0 or isinstance(cell, str)]
    return Image("migration.png", " ".join(parts),
                 "Customers in each segment at every date (bars, segment 0 on top) and how many moved "
                 "between segments from one date to the next (bands, as wide as the customers who moved; bands "
                 "from below are new customers).", *drawn,
                 data=(("From", "To", "Segment then", "Segment after", "Customers"), *rows))


def _centre_rows(result: Segmentation, named: Sequence[Profile], axes: tuple[str, str],
                 centres: Sequence[tuple[str, str] | None]) -> tuple[tuple[str, ...], ...]:
    rows = tuple((str(s.number), p.name, count(s.size), *(centre or (WITHHELD, WITHHELD)))
                 for s, p, centre in zip(result.segments, named, centres, strict=True))
    return (("Segment", "Name", "Customers", f"Centre: {axes[0]}", f"Centre: {axes[1]}"), *rows)
