"""K-Means as every fit here runs it, and the canonical numbering of its clusters.

This is the only module that imports `sklearn.cluster`. scikit-learn validates its own
parameters; the callers add only which file and key a problem belongs to. Callers fit on one
thread (`threadpool_limits`): small fits run many times faster so, and results then do not
depend on the number of cores (parallelism belongs to whole datasets).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # scikit-learn loads when something is computed, not for cached reports
    from sklearn.cluster import KMeans

__all__ = ["LIBRARY", "KMeans", "canonical_labels", "canonical_numbers", "canonical_order", "kmeans", "segment_means"]

LIBRARY = "sklearn.cluster"  # by name, for a worker to import before its first fit (see `scheduler`)


def kmeans(k: int, n_init: int, seed: int) -> KMeans:
    """scikit-learn's K-Means with k-means++ starts, `n_init` restarts, seeded with `seed`."""
    from sklearn.cluster import KMeans
    return KMeans(n_clusters=k, n_init=n_init, random_state=seed)


def canonical_labels(scaled: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Renumber segments largest first, ties by centre, so numbering never depends on chance."""
    result: np.ndarray = canonical_numbers(scaled, labels, int(labels.max()) + 1)[labels]
    return result


def canonical_numbers(scaled: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """The canonical number of each of k clusters: largest first, ties by centre."""
    return canonical_order(np.bincount(labels, minlength=k), segment_means(scaled, labels, k))


def canonical_order(sizes: np.ndarray, means: np.ndarray) -> np.ndarray:
    """The canonical number of each cluster, given its size and mean (scaled): largest first, ties
    by mean. Every engine numbers segments with it, so numbers never depend on chance."""
    k = len(sizes)
    order = sorted(range(k), key=lambda s: (-sizes[s], tuple(np.round(means[s], 9))))
    renumber = np.empty(k, dtype=int)
    renumber[order] = np.arange(k)
    return renumber


def segment_means(values: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """The mean of every segment's rows of `values` (segments x features)."""
    sizes = np.bincount(labels, minlength=k).astype(float)
    sums = np.stack([np.bincount(labels, weights=values[:, j], minlength=k) for j in range(values.shape[1])], axis=1)
    result: np.ndarray = sums / sizes[:, None]
    return result
