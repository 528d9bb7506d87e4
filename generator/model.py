"""Segments: scaling, K-Means for every candidate k, stability refits, canonical order, and
centres in original units.

This is the only module that imports `sklearn.cluster`. scikit-learn validates its own
parameters; we add only which file and key a problem belongs to. Every fit runs on one
thread: small fits run many times faster so, and results then do not depend on the number
of cores (parallelism belongs to whole datasets).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn import config_context
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score, calinski_harabasz_score, davies_bouldin_score, silhouette_score
from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler
from threadpoolctl import threadpool_limits

from generator.config import DatasetConfig
from generator.data import Table
from generator.errors import UserError
from generator.recommendation import Candidate, band, knee, recommend, structure

__all__ = ["Candidate", "Projection", "ScalingCheck", "Segment", "Segmentation", "segment"]

SILHOUETTE_SAMPLE = 10_000  # above this many rows the silhouette is computed on a random sample
WORKING_MEMORY_MB = 64  # the distance blocks of the silhouette; scikit-learn's default is 1 GB
STABILITY_SAMPLE = 2_000  # stability refits run on at most this many rows, drawn at random
STABILITY_RUNS = 10  # bootstrap refits per k, each with its own seed
REFERENCE_RUNS = 3  # structureless reference data sets per k, for the rule and the structure verdict
EVIDENCE_RANGE = (2, 8)  # the k evaluated beside a fixed n_clusters, to show the evidence
SPREAD_RATIO = 10  # with scale: none, features whose spreads differ more than this get a warning


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


@dataclass(frozen=True)
class Projection:
    """A two-dimensional PCA map of the scaled features, for more than two features."""

    points: np.ndarray  # rows x 2
    centers: np.ndarray  # segments x 2, the projected segment means
    explained: tuple[float, float]  # share of variance each axis explains


@dataclass(frozen=True)
class ScalingCheck:
    """What standardising would change, for `scale: none` with features of very unequal spread."""

    widest: str
    narrowest: str
    ratio: float  # standard deviation of the widest over that of the narrowest feature
    agreement: float  # adjusted Rand index between the unscaled and the standardised solution
    moved: int  # customers in a different segment after standardising (segments matched)


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
    overall: dict[str, float]  # the mean of every feature over all used rows
    spread: dict[str, float]  # the standard deviation of every feature over all used rows
    projection: Projection | None
    recommended: int = 0  # the k the rule recommends (differs from k when n_clusters is fixed)
    fixed: bool = False
    knee: int | None = None
    reference_silhouette: float | None = None
    stability: float | None = None  # the chosen solution's mean adjusted Rand index across refits
    stability_sampled: bool = False
    alternatives: dict[int, np.ndarray] = field(default_factory=dict)  # canonical labels by k
    scaling: ScalingCheck | None = None


@dataclass(frozen=True)
class _Solution:
    candidate: Candidate
    labels: np.ndarray
    jaccard: tuple[float | None, ...]


def segment(table: Table, config: DatasetConfig) -> Segmentation:
    """Scale the features, evaluate every candidate k, and keep the recommended (or fixed) one.

    The work runs on the rows sorted by their values, so the order of rows in the input file
    changes nothing: not the k-means++ starts, the samples, the sums, nor any number shown.
    """
    given = table.features.to_numpy(dtype=float)
    order = np.lexsort(given.T[::-1])  # canonical row order: by the first feature, then the next
    restore = np.empty_like(order)
    restore[order] = np.arange(len(order))
    original = given[order]
    scaled = scale(original, config.scale)
    rng = np.random.default_rng(config.random_state)
    sample = np.sort(rng.permutation(len(scaled))[:STABILITY_SAMPLE])
    with threadpool_limits(limits=1):
        solutions = {k: _solve(scaled, k, config, sample) for k in _k_values(scaled, config)}
        candidates = tuple(s.candidate for s in solutions.values())
        recommended, reason = recommend(candidates)
        fixed = isinstance(config.n_clusters, int)
        if fixed:
            reason = (f"k = {config.n_clusters} is fixed by the configuration (n_clusters); "
                      f"on the evidence below the rule would recommend k = {recommended.k}.")
        chosen = solutions[config.n_clusters if isinstance(config.n_clusters, int) else recommended.k]
        scaling = _scaling_check(original, chosen.labels, config) if config.scale == "none" else None
    c = chosen.candidate
    columns = [str(name) for name in table.features.columns]
    projection = _project(scaled, chosen.labels, c.k) if original.shape[1] > 2 else None
    return Segmentation(
        k=c.k,
        labels=chosen.labels[restore],
        segments=_segments(original, chosen.labels, columns, chosen.jaccard),
        inertia=c.inertia,
        silhouette=c.silhouette,
        silhouette_sampled=len(scaled) > SILHOUETTE_SAMPLE,
        candidates=candidates,
        reason=reason,
        structure=structure(c.silhouette, c.reference, c.stability),
        overall={name: float(original[:, j].mean()) for j, name in enumerate(columns)},
        spread={name: float(original[:, j].std()) for j, name in enumerate(columns)},
        projection=Projection(projection.points[restore], projection.centers, projection.explained)
        if projection else None,
        recommended=recommended.k,
        fixed=fixed,
        knee=knee(candidates),
        reference_silhouette=c.reference,
        stability=c.stability,
        stability_sampled=len(scaled) > STABILITY_SAMPLE,
        alternatives={k: s.labels[restore] for k, s in solutions.items()},
        scaling=scaling,
    )


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


def _k_values(scaled: np.ndarray, config: DatasetConfig) -> list[int]:
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


def _solve(scaled: np.ndarray, k: int, config: DatasetConfig, sample: np.ndarray) -> _Solution:
    """Fit one k on all rows, measure it, and refit it on resamples for its stability."""
    fit = KMeans(n_clusters=k, n_init=config.n_init, random_state=config.random_state).fit(scaled)
    labels = canonical_labels(scaled, fit.labels_)
    sizes = np.bincount(labels, minlength=k)
    separated = 2 <= len(np.unique(labels)) <= len(scaled) - 1
    ari, jaccard = _stability(scaled[sample], labels[sample], k, config)
    candidate = Candidate(
        k=k,
        inertia=float(fit.inertia_),
        silhouette=_silhouette(scaled, labels, config.random_state),
        calinski_harabasz=float(calinski_harabasz_score(scaled, labels)) if separated else None,
        davies_bouldin=float(davies_bouldin_score(scaled, labels)) if separated else None,
        min_share=float(sizes.min() / len(labels)),
        stability=ari,
        reference=_reference_silhouette(scaled[sample], k, config),
    )
    return _Solution(candidate, labels, jaccard)


def _silhouette(scaled: np.ndarray, labels: np.ndarray, seed: int) -> float | None:
    """The mean silhouette, on a seeded sample above SILHOUETTE_SAMPLE rows that keeps every segment."""
    found = np.unique(labels)
    if not 2 <= len(found) <= len(scaled) - 1:
        return None
    if len(scaled) <= SILHOUETTE_SAMPLE:
        with config_context(working_memory=WORKING_MEMORY_MB):
            return float(silhouette_score(scaled, labels))
    chosen = np.random.default_rng(seed).choice(len(scaled), SILHOUETTE_SAMPLE, replace=False)
    absent = np.setdiff1d(found, labels[chosen])
    chosen = np.concatenate([chosen, [np.flatnonzero(labels == s)[0] for s in absent]]).astype(int)
    with config_context(working_memory=WORKING_MEMORY_MB):
        return float(silhouette_score(scaled[chosen], labels[chosen]))


def _stability(points: np.ndarray, reference: np.ndarray, k: int,
               config: DatasetConfig) -> tuple[float | None, tuple[float | None, ...]]:
    """Agreement of bootstrap refits (each with its own seed) with the reference solution.

    Returns the mean adjusted Rand index over the refits, and for each reference segment its
    mean Jaccard agreement with the refit segment matched to it (Hungarian matching).
    """
    rng = np.random.default_rng(config.random_state + k)
    agreements: list[float] = []
    jaccard_sum = np.zeros(k)
    for run in range(STABILITY_RUNS):
        resample = _resample(points, k, rng)
        if resample is None:
            continue
        refit = KMeans(n_clusters=k, n_init=config.n_init, random_state=config.random_state + 1 + run)
        predicted = refit.fit(points[resample]).predict(points)
        agreements.append(float(adjusted_rand_score(reference, predicted)))
        drawn = np.unique(resample)
        matrix = _jaccard(reference[drawn], predicted[drawn], k)
        rows, cols = linear_sum_assignment(-matrix)
        jaccard_sum[rows] += matrix[rows, cols]
    if not agreements:
        return None, (None,) * k
    return float(np.mean(agreements)), tuple(float(v) for v in jaccard_sum / len(agreements))


def _resample(points: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray | None:
    """Bootstrap row indices holding at least k distinct points (a few draws at most)."""
    for _ in range(5):
        drawn = rng.integers(0, len(points), size=len(points))
        if len(np.unique(points[drawn], axis=0)) >= k:
            return drawn
    return None


def _jaccard(first: np.ndarray, second: np.ndarray, k: int) -> np.ndarray:
    """Jaccard similarity of every segment of one labelling with every segment of another."""
    both = np.zeros((k, k))
    np.add.at(both, (first, second), 1)
    union = both.sum(axis=1)[:, None] + both.sum(axis=0)[None, :] - both
    result: np.ndarray = np.divide(both, union, out=np.zeros_like(both), where=union > 0)
    return result


def _reference_silhouette(points: np.ndarray, k: int, config: DatasetConfig) -> float | None:
    """The silhouette K-Means reaches on structureless data: uniform in the points' principal-axis box."""
    if len(points) <= k + 1:
        return None
    centred = points - points.mean(axis=0)
    _, _, axes = np.linalg.svd(centred, full_matrices=False)
    rotated = centred @ axes.T
    low, high = rotated.min(axis=0), rotated.max(axis=0)
    rng = np.random.default_rng(config.random_state)
    scores = []
    for run in range(REFERENCE_RUNS):
        uniform = rng.uniform(low, high, size=rotated.shape)
        labels = KMeans(n_clusters=k, n_init=config.n_init, random_state=config.random_state + run).fit_predict(uniform)
        score = _silhouette(uniform, labels, config.random_state)
        if score is not None:
            scores.append(score)
    return float(np.mean(scores)) if scores else None


def _scaling_check(original: np.ndarray, labels: np.ndarray, config: DatasetConfig) -> ScalingCheck | None:
    """With `scale: none`: when spreads differ more than SPREAD_RATIO, what standardising changes."""
    spreads = original.std(axis=0)
    if spreads.min() <= 0 or spreads.max() / spreads.min() <= SPREAD_RATIO:
        return None
    k = int(labels.max()) + 1
    standardised = scale(original, "standard")
    fit = KMeans(n_clusters=k, n_init=config.n_init, random_state=config.random_state).fit(standardised)
    other = canonical_labels(standardised, fit.labels_)
    both = np.zeros((k, k))
    np.add.at(both, (labels, other), 1)
    rows, cols = linear_sum_assignment(-both)
    return ScalingCheck(
        widest=config.features[int(spreads.argmax())],
        narrowest=config.features[int(spreads.argmin())],
        ratio=float(spreads.max() / spreads.min()),
        agreement=float(adjusted_rand_score(labels, other)),
        moved=int(len(labels) - both[rows, cols].sum()),
    )


def _means(values: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    sizes = np.bincount(labels, minlength=k).astype(float)
    sums = np.stack([np.bincount(labels, weights=values[:, j], minlength=k) for j in range(values.shape[1])], axis=1)
    result: np.ndarray = sums / sizes[:, None]
    return result


def _segments(original: np.ndarray, labels: np.ndarray, columns: list[str],
              jaccard: tuple[float | None, ...]) -> tuple[Segment, ...]:
    k = int(labels.max()) + 1
    sizes = np.bincount(labels, minlength=k)
    centres = _means(original, labels, k)
    return tuple(
        Segment(
            number=s,
            size=int(sizes[s]),
            share=float(sizes[s] / len(labels)),
            center={name: float(centres[s, j]) for j, name in enumerate(columns)},
            stability=jaccard[s],
            band=band(jaccard[s]),
            median={name: float(np.median(original[labels == s, j])) for j, name in enumerate(columns)},
        )
        for s in range(k)
    )


def _project(scaled: np.ndarray, labels: np.ndarray, k: int) -> Projection:
    pca = PCA(n_components=2, svd_solver="full").fit(scaled)
    points = pca.transform(scaled)
    ratio = pca.explained_variance_ratio_
    return Projection(points=points, centers=_means(points, labels, k),
                      explained=(float(ratio[0]), float(ratio[1])))
