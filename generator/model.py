"""Segments: K-Means for every candidate k, the choice of k, canonical order, and centres in
original units.

The jobs around it have their own modules: `scaling` (what K-Means sees), `kmeans` (the one
fit every part runs, and its canonical numbering), `measures` (silhouette, stability, the
structureless reference and the cautions) and `maps` (what the segment maps draw). Every fit
runs on one thread: small fits run many times faster so, and results then do not depend on
the number of cores (parallelism belongs to whole datasets).
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
from threadpoolctl import threadpool_limits

from generator import measures
from generator.config import DEFAULT_N_CLUSTERS, DatasetConfig
from generator.data import Table
from generator.errors import UserError
from generator.kmeans import canonical_numbers, canonical_order, kmeans, segment_means
from generator.maps import Projection, drawn_rows, projection
from generator.measures import ScalingCheck, Skew, indices_from_sums, separation, skewed
from generator.recommendation import Candidate, Recommendation, Verdict, band, knee, recommend, smallest, verdict
from generator.scaling import Affine, Rows, check_log

if TYPE_CHECKING:
    from generator.kmeans import KMeans

__all__ = ["Segment", "Segmentation", "segment"]

EVIDENCE_RANGE = DEFAULT_N_CLUSTERS  # the k evaluated beside a fixed n_clusters, to show the evidence
SPARK_SAMPLE = 20_000  # rows the Spark engine brings back for the charts and the per-row measures
QUANTILES = (5, 25, 50, 75, 95)  # the percentiles of each feature kept per segment (box plots)


@dataclass(frozen=True)
class Segment:
    """One segment in canonical order; `center` is the mean of its rows in original units."""

    number: int
    size: int
    share: float
    center: dict[str, float]
    stability: float | None = None  # mean Jaccard agreement with its match in bootstrap refits
    band: str = "not measured"  # Hennig's reading of `stability`
    median: dict[str, float] = field(default_factory=dict)  # the median of its rows, original units
    quantiles: dict[str, tuple[float, ...]] = field(default_factory=dict)  # QUANTILES of its rows


@dataclass(frozen=True)
class Alternative:
    """The solution for one evaluated k, summarised: what its candidate map and table show."""

    sizes: np.ndarray  # customers per segment, canonical order
    centers: np.ndarray  # segments x features, the mean of each segment's rows in original units
    drawn: np.ndarray  # the segment of every drawn row (Segmentation.drawn)


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
    structure: str  # "clear", "weak" or "none"
    choice: Recommendation  # the rule's recommendation, as data: its branch and what the floor passed over
    verdict: Verdict  # the structure verdict with the tests that decided it
    overall: dict[str, float]  # the mean of every feature over all used rows
    spread: dict[str, float]  # the standard deviation of every feature over all used rows
    projection: Projection | None
    recommended: int = 0  # the k the rule recommends (differs from k when n_clusters is fixed)
    fixed: bool = False
    knee: int | None = None
    reference_silhouette: float | None = None
    stability: float | None = None  # the chosen solution's mean adjusted Rand index across refits
    stability_sampled: bool = False
    alternatives: dict[int, np.ndarray] = field(default_factory=dict)  # canonical labels of every row, by k
    scaling: ScalingCheck | None = None
    rows: int = 0  # customers segmented
    fitted: int = 0  # customers K-Means was fitted on: all of them, or a sample above FIT_SAMPLE
    drawn: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # rows the maps draw
    sample: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # drawn rows x features, original units
    summaries: dict[int, Alternative] = field(default_factory=dict)  # every evaluated k
    affine: Affine | None = None  # the scaling the fit used; None where an engine does not say
    fitted_centers: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # K-Means' centres, scaled, canonical
    separation: dict[str, float] = field(default_factory=dict)  # eta squared of every feature (scaled)
    skewed: tuple[Skew, ...] = ()  # heavily skewed features, under standard scaling only

    def slim(self) -> Segmentation:
        """The same result without its per-row arrays: what pages need once downloads are written."""
        empty = np.zeros(0, dtype=np.int8)
        return replace(self, labels=empty, alternatives={})


@dataclass(frozen=True)
class _Solution:
    candidate: Candidate
    labels: np.ndarray  # canonical segment of every row, in file order
    jaccard: tuple[float | None, ...]
    sizes: np.ndarray
    centers: np.ndarray  # segments x features, scaled space
    fitted: np.ndarray  # segments x features: K-Means' own centres (scaled), canonical order


def segment(table: Table, config: DatasetConfig, pool: Executor | None = None, *,
            measured: bool = True) -> Segmentation:
    """Scale the features, evaluate every candidate k, and keep the recommended (or fixed) one.

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
        candidates = tuple(s.candidate for s in solutions.values())
        choice, reason, fixed, shown = choose(candidates, config)
        chosen = solutions[shown]
        check = (measures.scaling_check(given[rows.fit_rows], chosen.labels[rows.fit_rows], config)
                 if config.scale == "none" else None)
    c = chosen.candidate
    drawn = drawn_rows(chosen.labels, config.random_state)
    # Sums over rows in canonical order where every row was sorted (exact, order-free results).
    summed = given[rows.fit_rows] if rows.exact else given
    order = rows.fit_rows if rows.exact else slice(None)
    mapped = projection(rows.fit, rows.scaled(drawn), chosen.centers) if given.shape[1] > 2 else None
    judged = verdict(c.silhouette, c.reference, c.stability, c.reference_spread, c.min_share,
                     config.min_segment_share)
    return Segmentation(
        k=c.k,
        labels=chosen.labels,
        segments=_segments(summed, chosen.labels[order], columns, chosen.jaccard),
        inertia=c.inertia,
        silhouette=c.silhouette,
        silhouette_sampled=len(rows.fit) > measures.SILHOUETTE_SAMPLE,
        candidates=candidates,
        reason=reason,
        structure=judged.level,
        choice=choice,
        verdict=judged,
        overall={name: float(given[:, j].mean()) for j, name in enumerate(columns)},
        spread={name: float(given[:, j].std()) for j, name in enumerate(columns)},
        projection=mapped,
        recommended=choice.k,
        fixed=fixed,
        knee=knee(candidates),
        reference_silhouette=c.reference,
        stability=c.stability,
        stability_sampled=len(rows.fit) > measures.STABILITY_SAMPLE,
        alternatives={k: s.labels for k, s in solutions.items()},
        scaling=check,
        rows=rows.count,
        fitted=len(rows.fit),
        drawn=drawn,
        sample=given[drawn],
        summaries={k: Alternative(sizes=s.sizes, centers=segment_means(summed, s.labels[order], k),
                                  drawn=s.labels[drawn]) for k, s in solutions.items()},
        affine=rows.affine,
        fitted_centers=chosen.fitted,
        separation=separation(rows.scaled(drawn), chosen.labels[drawn], columns),
        skewed=skew,
    )


def preload() -> None:
    """Import scikit-learn's and scipy's parts used here now (a worker, before its first task)."""
    import scipy.optimize  # noqa: F401
    import sklearn.decomposition
    import sklearn.metrics  # noqa: F401
    kmeans(2, 1, 0)  # sklearn.cluster, through the one module that imports it


def k_values(scaled: np.ndarray, config: DatasetConfig) -> list[int]:
    # `scaled` holds every row up to FIT_SAMPLE, and the fitted sample above it.
    """The k to evaluate: the configured range, or a fixed k beside the evidence range."""
    distinct = len(np.unique(scaled, axis=0))
    # A silhouette needs at least one segment with two members: k <= rows - 1.
    usable = min(distinct, len(scaled) - 1)
    if isinstance(config.n_clusters, int):
        if distinct < config.n_clusters:
            raise UserError(f"{config.path}: n_clusters: {config.n_clusters} segments need at least "
                            f"{config.n_clusters} distinct customers; the data has {distinct}")
        evidence = range(EVIDENCE_RANGE[0], min(EVIDENCE_RANGE[1], usable) + 1)
        return sorted({config.n_clusters, *evidence})
    low, high = config.n_clusters
    if min(high, usable) < low:
        raise UserError(f"{config.path}: n_clusters: the range starts at {low} but the data has only "
                        f"{len(scaled)} rows ({distinct} distinct); lower the range")
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


def choose(candidates: tuple[Candidate, ...], config: DatasetConfig) -> tuple[Recommendation, str, bool, int]:
    """The rule's recommendation (with `min_segment_share`), why, whether n_clusters fixes k, and the k shown."""
    recommended = recommend(candidates, config.min_segment_share)
    fixed = isinstance(config.n_clusters, int)
    if isinstance(config.n_clusters, int):
        reason = (f"The configuration fixes k = {config.n_clusters} (n_clusters). On the evidence below, the rule "
                  f"would recommend k = {recommended.k}. {recommended.reason}")
        return recommended, reason, fixed, config.n_clusters
    return recommended, recommended.reason, fixed, recommended.k


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
