"""Segments: scaling, K-Means for every candidate k, stability refits, canonical order, and
centres in original units.

This is the only module that imports `sklearn.cluster`. scikit-learn validates its own
parameters; we add only which file and key a problem belongs to. Every fit runs on one
thread: small fits run many times faster so, and results then do not depend on the number
of cores (parallelism belongs to whole datasets).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
from threadpoolctl import threadpool_limits

from generator.config import DEFAULT_N_CLUSTERS, DatasetConfig
from generator.data import Table
from generator.errors import UserError
from generator.recommendation import Candidate, Recommendation, Verdict, band, knee, recommend, smallest, verdict

if TYPE_CHECKING:  # scikit-learn and scipy load when something is computed, not for cached reports
    from sklearn.cluster import KMeans

__all__ = ["Affine", "Candidate", "Projection", "ScalingCheck", "Segment", "Segmentation", "Skew", "segment"]

FIT_SAMPLE = 100_000  # above this many rows, K-Means fits a canonical sample and every row is then assigned
SILHOUETTE_SAMPLE = 4_000  # above this many rows the silhouette is computed on a random sample
WORKING_MEMORY_MB = 64  # the distance blocks of the silhouette; scikit-learn's default is 1 GB
STABILITY_SAMPLE = 2_000  # stability refits run on at most this many rows, drawn at random
STABILITY_RUNS = 10  # bootstrap refits per k, each with its own seed
NOISE_SAMPLE = 500  # the refits' silhouettes (the noise of a k's silhouette) over at most this many rows
REFERENCE_RUNS = 5  # structureless reference data sets per k: their mean and spread, for the rule and the verdict
EVIDENCE_RANGE = DEFAULT_N_CLUSTERS  # the k evaluated beside a fixed n_clusters, to show the evidence
SPREAD_RATIO = 10  # with scale: none, features whose spreads differ more than this get a warning
SPARK_SAMPLE = 20_000  # rows the Spark engine brings back for the charts and the per-row measures
MAP_SAMPLE = 5_000  # segment maps of more customers draw a sample, each segment in proportion
CHUNK = 65_536  # rows scaled and assigned at a time when every row is assigned to fitted centres
QUANTILES = (5, 25, 50, 75, 95)  # the percentiles of each feature kept per segment (box plots)
DIGITS = 12  # significant digits kept of scaling parameters computed in file order
SKEWED = 2.0  # a feature's skewness from which standard scaling gets a warning (and scale: log a suggestion)


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
class Projection:
    """A two-dimensional PCA map of the scaled features, for more than two features."""

    points: np.ndarray  # the drawn rows (Segmentation.drawn) x 2
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
class Affine:
    """The scaling K-Means saw, per feature: scaled = (f(x) - shift) / width, where f is log1p
    when `log` is true and the identity otherwise. What a scorer elsewhere must apply."""

    shift: tuple[float, ...]
    width: tuple[float, ...]
    log: bool = False

    def apply(self, values: np.ndarray) -> np.ndarray:
        """Values as K-Means sees them."""
        prepared = np.log1p(values) if self.log else values
        result: np.ndarray = (prepared - np.array(self.shift)) / np.array(self.width)
        return result


@dataclass(frozen=True)
class Skew:
    """A heavily skewed feature under standard scaling: a few customers far out decide its distances."""

    feature: str
    skewness: float  # Fisher's skewness of its values (0 for a symmetric feature)
    maximum: float
    median: float


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


class _Rows:
    """The rows of a table as K-Means sees them: all of them scaled, or a canonical sample.

    Up to FIT_SAMPLE rows, every row is scaled at once in canonical order (sorted by value),
    exactly as fitted. Above it, a seeded sample chosen by the rows' values (so the order of
    rows in the file changes nothing) is fitted, and every row is scaled a chunk at a time
    when it is assigned to the fitted centres, so no scaled copy of a big table is ever held.
    """

    def __init__(self, given: np.ndarray, method: str, seed: int) -> None:
        self.given = given
        self.count = len(given)
        self.exact = self.count <= FIT_SAMPLE
        if self.exact:
            self.fit_rows = np.lexsort(given.T[::-1])  # canonical order: by the first feature, then the next
            self.affine = scaling(given[self.fit_rows], method)
            self.fit = self.affine.apply(given[self.fit_rows])
            self.restore = np.empty_like(self.fit_rows)
            self.restore[self.fit_rows] = np.arange(self.count)
        else:
            self.fit_rows = canonical_sample(given, FIT_SAMPLE, seed)
            self.affine = scaling(given, method)
            self.fit = self.affine.apply(given[self.fit_rows])
            self.restore = np.zeros(0, dtype=np.int64)

    def scaled(self, rows: np.ndarray) -> np.ndarray:
        """Scaled values of the given rows (file order indices)."""
        return self.fit[self.restore[rows]] if self.exact else self.affine.apply(self.given[rows])

    def chunks(self) -> Iterator[tuple[int, np.ndarray]]:
        """Every row scaled, a chunk at a time, with the index of its first row."""
        for start in range(0, self.count, CHUNK):
            yield start, self.affine.apply(self.given[start:start + CHUNK])


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
    rows = _Rows(given, config.scale, config.random_state)
    rng = np.random.default_rng(config.random_state)
    sample = np.sort(rng.permutation(len(rows.fit))[:STABILITY_SAMPLE])
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
        check = (_scaling_check(given[rows.fit_rows], chosen.labels[rows.fit_rows], config)
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
        silhouette_sampled=len(rows.fit) > SILHOUETTE_SAMPLE,
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
        stability_sampled=len(rows.fit) > STABILITY_SAMPLE,
        alternatives={k: s.labels for k, s in solutions.items()},
        scaling=check,
        rows=rows.count,
        fitted=len(rows.fit),
        drawn=drawn,
        sample=given[drawn],
        summaries={k: Alternative(sizes=s.sizes, centers=_means(summed, s.labels[order], k), drawn=s.labels[drawn])
                   for k, s in solutions.items()},
        affine=rows.affine,
        fitted_centers=chosen.fitted,
        separation=separation(rows.scaled(drawn), chosen.labels[drawn], columns),
        skewed=skew,
    )


def separation(points: np.ndarray, labels: np.ndarray, features: list[str]) -> dict[str, float]:
    """Each feature's between-segment share of variance (eta squared) over `points` (scaled rows):
    the sum of squares of the segment means around the overall mean over the total sum of squares."""
    sizes = np.bincount(labels)
    present = sizes > 0
    means = _means(points, labels, len(sizes))[present]
    overall = points.mean(axis=0)
    total = ((points - overall) ** 2).sum(axis=0)
    between = (sizes[present][:, None] * (means - overall) ** 2).sum(axis=0)
    return {name: float(between[j] / total[j]) if total[j] > 0 else 0.0 for j, name in enumerate(features)}


def skewed(given: np.ndarray, features: list[str]) -> tuple[Skew, ...]:
    """The features with a skewness of SKEWED or more and no negative value (so `scale: log` applies)."""
    found = []
    for j, name in enumerate(features):
        values = given[:, j]
        spread = values.std()
        if spread <= 0 or values.min() < 0:
            continue
        z = (values - values.mean()) / spread
        skewness = float((z * z * z).mean())  # a cube by products: `** 3` calls pow() per value, 20 times slower
        if skewness >= SKEWED:
            found.append(Skew(name, skewness, float(values.max()), float(np.median(values))))
    return tuple(found)


def check_log(given: np.ndarray, table: Table, config: DatasetConfig) -> None:
    """`scale: log` takes log1p of every value: a negative one is an error naming its column and row."""
    negative = given < 0
    if not negative.any():
        return
    row, column = (int(v[0]) for v in np.nonzero(negative))
    counted = "row" if not table.dropped else "row (counting the rows used)"
    raise UserError(f"{table.origin}: column {config.features[column]!r}, {counted} {row + 1}: "
                    f"{given[row, column]:g} is negative; scale: log ({config.path}) needs values of 0 or more")


def preload() -> None:
    """Import scikit-learn's and scipy's parts used here now (a worker, before its first task)."""
    import scipy.optimize  # noqa: F401
    import sklearn.cluster
    import sklearn.decomposition
    import sklearn.metrics  # noqa: F401


def drawn_rows(labels: np.ndarray, seed: int) -> np.ndarray:
    """The rows a segment map draws: all of them, or above MAP_SAMPLE a seeded sample that keeps
    every segment's share (and at least one customer of each), so the picture stays light."""
    if len(labels) <= MAP_SAMPLE:
        return np.arange(len(labels))
    rng = np.random.default_rng(seed)
    order = np.argsort(labels, kind="stable")
    bounds = np.cumsum(np.bincount(labels, minlength=int(labels.max()) + 1))
    chosen = []
    for members in np.split(order, bounds[:-1]):
        count = max(1, round(MAP_SAMPLE * len(members) / len(labels)))
        chosen.append(rng.choice(members, size=min(count, len(members)), replace=False))
    return np.sort(np.concatenate(chosen))


def canonical_labels(scaled: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Renumber segments largest first, ties by centre, so numbering never depends on chance."""
    result: np.ndarray = canonical_numbers(scaled, labels, int(labels.max()) + 1)[labels]
    return result


def canonical_numbers(scaled: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """The canonical number of each of k clusters: largest first, ties by centre."""
    return canonical_order(np.bincount(labels, minlength=k), _means(scaled, labels, k))


def canonical_order(sizes: np.ndarray, means: np.ndarray) -> np.ndarray:
    """The canonical number of each cluster, given its size and mean (scaled): largest first, ties
    by mean. Every engine numbers segments with it, so numbers never depend on chance."""
    k = len(sizes)
    order = sorted(range(k), key=lambda s: (-sizes[s], tuple(np.round(means[s], 9))))
    renumber = np.empty(k, dtype=int)
    renumber[order] = np.arange(k)
    return renumber


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
    from sklearn.cluster import KMeans
    with threadpool_limits(limits=1):
        model = KMeans(n_clusters=k, n_init=config.n_init, random_state=config.random_state).fit(points)
        found = model.labels_
        if not measured:
            return _Fit(model, None, None, (None,) * k, None, (None, None))
        ari, jaccard, spread = _stability(points[sample], found[sample], k, config)
        return _Fit(model, _silhouette(points, found, config.random_state), ari, jaccard, spread,
                    _reference_silhouette(points[sample], k, config))


def _solve(rows: _Rows, fitted: _Fit, k: int) -> _Solution:
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
        centers = _means(rows.fit, canonical, k)
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


def _assign_all(rows: _Rows, fit: KMeans, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float,
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


def indices_from_sums(sizes: np.ndarray, means: np.ndarray, squares: np.ndarray, distances: np.ndarray,
                      between: float, count: int) -> tuple[float | None, float | None]:
    """Calinski-Harabasz and Davies-Bouldin as scikit-learn defines them, from sums per segment:
    sizes, means (scaled), the sums of squared distances and of distances to the mean, and the
    between-segment sum of squares. None where scikit-learn would refuse (one segment)."""
    present = sizes > 0
    used = int(present.sum())
    if not 2 <= used <= count - 1:
        return None, None
    inertia = float(squares.sum())
    calinski = 1.0 if inertia == 0 else between * (count - used) / (inertia * (used - 1))
    spread = distances[present] / sizes[present]
    centres = means[present]
    gaps = np.sqrt(((centres[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2))
    if np.allclose(spread, 0) or np.allclose(gaps, 0):
        return float(calinski), 0.0
    gaps[gaps == 0] = np.inf
    return float(calinski), float(np.max((spread[:, None] + spread[None, :]) / gaps, axis=1).mean())


def choose(candidates: tuple[Candidate, ...], config: DatasetConfig) -> tuple[Recommendation, str, bool, int]:
    """The rule's recommendation (with `min_segment_share`), why, whether n_clusters fixes k, and the k shown."""
    recommended = recommend(candidates, config.min_segment_share)
    fixed = isinstance(config.n_clusters, int)
    if isinstance(config.n_clusters, int):
        reason = (f"The configuration fixes k = {config.n_clusters} (n_clusters). On the evidence below, the rule "
                  f"would recommend k = {recommended.k}. {recommended.reason}")
        return recommended, reason, fixed, config.n_clusters
    return recommended, recommended.reason, fixed, recommended.k


def canonical_sample(given: np.ndarray, size: int, seed: int) -> np.ndarray:
    """`size` rows chosen by a seeded hash of their values, in canonical (sorted) order.

    Rows with equal values hash alike, so the sample holds the same values whichever order
    the rows come in; ties at the cut are broken by value, never by position.
    """
    mixed = np.full(len(given), (seed * 0x9E3779B97F4A7C15) % 2**64, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(given.shape[1]):
            mixed ^= np.ascontiguousarray(given[:, j]).view(np.uint64)  # one column at a time
            mixed *= np.uint64(0xBF58476D1CE4E5B9)
            mixed ^= mixed >> np.uint64(31)
    cut = np.partition(mixed, size - 1)[size - 1]
    below = np.flatnonzero(mixed < cut)
    at = np.flatnonzero(mixed == cut)
    if len(below) + len(at) > size:  # equal hashes at the cut: keep the smallest rows by value
        at = at[np.lexsort(given[at].T[::-1])][: size - len(below)]
    chosen = np.concatenate([below, at])
    result: np.ndarray = chosen[np.lexsort(given[chosen].T[::-1])]
    return result


def scaling(given: np.ndarray, method: str) -> Affine:
    """The scaling K-Means sees, fitted on `given`: `standard` (mean and standard deviation),
    `minmax`, `robust` (median and interquartile range), `log` (log1p, then standard) or `none`,
    as scikit-learn's scalers define them. One column at a time: no scaled copy of a big table.

    Parameters are rounded to DIGITS significant digits, so that summation order (the file's
    row order) cannot change them; constant features keep width 1, as in scikit-learn.
    """
    count = given.shape[1]
    if method == "log":  # standard scaling of log1p, one column at a time: no logged copy of the table
        shift = np.array([float(np.log1p(given[:, j]).mean()) for j in range(count)])
        width = np.sqrt(np.array([((np.log1p(given[:, j]) - shift[j]) ** 2).mean() for j in range(count)]))
    elif method == "standard":
        shift = given.mean(axis=0)
        width = np.sqrt(np.array([((given[:, j] - shift[j]) ** 2).mean() for j in range(count)]))
    elif method == "minmax":
        shift = given.min(axis=0)
        width = given.max(axis=0) - shift
    elif method == "robust":
        low, shift, high = np.percentile(given, [25, 50, 75], axis=0)
        width = high - low
    elif method == "none":
        shift, width = np.zeros(count), np.ones(count)
    else:
        raise ValueError(f"unknown scaling {method!r}")
    shift, width = rounded_scaling(shift, width)
    return Affine(tuple(float(v) for v in shift), tuple(float(v) for v in width), log=method == "log")


def rounded_scaling(shift: np.ndarray, width: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scaling parameters rounded to DIGITS significant digits, so that summation order cannot
    change them; a constant feature (width 0) keeps width 1, as in scikit-learn."""
    width = np.where(width > 0, width, 1.0)

    def rounded(values: np.ndarray) -> np.ndarray:
        return np.array([float(f"{v:.{DIGITS}g}") for v in values])

    return rounded(shift), rounded(width)


def _silhouette(scaled: np.ndarray, labels: np.ndarray, seed: int) -> float | None:
    """The mean silhouette, on a seeded sample above SILHOUETTE_SAMPLE rows that keeps every segment."""
    from sklearn import config_context
    from sklearn.metrics import silhouette_score
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
               config: DatasetConfig) -> tuple[float | None, tuple[float | None, ...], float | None]:
    """Agreement of bootstrap refits (each with its own seed) with the reference solution.

    Returns the mean adjusted Rand index over the refits, for each reference segment its mean
    Jaccard agreement with the refit segment matched to it (Hungarian matching), and the standard
    deviation of the refits' silhouettes over a seeded sample of NOISE_SAMPLE of `points`: how far
    this k's silhouette moves when the data is resampled (its noise).
    """
    from scipy.optimize import linear_sum_assignment
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score, pairwise_distances
    rng = np.random.default_rng(config.random_state + k)
    agreements: list[float] = []
    silhouettes: list[float] = []
    jaccard_sum = np.zeros(k)
    distances: np.ndarray | None = None
    picked = np.sort(np.random.default_rng(config.random_state).permutation(len(points))[:NOISE_SAMPLE])
    for run in range(STABILITY_RUNS):
        resample = _resample(points, k, rng)
        if resample is None:
            continue
        # As many restarts as the fit itself: with fewer, the refits agree less (measured: wholesale k = 3
        # reads 0.72 with 10, 0.56 with 1), and stability would no longer mean what the reference page says.
        refit = KMeans(n_clusters=k, n_init=config.n_init, random_state=config.random_state + 1 + run)
        predicted = refit.fit(points[resample]).predict(points)
        agreements.append(float(adjusted_rand_score(reference, predicted)))
        judged = predicted[picked]
        if 2 <= len(np.unique(judged)) <= len(judged) - 1:
            distances = pairwise_distances(points[picked]) if distances is None else distances
            silhouettes.append(mean_silhouette(distances, judged))
        drawn = np.unique(resample)
        matrix = _jaccard(reference[drawn], predicted[drawn], k)
        rows, cols = linear_sum_assignment(-matrix)
        jaccard_sum[rows] += matrix[rows, cols]
    if not agreements:
        return None, (None,) * k, None
    spread = float(np.std(silhouettes, ddof=1)) if len(silhouettes) > 1 else None
    return float(np.mean(agreements)), tuple(float(v) for v in jaccard_sum / len(agreements)), spread


def mean_silhouette(distances: np.ndarray, labels: np.ndarray) -> float:
    """scikit-learn's `silhouette_score(distances, labels, metric="precomputed")` to the last bit (at
    least two segments, fewer than rows), four times faster: every row's distances are summed by
    segment one segment at a time, not one row at a time. Summed along the first axis of the
    transposed matrix, numpy adds them one by one in row order, as scikit-learn's `np.bincount`
    does, so the sums, and the silhouette, are the same."""
    _, codes = np.unique(labels, return_inverse=True)
    sizes = np.bincount(codes)
    columns = np.ascontiguousarray(distances.T)
    summed = np.column_stack([columns[codes == code].sum(axis=0) for code in range(len(sizes))])
    rows = np.arange(len(codes))
    inside = summed[rows, codes]
    summed[rows, codes] = np.inf
    between = (summed / sizes).min(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        inside = inside / (sizes[codes] - 1)
        # A segment of one row: 0 / 0 is not a number, and its rows' silhouette is 0, as scikit-learn's.
        return float(np.nan_to_num((between - inside) / np.maximum(inside, between)).mean())


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


def _reference_silhouette(points: np.ndarray, k: int, config: DatasetConfig) -> tuple[float | None, float | None]:
    """The silhouette K-Means reaches on structureless data (uniform in the points' principal-axis
    box): its mean and standard deviation over REFERENCE_RUNS draws."""
    from sklearn.cluster import KMeans
    if len(points) <= k + 1:
        return None, None
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
    if not scores:
        return None, None
    return float(np.mean(scores)), float(np.std(scores, ddof=1)) if len(scores) > 1 else None


def _scaling_check(original: np.ndarray, labels: np.ndarray, config: DatasetConfig) -> ScalingCheck | None:
    """With `scale: none`: when spreads differ more than SPREAD_RATIO, what standardising changes."""
    from scipy.optimize import linear_sum_assignment
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score
    spreads = original.std(axis=0)
    if spreads.min() <= 0 or spreads.max() / spreads.min() <= SPREAD_RATIO:
        return None
    k = int(labels.max()) + 1
    standardised = scaling(original, "standard").apply(original)
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


def projection(fitted: np.ndarray, drawn: np.ndarray, centers: np.ndarray) -> Projection:
    """PCA fitted on `fitted` (scaled rows); `drawn` rows and segment `centers` mapped by it."""
    from sklearn.decomposition import PCA
    pca = PCA(n_components=2, svd_solver="full").fit(fitted)
    ratio = pca.explained_variance_ratio_
    return Projection(points=pca.transform(drawn), centers=pca.transform(centers),
                      explained=(float(ratio[0]), float(ratio[1])))


def sample_measures(points: np.ndarray, labels: np.ndarray, k: int, config: DatasetConfig
                    ) -> tuple[float | None, float | None, tuple[float | None, ...], float | None,
                               tuple[float | None, float | None]]:
    """For another engine's solution on a sample of scaled rows (`labels` numbered canonically):
    its silhouette, stability (ARI, Jaccard per segment, the refits' silhouette spread) and structureless
    reference (mean, spread),
    measured exactly as for the local engine."""
    sample = np.sort(np.random.default_rng(config.random_state).permutation(len(points))[:STABILITY_SAMPLE])
    with threadpool_limits(limits=1):
        ari, jaccard, spread = _stability(points[sample], labels[sample], k, config)
        return (_silhouette(points, labels, config.random_state), ari, jaccard, spread,
                _reference_silhouette(points[sample], k, config))
