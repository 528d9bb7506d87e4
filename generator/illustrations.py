"""Illustrations: every chart of a report, drawn, with alt text and a caption written from the data.

Alt text says what a chart shows in numbers (sizes, centres, medians, the best k), so a
reader who cannot see the image loses nothing. All text here is plain; pages escape it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from generator.config import DatasetConfig
from generator.data import Table
from generator.figures import (
    Diagnostics,
    Distributions,
    Profiles,
    Scatter,
    diagnostics,
    distributions,
    profiles,
    scatter,
)
from generator.formats import number, percent, plural
from generator.model import Segmentation
from generator.profiles import Profile
from generator.recommendation import STABLE_ARI

SMALL_MAP = (5.6, 3.8)
MAP_SAMPLE = 5_000  # segment maps of more customers draw a sample, each segment in proportion


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


def _both(draw: Callable[[str], bytes]) -> tuple[bytes, bytes]:
    """A chart drawn for the light and for the dark palette."""
    return draw("light"), draw("dark")


@dataclass(frozen=True)
class Illustrations:
    """The charts of one report, by the section that shows them."""

    maps: tuple[Image, ...]  # the segment map, and a PCA map for more than two features
    diagnostics: Image  # inertia, silhouette and stability over k
    candidates: tuple[tuple[int, Image], ...]  # a segment map for every evaluated k
    distributions: Image  # box plots of every feature by segment
    profiles: Image  # standardised centres across the features

    def images(self) -> tuple[Image, ...]:
        return (*self.maps, self.diagnostics, *(image for _, image in self.candidates),
                self.distributions, self.profiles)


def illustrate(config: DatasetConfig, table: Table, result: Segmentation,
               named: tuple[Profile, ...]) -> Illustrations:
    """Draw every chart of a report and describe each."""
    return Illustrations(
        maps=_maps(config, table, result, named),
        diagnostics=_diagnostics(result),
        candidates=tuple((k, _candidate_map(config, table, result, k)) for k in result.alternatives),
        distributions=_distributions(config, table, result),
        profiles=_profiles(config, result, named),
    )


def map_alt(result: Segmentation, named: Sequence[Profile], axes: tuple[str, str],
            centres: Sequence[tuple[float, float]], lead: str) -> str:
    """Alt text for a segment map: what it plots, then every segment's size and centre."""
    parts = [f"{lead} for {plural(sum(s.size for s in result.segments), 'customer')} "
             f"in {result.k} segments."]
    for segment, profile, (x, y) in zip(result.segments, named, centres, strict=True):
        parts.append(f"Segment {segment.number}, {profile.name}: {plural(segment.size, 'customer')} "
                     f"({percent(segment.share)}), centre at {axes[0]} {number(x)}, {axes[1]} {number(y)}.")
    return " ".join(parts)


def drawn_rows(labels: np.ndarray, seed: int) -> np.ndarray:
    """The rows a segment map draws: all of them, or above MAP_SAMPLE a seeded sample that keeps
    every segment's share (and at least one customer of each), so the picture stays light."""
    if len(labels) <= MAP_SAMPLE:
        return np.arange(len(labels))
    rng = np.random.default_rng(seed)
    chosen = []
    for segment in range(int(labels.max()) + 1):
        members = np.flatnonzero(labels == segment)
        count = max(1, round(MAP_SAMPLE * len(members) / len(labels)))
        chosen.append(rng.choice(members, size=min(count, len(members)), replace=False))
    return np.sort(np.concatenate(chosen))


def _sample_note(rows: np.ndarray, total: int) -> str:
    if len(rows) == total:
        return ""
    return f" Drawn: a random {len(rows):,} of the {total:,} customers, each segment in proportion."


def _maps(config: DatasetConfig, table: Table, result: Segmentation, named: tuple[Profile, ...]) -> tuple[Image, ...]:
    x_name, y_name = config.plot_features
    x_label, y_label = config.label(x_name), config.label(y_name)
    centres = [(s.center[x_name], s.center[y_name]) for s in result.segments]
    names = [p.name for p in named]
    rows = drawn_rows(result.labels, config.random_state)
    note = _sample_note(rows, len(result.labels))
    chart = Scatter(x=table.features[x_name].to_numpy()[rows], y=table.features[y_name].to_numpy()[rows],
                    labels=result.labels[rows], centers=np.array(centres), names=names, xlabel=x_label,
                    ylabel=y_label)
    drawn = _both(lambda theme: scatter(chart, theme=theme))
    maps = [Image("segments.png",
                  map_alt(result, named, (x_label, y_label), centres,
                          f"Scatterplot of {y_label} (vertical) against {x_label} (horizontal)"),
                  f"Customers by {x_label} and {y_label}, coloured by segment; circled numbers mark "
                  f"segment centres.{note}", *drawn,
                  data=_centre_rows(result, named, (x_label, y_label), centres))]
    if result.projection is not None:
        pca = result.projection
        axes = (f"PC1 ({pca.explained[0]:.0%} of variance)", f"PC2 ({pca.explained[1]:.0%} of variance)")
        pca_chart = Scatter(x=pca.points[rows, 0], y=pca.points[rows, 1], labels=result.labels[rows],
                            centers=pca.centers, names=names, xlabel=axes[0], ylabel=axes[1])
        drawn = _both(lambda theme: scatter(pca_chart, theme=theme))
        lead = (f"Map of all {len(config.features)} features reduced to two principal components, "
                f"which together explain {sum(pca.explained):.0%} of their variance,")
        alt = map_alt(result, named, ("PC1", "PC2"), [(c[0], c[1]) for c in pca.centers], lead)
        maps.append(Image("pca.png", alt,
                          f"All {len(config.features)} features on one map (PCA of the scaled features): "
                          f"PC1 explains {pca.explained[0]:.0%} of the variance, PC2 {pca.explained[1]:.0%}.{note}",
                          *drawn, data=_centre_rows(result, named, ("PC1", "PC2"),
                                                    [(c[0], c[1]) for c in pca.centers])))
    return tuple(maps)


def _diagnostics(result: Segmentation) -> Image:
    cands = result.candidates
    chart = Diagnostics(
        ks=[c.k for c in cands], inertia=[c.inertia for c in cands],
        silhouette=[c.silhouette for c in cands], stability=[c.stability for c in cands],
        chosen=result.k, knee=result.knee, stable_line=STABLE_ARI, reference=[c.reference for c in cands])
    drawn = _both(lambda theme: diagnostics(chart, theme=theme))
    parts = [f"Three charts over k from {cands[0].k} to {cands[-1].k}."]
    parts.append(f"Inertia falls from {number(cands[0].inertia)} at k = {cands[0].k} to "
                 f"{number(cands[-1].inertia)} at k = {cands[-1].k}"
                 + (f", with its elbow at k = {result.knee}." if result.knee is not None else "."))
    scored = [c for c in cands if c.silhouette is not None]
    if scored:
        best = max(scored, key=lambda c: (c.silhouette or 0.0, -c.k))
        reference = (f", against {result.reference_silhouette:.2f} for structureless data at the chosen k"
                     if result.reference_silhouette is not None else "")
        parts.append(f"The mean silhouette is highest at k = {best.k} ({best.silhouette:.2f}){reference}.")
    measured = [c for c in cands if c.stability is not None]
    if measured:
        steady = max(measured, key=lambda c: (c.stability or 0.0, -c.k))
        passing = sum(1 for c in measured if (c.stability or 0.0) >= STABLE_ARI)
        parts.append(f"Stability is highest at k = {steady.k} ({steady.stability:.2f}); {passing} of "
                     f"{len(measured)} k reach the stable line at {STABLE_ARI}.")
    parts.append(f"The chosen k = {result.k} is circled.")
    return Image("choosing-k.png", " ".join(parts),
                 "Inertia, mean silhouette and stability for every k evaluated; the chosen k is circled.",
                 *drawn, data=(("k", "Inertia", "Silhouette", "Structureless silhouette", "Stability"),
                               *((str(c.k), number(c.inertia), _score(c.silhouette), _score(c.reference),
                                  _score(c.stability)) for c in cands)))


def _candidate_map(config: DatasetConfig, table: Table, result: Segmentation, k: int) -> Image:
    labels = result.alternatives[k]
    x_name, y_name = config.plot_features
    x, y = table.features[x_name].to_numpy(), table.features[y_name].to_numpy()
    sizes = np.bincount(labels, minlength=k)
    centres = [(float(x[labels == s].mean()), float(y[labels == s].mean())) for s in range(k)]
    names = [plural(int(n), "customer") for n in sizes]
    rows = drawn_rows(labels, config.random_state)
    chart = Scatter(x=x[rows], y=y[rows], labels=labels[rows], centers=np.array(centres), names=names,
                    xlabel=config.label(x_name), ylabel=config.label(y_name))
    drawn = _both(lambda theme: scatter(chart, size=SMALL_MAP, theme=theme))
    parts = [f"Segment map for k = {k}: {config.label(y_name)} against {config.label(x_name)}."]
    parts += [f"Segment {s}: {names[s]}, centre at {config.label(x_name)} {number(cx)}, "
              f"{config.label(y_name)} {number(cy)}." for s, (cx, cy) in enumerate(centres)]
    header = ("Segment", "Customers", config.label(x_name), config.label(y_name))
    table_rows = tuple((str(s), f"{sizes[s]:,}", number(cx), number(cy)) for s, (cx, cy) in enumerate(centres))
    return Image(f"k{k}.png", " ".join(parts), f"The {k}-segment solution.{_sample_note(rows, len(labels))}",
                 *drawn, data=(header, *table_rows))


def _distributions(config: DatasetConfig, table: Table, result: Segmentation) -> Image:
    labels = [config.label(f) for f in config.features]
    chart = Distributions(values=[table.features[f].to_numpy() for f in config.features],
                          labels=result.labels, features=labels, k=result.k)
    drawn = _both(lambda theme: distributions(chart, theme=theme))
    parts = ["Box plots of every feature by segment; each box holds the middle half of a segment's "
             "customers, whiskers reach from the 5th to the 95th percentile."]
    for feature, label in zip(config.features, labels, strict=True):
        medians = ", ".join(f"{number(s.median[feature])} in segment {s.number}" for s in result.segments)
        parts.append(f"{label}: median {medians}.")
    rows = []
    for feature, label in zip(config.features, labels, strict=True):
        values = table.features[feature].to_numpy()
        for s in range(result.k):
            cuts = np.percentile(values[result.labels == s], [5, 25, 50, 75, 95])
            rows.append((label, str(s), *(number(float(v)) for v in cuts)))
    header = ("Feature", "Segment", "5th percentile", "25th", "Median", "75th", "95th")
    return Image("distributions.png", " ".join(parts),
                 "Each feature by segment: boxes span the middle half of the customers, the line is the "
                 "median, whiskers reach the 5th and 95th percentiles.", *drawn, data=(header, *rows))


def _profiles(config: DatasetConfig, result: Segmentation, named: tuple[Profile, ...]) -> Image:
    labels = [config.label(f) for f in config.features]
    z = np.array([[p.z[f] for f in config.features] for p in named])
    chart = Profiles(z=z, features=labels, names=[p.name for p in named])
    drawn = _both(lambda theme: profiles(chart, theme=theme))
    parts = ["Profile chart: each segment's centre in standard deviations from the average customer "
             "(0 = average)."]
    for profile, row in zip(named, z, strict=True):
        values = ", ".join(f"{label} {value:+.1f}" for label, value in zip(labels, row, strict=True))
        parts.append(f"Segment {profile.number}, {profile.name}: {values}.")
    rows = tuple((str(p.number), p.name, *(f"{v:+.2f}" for v in row)) for p, row in zip(named, z, strict=True))
    return Image("profiles.png", " ".join(parts),
                 "How far each segment's centre sits from the average, in standard deviations of each "
                 "feature: lines far from 0 set a segment apart.", *drawn,
                 data=(("Segment", "Name", *labels), *rows))


def _centre_rows(result: Segmentation, named: Sequence[Profile], axes: tuple[str, str],
                 centres: Sequence[tuple[float, float]]) -> tuple[tuple[str, ...], ...]:
    rows = tuple((str(s.number), p.name, f"{s.size:,}", number(x), number(y))
                 for s, p, (x, y) in zip(result.segments, named, centres, strict=True))
    return (("Segment", "Name", "Customers", f"Centre: {axes[0]}", f"Centre: {axes[1]}"), *rows)


def _score(value: float | None) -> str:
    return f"{value:.3f}" if value is not None else "-"
