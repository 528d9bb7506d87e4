"""Segments: K-Means for every candidate k, the choice of k, canonical order, and centres in
original units.

The jobs around it have their own modules: `scaling` (what K-Means sees), `kmeans` (the one
fit every part runs, and its canonical numbering), `measures` (silhouette, stability, the
structureless reference and the cautions), `maps` (what the segment maps draw) and
`segmentation` (the result, built by the constructor the Spark engine calls too). Every fit
runs on one thread: small fits run many times faster so, and results then do not depend on
the number of cores (parallelism belongs to whole datasets).
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from threadpoolctl import threadpool_limits

from generator import measures
from generator.config import DEFAULT_N_CLUSTERS, DatasetConfig
from generator.data import Table
from generator.errors import UserError
from generator.formats import count
from generator.kmeans import LIBRARY as KMEANS_LIBRARY
from generator.kmeans import canonical_numbers, canonical_order, kmeans, segment_means
from generator.measures import indices_from_sums, skewed
from generator.recommendation import Candidate, band, recommend, smallest
from generator.scaling import Rows, check_log
from generator.segmentation import (
    QUANTILES,
    Cautions,
    Evidence,
    Population,
    Scoring,
    Segment,
    Segmentation,
    Solution,
    segmentation,
)

if TYPE_CHECKING:
    from generator.kmeans import KMeans

__all__ = ["LIBRARIES", "choose", "k_values", "segment"]

EVIDENCE_RANGE = DEFAULT_N_CLUSTERS  # the k evaluated beside a fixed n_clusters, to show the evidence
# The libraries a dataset's analysis loads as it runs, by name: a worker process imports them before its
# first task (see `scheduler`).
LIBRARIES = ("scipy.optimize", "sklearn.decomposition", "sklearn.metrics", "sklearn.tree", KMEANS_LIBRARY)
SPARK_SAMPLE = 20_000  # rows the Spark engine brings back for the charts and the per-row measures


@dataclass(frozen=True)
class _Solution:
    candidate: Candidate
    labels: np.ndarray  # canonical segment of every row, in file order
    jaccard: tuple[float | None, ...]
    sizes: np.ndarray
    centers: np.ndarray  # segments x features, scaled space
    fitted: np.ndarray  # segments x features: K-Means' own centres (scaled), canonical order


def segment(table: Table, config: DatasetConfig, pool: Executor | None = None, *,
            measured: bool = True) -> tuple[Segmentation, np.ndarray]:
    """Scale the features, evaluate every candidate k, and keep the recommended (or fixed) one:
    the segmentation, and the segment of every row of the table (file order).

    `measured=False`, with a fixed `n_clusters`, fits that k alone and measures neither its
    stability, silhouette nor structureless reference (an earlier snapshot of a migration, whose
    segments are shown but not their evidence); every other number is the same.

    The work runs on the rows sorted by their values (or a sample chosen by their values), so
    the order of rows in the input file changes nothing: not the k-means++ starts, the
    samples, the sums, nor any number shown.
    """
    given = table.features.to_numpy(dtype=float)  # a view of the table's block where it can be: no copy
    if config.scale == "log":
        check_log(given, table, config)
    rows = Rows(given, config.scale, config.random_state)
    rng = np.random.default_rng(config.random_state)
    sample = np.sort(rng.permutation(len(rows.fit))[:measures.STABILITY_SAMPLE])
    ks = k_values(rows.fit, config)
    if not measured and isinstance(config.n_clusters, int):
        ks = [config.n_clusters]
    columns = [str(name) for name in table.features.columns]
    fits: Iterable[tuple[int, _Fit]]
    if pool is None or len(ks) == 1:
        fits = ((k, fit_k(rows.fit, sample, k, config, measured)) for k in ks)
    else:  # the costly part of every k at once, in other processes, the largest k (the longest) first;
        # each k is solved here as it arrives, while the others are computed. The results are the same.
        longest_first = sorted(ks, reverse=True)
        fits = zip(longest_first, pool.map(fit_k, *zip(*((rows.fit, sample, k, config, measured)
                                                         for k in longest_first), strict=True)), strict=True)
    skew = skewed(given, columns) if config.scale == "standard" else ()  # meanwhile
    with threadpool_limits(limits=1):
        solved = {k: _solve(rows, fitted, k) for k, fitted in fits}
        solutions = {k: solved[k] for k in ks}
        evidence = choose(tuple(s.candidate for s in solutions.values()), config,
                          silhouette_sampled=len(rows.fit) > measures.SILHOUETTE_SAMPLE,
                          stability_sampled=len(rows.fit) > measures.STABILITY_SAMPLE)
        chosen = solutions[evidence.k]
        check = (measures.scaling_check(given[rows.fit_rows], chosen.labels[rows.fit_rows], config)
                 if config.scale == "none" else None)
    # Sums over rows in canonical order where every row was sorted (exact, order-free results).
    summed = given[rows.fit_rows] if rows.exact else given
    order = rows.fit_rows if rows.exact else slice(None)
    result = segmentation(
        evidence,
        {k: Solution(s.candidate, s.sizes, segment_means(summed, s.labels[order], k), s.centers, s.labels)
         for k, s in solutions.items()},
        _segments(summed, chosen.labels[order], columns, chosen.jaccard),
        Population(rows=rows.count, fitted=len(rows.fit),
                   overall={name: float(given[:, j].mean()) for j, name in enumerate(columns)},
                   spread={name: float(given[:, j].std()) for j, name in enumerate(columns)}),
        original=given, scaled=rows.scaled, fitted=rows.fit, seed=config.random_state,
        scoring=Scoring(rows.affine, chosen.fitted), cautions=Cautions(check, skew))
    return result, chosen.labels


def k_values(scaled: np.ndarray, config: DatasetConfig) -> list[int]:
    # `scaled` holds every row up to FIT_SAMPLE, and the fitted sample above it.
    """The k to evaluate: the configured range, or a fixed k beside the evidence range."""
    distinct = len(np.unique(scaled, axis=0))
    # A silhouette needs at least one segment with two members: k <= rows - 1.
    usable = min(distinct, len(scaled) - 1)
    if isinstance(config.n_clusters, int):
        if distinct < config.n_clusters:
            raise UserError(f"{config.path}: n_clusters: {config.n_clusters} segments need at least "
                            f"{config.n_clusters} distinct customers; the data has {count(distinct)}")
        evidence = range(EVIDENCE_RANGE[0], min(EVIDENCE_RANGE[1], usable) + 1)
        return sorted({config.n_clusters, *evidence})
    low, high = config.n_clusters
    if min(high, usable) < low:
        raise UserError(f"{config.path}: n_clusters: the range starts at {low} but the data has only "
                        f"{count(len(scaled))} rows ({count(distinct)} distinct); lower the range")
    return list(range(low, min(high, usable) + 1))


@dataclass(frozen=True)
class _Fit:
    """One k fitted and measured on the fitted rows: the part of a solve that needs no other row."""

    model: KMeans
    silhouette: float | None
    stability: float | None
    jaccard: tuple[float | None, ...]  # by the fit's own cluster numbers
    silhouette_spread: float | None  # the standard deviation of the silhouettes of the stability refits
    reference: tuple[float | None, float | None]  # mean and standard deviation of the structureless silhouettes


def fit_k(points: np.ndarray, sample: np.ndarray, k: int, config: DatasetConfig, measured: bool = True) -> _Fit:
    """Fit k on the fitted rows (scaled); silhouette, stability and reference on samples of them
    (unless not `measured`).

    Independent of every other k and of the rows outside `points`, so it may run in another
    process (see `segment`'s `pool`); the result is the same wherever it runs.
    """
    with threadpool_limits(limits=1):
        model = kmeans(k, config.n_init, config.random_state).fit(points)
        found = model.labels_
        if not measured:
            return _Fit(model, None, None, (None,) * k, None, (None, None))
        ari, jaccard, spread = measures.stability(points[sample], found[sample], k, config)
        return _Fit(model, measures.silhouette(points, found, config.random_state), ari, jaccard, spread,
                    measures.reference_silhouette(points[sample], k, config))


def _solve(rows: Rows, fitted: _Fit, k: int) -> _Solution:
    """A fitted k numbered canonically, with its measures over every row."""
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score
    fit = fitted.model
    if rows.exact:
        renumber = canonical_numbers(rows.fit, fit.labels_, k)
        canonical = renumber[fit.labels_]
        labels = canonical[rows.restore]
        sizes = np.bincount(canonical, minlength=k)
        separated = 2 <= len(np.unique(canonical)) <= len(canonical) - 1
        inertia = float(fit.inertia_)
        calinski = float(calinski_harabasz_score(rows.fit, canonical)) if separated else None
        davies = float(davies_bouldin_score(rows.fit, canonical)) if separated else None
        centers = segment_means(rows.fit, canonical, k)
    else:
        renumber, labels, sizes, centers, inertia, calinski, davies = _assign_all(rows, fit, k)
    jaccard: list[float | None] = [None] * k
    for own, value in enumerate(fitted.jaccard):
        jaccard[int(renumber[own])] = value
    own_centers = np.empty_like(fit.cluster_centers_)
    own_centers[np.asarray(renumber)] = fit.cluster_centers_
    candidate = Candidate(
        k=k,
        inertia=inertia,
        silhouette=fitted.silhouette,
        calinski_harabasz=calinski,
        davies_bouldin=davies,
        min_share=float(sizes.min() / rows.count),
        stability=fitted.stability,
        reference=fitted.reference[0],
        reference_spread=fitted.reference[1],
        min_jaccard=smallest(fitted.jaccard),
        silhouette_spread=fitted.silhouette_spread,
    )
    return _Solution(candidate, labels, tuple(jaccard), sizes, centers, own_centers)


def _assign_all(rows: Rows, fit: KMeans, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float,
                                                            float | None, float | None]:
    """Every row to its nearest fitted centre, a chunk at a time; the measures over all rows.

    Returns the canonical number of each fitted cluster, canonical labels (file order), sizes,
    segment means (scaled), the within-segment
    sum of squares around those means, and the Calinski-Harabasz and Davies-Bouldin indices
    computed as scikit-learn defines them, from sums over all rows.
    """
    width = rows.given.shape[1]
    raw = np.empty(rows.count, dtype=np.int8 if k < 128 else np.int16)
    sums = np.zeros((k, width))
    for start, chunk in rows.chunks():
        found = fit.predict(chunk)
        raw[start:start + len(chunk)] = found
        for j in range(width):
            sums[:, j] += np.bincount(found, weights=chunk[:, j], minlength=k)
    counts = np.bincount(raw, minlength=k)
    means = sums / np.maximum(counts, 1)[:, None]
    renumber = canonical_order(counts, means).astype(raw.dtype)
    labels = renumber[raw]
    del raw
    order = np.argsort(renumber)
    sizes, means = counts[order], means[order]
    squares, distances = np.zeros(k), np.zeros(k)
    total = 0.0
    overall = sums.sum(axis=0) / rows.count
    for start, chunk in rows.chunks():
        own = labels[start:start + len(chunk)]
        within = ((chunk - means[own]) ** 2).sum(axis=1)
        squares += np.bincount(own, weights=within, minlength=k)
        distances += np.bincount(own, weights=np.sqrt(within), minlength=k)
        total += float(((chunk - overall) ** 2).sum())
    inertia = float(squares.sum())
    calinski, davies = indices_from_sums(sizes, means, squares, distances, total - inertia, rows.count)
    return renumber, labels, sizes, means, inertia, calinski, davies


def choose(candidates: tuple[Candidate, ...], config: DatasetConfig, *, silhouette_sampled: bool,
           stability_sampled: bool) -> Evidence:
    """The evidence for k: the rule's recommendation (with `min_segment_share`), and the k shown:
    the recommended one, or the one n_clusters fixes."""
    configured = config.n_clusters if isinstance(config.n_clusters, int) else None
    return Evidence(candidates, recommend(candidates, config.min_segment_share), configured,
                    silhouette_sampled, stability_sampled)


def _segments(original: np.ndarray, labels: np.ndarray, columns: list[str],
              jaccard: tuple[float | None, ...]) -> tuple[Segment, ...]:
    k = int(labels.max()) + 1
    sizes = np.bincount(labels, minlength=k)
    centres = segment_means(original, labels, k)
    members = np.split(np.argsort(labels, kind="stable"), np.cumsum(sizes)[:-1])
    segments = []
    for s in range(k):
        values = [original[members[s], j] for j in range(len(columns))]
        segments.append(Segment(
            number=s,
            size=int(sizes[s]),
            share=float(sizes[s] / len(labels)),
            center={name: float(centres[s, j]) for j, name in enumerate(columns)},
            stability=jaccard[s],
            band=band(jaccard[s]),
            median={name: float(np.median(values[j])) for j, name in enumerate(columns)},
            quantiles={name: tuple(float(v) for v in np.percentile(values[j], QUANTILES))
                       for j, name in enumerate(columns)},
        ))
    return tuple(segments)
