"""Illustrations: every chart of a report, drawn, with alt text and a caption written from the data.

Alt text says what a chart shows in numbers (sizes, centres, medians, the best k), so a
reader who cannot see the image loses nothing. All text here is plain; pages escape it.
"""

from __future__ import annotations

from collections.abc import Sequence
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


@dataclass(frozen=True)
class Image:
    """A chart of a page: its file name beside the page, its bytes, alt text and caption."""

    src: str
    alt: str
    caption: str
    content: bytes


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


def _maps(config: DatasetConfig, table: Table, result: Segmentation, named: tuple[Profile, ...]) -> tuple[Image, ...]:
    x_name, y_name = config.plot_features
    x_label, y_label = config.label(x_name), config.label(y_name)
    centres = [(s.center[x_name], s.center[y_name]) for s in result.segments]
    names = [p.name for p in named]
    content = scatter(Scatter(x=table.features[x_name].to_numpy(), y=table.features[y_name].to_numpy(),
                              labels=result.labels, centers=np.array(centres), names=names,
                              xlabel=x_label, ylabel=y_label))
    maps = [Image("segments.png",
                  map_alt(result, named, (x_label, y_label), centres,
                          f"Scatterplot of {y_label} (vertical) against {x_label} (horizontal)"),
                  f"Customers by {x_label} and {y_label}, coloured by segment; circled numbers mark "
                  "segment centres.", content)]
    if result.projection is not None:
        pca = result.projection
        axes = (f"PC1 ({pca.explained[0]:.0%} of variance)", f"PC2 ({pca.explained[1]:.0%} of variance)")
        content = scatter(Scatter(x=pca.points[:, 0], y=pca.points[:, 1], labels=result.labels,
                                  centers=pca.centers, names=names, xlabel=axes[0], ylabel=axes[1]))
        lead = (f"Map of all {len(config.features)} features reduced to two principal components, "
                f"which together explain {sum(pca.explained):.0%} of their variance,")
        alt = map_alt(result, named, ("PC1", "PC2"), [(c[0], c[1]) for c in pca.centers], lead)
        maps.append(Image("pca.png", alt,
                          f"All {len(config.features)} features on one map (PCA of the scaled features): "
                          f"PC1 explains {pca.explained[0]:.0%} of the variance, PC2 {pca.explained[1]:.0%}.",
                          content))
    return tuple(maps)


def _diagnostics(result: Segmentation) -> Image:
    cands = result.candidates
    content = diagnostics(Diagnostics(
        ks=[c.k for c in cands], inertia=[c.inertia for c in cands],
        silhouette=[c.silhouette for c in cands], stability=[c.stability for c in cands],
        chosen=result.k, knee=result.knee, stable_line=STABLE_ARI, reference=[c.reference for c in cands]))
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
                 content)


def _candidate_map(config: DatasetConfig, table: Table, result: Segmentation, k: int) -> Image:
    labels = result.alternatives[k]
    x_name, y_name = config.plot_features
    x, y = table.features[x_name].to_numpy(), table.features[y_name].to_numpy()
    sizes = np.bincount(labels, minlength=k)
    centres = [(float(x[labels == s].mean()), float(y[labels == s].mean())) for s in range(k)]
    names = [plural(int(n), "customer") for n in sizes]
    content = scatter(Scatter(x=x, y=y, labels=labels, centers=np.array(centres), names=names,
                              xlabel=config.label(x_name), ylabel=config.label(y_name)), size=SMALL_MAP)
    parts = [f"Segment map for k = {k}: {config.label(y_name)} against {config.label(x_name)}."]
    parts += [f"Segment {s}: {names[s]}, centre at {config.label(x_name)} {number(cx)}, "
              f"{config.label(y_name)} {number(cy)}." for s, (cx, cy) in enumerate(centres)]
    return Image(f"k{k}.png", " ".join(parts), f"The {k}-segment solution.", content)


def _distributions(config: DatasetConfig, table: Table, result: Segmentation) -> Image:
    labels = [config.label(f) for f in config.features]
    content = distributions(Distributions(values=[table.features[f].to_numpy() for f in config.features],
                                          labels=result.labels, features=labels, k=result.k))
    parts = ["Box plots of every feature by segment; each box holds the middle half of a segment's "
             "customers, whiskers reach from the 5th to the 95th percentile."]
    for feature, label in zip(config.features, labels, strict=True):
        medians = ", ".join(f"{number(s.median[feature])} in segment {s.number}" for s in result.segments)
        parts.append(f"{label}: median {medians}.")
    return Image("distributions.png", " ".join(parts),
                 "Each feature by segment: boxes span the middle half of the customers, the line is the "
                 "median, whiskers reach the 5th and 95th percentiles.", content)


def _profiles(config: DatasetConfig, result: Segmentation, named: tuple[Profile, ...]) -> Image:
    labels = [config.label(f) for f in config.features]
    z = np.array([[p.z[f] for f in config.features] for p in named])
    content = profiles(Profiles(z=z, features=labels, names=[p.name for p in named]))
    parts = ["Profile chart: each segment's centre in standard deviations from the average customer "
             "(0 = average)."]
    for profile, row in zip(named, z, strict=True):
        values = ", ".join(f"{label} {value:+.1f}" for label, value in zip(labels, row, strict=True))
        parts.append(f"Segment {profile.number}, {profile.name}: {values}.")
    return Image("profiles.png", " ".join(parts),
                 "How far each segment's centre sits from the average, in standard deviations of each "
                 "feature: lines far from 0 set a segment apart.", content)
