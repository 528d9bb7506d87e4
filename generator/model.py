"""Segments: scaling, K-Means, choosing k, canonical order, centres in original units.

This is the only module that imports `sklearn.cluster`. scikit-learn validates its own
parameters; we add only which file and key a problem belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

from generator.config import DatasetConfig
from generator.data import Table
from generator.errors import UserError

SILHOUETTE_SAMPLE = 10_000  # above this many rows the silhouette is computed on a sample
# Kaufman & Rousseeuw's reading of the mean silhouette: above 0.5 a reasonable to strong
# structure, 0.25 to 0.5 a weak one that may be artificial, below 0.25 no substantial one.
CLEAR_SILHOUETTE = 0.5
WEAK_SILHOUETTE = 0.25


@dataclass(frozen=True)
class Candidate:
    """One evaluated number of segments."""

    k: int
    inertia: float
    silhouette: float | None


@dataclass(frozen=True)
class Segment:
    """One segment in canonical order; `center` is the mean of its rows in original units."""

    number: int
    size: int
    share: float
    center: dict[str, float]


@dataclass(frozen=True)
class Projection:
    """A two-dimensional PCA map of the scaled features, for more than two features."""

    points: np.ndarray  # rows x 2
    centers: np.ndarray  # segments x 2, the projected segment means
    explained: tuple[float, float]  # share of variance each axis explains


@dataclass(frozen=True)
class Segmentation:
    """The chosen K-Means solution of a dataset, with the evidence for its k."""

    k: int
    labels: np.ndarray  # canonical segment number of every used row
    segments: tuple[Segment, ...]
    inertia: float  # within-segment sum of squares, in the scaled space
    silhouette: float | None
    silhouette_sampled: bool
    candidates: tuple[Candidate, ...]
    reason: str  # why this k, in plain words
    structure: str  # "clear", "weak" or "none", from the chosen solution's silhouette
    overall: dict[str, float]  # the mean of every feature over all used rows
    spread: dict[str, float]  # the standard deviation of every feature over all used rows
    projection: Projection | None


def segment(table: Table, config: DatasetConfig) -> Segmentation:
    """Scale the features, fit K-Means for each candidate k and keep the recommended one."""
    original = table.features.to_numpy(dtype=float)
    scaled = scale(original, config.scale)
    low, high = _k_range(scaled, config)
    fits = {k: _fit(scaled, k, config) for k in range(low, high + 1)}
    candidates = tuple(
        Candidate(k, float(fit.inertia_), _silhouette(scaled, fit.labels_, config.random_state))
        for k, fit in fits.items()
    )
    chosen, reason = _recommend(candidates, fixed=isinstance(config.n_clusters, int))
    labels = canonical_labels(scaled, fits[chosen.k].labels_)
    segments = _segments(original, labels, table.features.columns)
    return Segmentation(
        k=chosen.k,
        labels=labels,
        segments=segments,
        inertia=chosen.inertia,
        silhouette=chosen.silhouette,
        silhouette_sampled=len(scaled) > SILHOUETTE_SAMPLE,
        candidates=candidates,
        reason=reason,
        structure=structure(chosen.silhouette),
        overall={name: float(table.features[name].mean()) for name in table.features.columns},
        spread={name: float(table.features[name].std(ddof=0)) for name in table.features.columns},
        projection=_project(scaled, labels, chosen.k) if original.shape[1] > 2 else None,
    )


def structure(silhouette: float | None) -> str:
    """How clearly the data falls into segments: `clear`, `weak` or `none`."""
    if silhouette is None or silhouette <= WEAK_SILHOUETTE:
        return "none"
    return "clear" if silhouette > CLEAR_SILHOUETTE else "weak"


def scale(values: np.ndarray, method: str) -> np.ndarray:
    """The features as K-Means sees them: `standard`, `minmax`, `robust` or `none`."""
    scalers = {"standard": StandardScaler, "minmax": MinMaxScaler, "robust": RobustScaler}
    if method == "none":
        return values.copy()
    result: np.ndarray = scalers[method]().fit_transform(values)
    return result


def canonical_labels(scaled: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Renumber segments largest first, ties by centre, so numbering never depends on chance."""
    k = int(labels.max()) + 1
    sizes = np.bincount(labels, minlength=k)
    centres = _means(scaled, labels, k)
    order = sorted(range(k), key=lambda s: (-sizes[s], tuple(np.round(centres[s], 9))))
    renumber = np.empty(k, dtype=int)
    renumber[order] = np.arange(k)
    result: np.ndarray = renumber[labels]
    return result


def _k_range(scaled: np.ndarray, config: DatasetConfig) -> tuple[int, int]:
    distinct = len(np.unique(scaled, axis=0))
    if isinstance(config.n_clusters, int):
        if distinct < config.n_clusters:
            raise UserError(f"{config.path}: n_clusters: {config.n_clusters} segments need at least "
                            f"{config.n_clusters} distinct customers; the data has {distinct}")
        return config.n_clusters, config.n_clusters
    low, high = config.n_clusters
    # A silhouette needs at least one segment with two members: k <= rows - 1.
    usable = min(high, distinct, len(scaled) - 1)
    if usable < low:
        raise UserError(f"{config.path}: n_clusters: the range starts at {low} but the data has only "
                        f"{len(scaled)} rows ({distinct} distinct); lower the range")
    return low, usable


def _fit(scaled: np.ndarray, k: int, config: DatasetConfig) -> KMeans:
    return KMeans(n_clusters=k, n_init=config.n_init, random_state=config.random_state).fit(scaled)


def _silhouette(scaled: np.ndarray, labels: np.ndarray, seed: int) -> float | None:
    if not 2 <= len(np.unique(labels)) <= len(scaled) - 1:
        return None
    sample = SILHOUETTE_SAMPLE if len(scaled) > SILHOUETTE_SAMPLE else None
    return float(silhouette_score(scaled, labels, sample_size=sample, random_state=seed))


def _recommend(candidates: tuple[Candidate, ...], *, fixed: bool) -> tuple[Candidate, str]:
    if fixed:
        only = candidates[0]
        return only, f"k = {only.k} is fixed by the configuration (n_clusters)."
    scored = [c for c in candidates if c.silhouette is not None]
    span = f"{candidates[0].k} to {candidates[-1].k}"
    if not scored:
        return candidates[0], f"k = {candidates[0].k}: no k from {span} has a defined silhouette."
    best = max(scored, key=lambda c: (c.silhouette or 0.0, -c.k))
    return best, (f"k = {best.k} has the highest mean silhouette ({best.silhouette:.2f}) "
                  f"of the k from {span}: its customers sit closest to their own segment "
                  "relative to the next one.")


def _means(values: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    sizes = np.bincount(labels, minlength=k).astype(float)
    sums = np.stack([np.bincount(labels, weights=values[:, j], minlength=k) for j in range(values.shape[1])], axis=1)
    result: np.ndarray = sums / sizes[:, None]
    return result


def _segments(original: np.ndarray, labels: np.ndarray, columns: pd.Index) -> tuple[Segment, ...]:
    k = int(labels.max()) + 1
    sizes = np.bincount(labels, minlength=k)
    centres = _means(original, labels, k)
    return tuple(
        Segment(
            number=s,
            size=int(sizes[s]),
            share=float(sizes[s] / len(labels)),
            center={str(name): float(centres[s, j]) for j, name in enumerate(columns)},
        )
        for s in range(k)
    )


def _project(scaled: np.ndarray, labels: np.ndarray, k: int) -> Projection:
    pca = PCA(n_components=2, svd_solver="full").fit(scaled)
    points = pca.transform(scaled)
    ratio = pca.explained_variance_ratio_
    return Projection(points=points, centers=_means(points, labels, k),
                      explained=(float(ratio[0]), float(ratio[1])))
