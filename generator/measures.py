"""How good a K-Means solution is: the silhouette, the stability of bootstrap refits, the
silhouette of structureless reference data, the Calinski-Harabasz and Davies-Bouldin indices,
each feature's separation, and the cautions (the scaling check, skewed features). Both
engines measure with these, the Spark engine on its bounded sample (`sample_measures`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from generator.config import DatasetConfig
from generator.kmeans import canonical_labels, kmeans, segment_means
from generator.scaling import scaling

__all__ = ["ScalingCheck", "Skew", "indices_from_sums", "reference_silhouette", "sample_measures", "scaling_check",
           "separation", "silhouette", "skewed", "stability"]

SILHOUETTE_SAMPLE = 4_000  # above this many rows the silhouette is computed on a random sample
WORKING_MEMORY_MB = 64  # the distance blocks of the silhouette; scikit-learn's default is 1 GB
STABILITY_SAMPLE = 2_000  # stability refits run on at most this many rows, drawn at random
STABILITY_RUNS = 10  # bootstrap refits per k, each with its own seed
NOISE_SAMPLE = 500  # the refits' silhouettes (the noise of a k's silhouette) over at most this many rows
REFERENCE_RUNS = 5  # structureless reference data sets per k: their mean and spread, for the rule and the verdict
SPREAD_RATIO = 10  # with scale: none, features whose spreads differ more than this get a warning
SKEWED = 2.0  # a feature's skewness from which standard scaling gets a warning (and scale: log a suggestion)


@dataclass(frozen=True)
class ScalingCheck:
    """What standardising would change, for `scale: none` with features of very unequal spread."""

    widest: str
    narrowest: str
    ratio: float  # standard deviation of the widest over that of the narrowest feature
    agreement: float  # adjusted Rand index between the unscaled and the standardised solution
    moved: int  # customers in a different segment after standardising (segments matched)


@dataclass(frozen=True)
class Skew:
    """A heavily skewed feature under standard scaling: a few customers far out decide its distances."""

    feature: str
    skewness: float  # Fisher's skewness of its values (0 for a symmetric feature)
    maximum: float
    median: float


def silhouette(scaled: np.ndarray, labels: np.ndarray, seed: int) -> float | None:
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


def stability(points: np.ndarray, reference: np.ndarray, k: int,
               config: DatasetConfig) -> tuple[float | None, tuple[float | None, ...], float | None]:
    """Agreement of bootstrap refits (each with its own seed) with the reference solution.

    Returns the mean adjusted Rand index over the refits, for each reference segment its mean
    Jaccard agreement with the refit segment matched to it (Hungarian matching), and the standard
    deviation of the refits' silhouettes over a seeded sample of NOISE_SAMPLE of `points`: how far
    this k's silhouette moves when the data is resampled (its noise).
    """
    from scipy.optimize import linear_sum_assignment
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
        refit = kmeans(k, config.n_init, config.random_state + 1 + run)
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


def reference_silhouette(points: np.ndarray, k: int, config: DatasetConfig) -> tuple[float | None, float | None]:
    """The silhouette K-Means reaches on structureless data (uniform in the points' principal-axis
    box): its mean and standard deviation over REFERENCE_RUNS draws."""
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
        labels = kmeans(k, config.n_init, config.random_state + run).fit_predict(uniform)
        score = silhouette(uniform, labels, config.random_state)
        if score is not None:
            scores.append(score)
    if not scores:
        return None, None
    return float(np.mean(scores)), float(np.std(scores, ddof=1)) if len(scores) > 1 else None


def scaling_check(original: np.ndarray, labels: np.ndarray, config: DatasetConfig) -> ScalingCheck | None:
    """With `scale: none`: when spreads differ more than SPREAD_RATIO, what standardising changes."""
    from scipy.optimize import linear_sum_assignment
    from sklearn.metrics import adjusted_rand_score
    spreads = original.std(axis=0)
    if spreads.min() <= 0 or spreads.max() / spreads.min() <= SPREAD_RATIO:
        return None
    k = int(labels.max()) + 1
    standardised = scaling(original, "standard").apply(original)
    fit = kmeans(k, config.n_init, config.random_state).fit(standardised)
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


def separation(points: np.ndarray, labels: np.ndarray, features: list[str]) -> dict[str, float]:
    """Each feature's between-segment share of variance (eta squared) over `points` (scaled rows):
    the sum of squares of the segment means around the overall mean over the total sum of squares."""
    sizes = np.bincount(labels)
    present = sizes > 0
    means = segment_means(points, labels, len(sizes))[present]
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


def sample_measures(points: np.ndarray, labels: np.ndarray, k: int, config: DatasetConfig
                    ) -> tuple[float | None, float | None, tuple[float | None, ...], float | None,
                               tuple[float | None, float | None]]:
    """For another engine's solution on a sample of scaled rows (`labels` numbered canonically):
    its silhouette, stability (ARI, Jaccard per segment, the refits' silhouette spread) and structureless
    reference (mean, spread),
    measured exactly as for the local engine."""
    sample = np.sort(np.random.default_rng(config.random_state).permutation(len(points))[:STABILITY_SAMPLE])
    with threadpool_limits(limits=1):
        ari, jaccard, spread = stability(points[sample], labels[sample], k, config)
        return (silhouette(points, labels, config.random_state), ari, jaccard, spread,
                reference_silhouette(points[sample], k, config))
