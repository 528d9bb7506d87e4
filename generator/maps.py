"""What the segment maps draw: which rows (all, or a sample keeping every segment's share) and,
for more than two features, a PCA projection of the scaled features.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["MAP_SAMPLE", "Projection", "drawn_rows", "projection"]

MAP_SAMPLE = 5_000  # segment maps of more customers draw a sample, each segment in proportion


@dataclass(frozen=True)
class Projection:
    """A two-dimensional PCA map of the scaled features, for more than two features."""

    points: np.ndarray  # the drawn rows (Segmentation.drawn) x 2
    centers: np.ndarray  # segments x 2, the projected segment means
    explained: tuple[float, float]  # share of variance each axis explains


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


def projection(fitted: np.ndarray, drawn: np.ndarray, centers: np.ndarray) -> Projection:
    """PCA fitted on `fitted` (scaled rows); `drawn` rows and segment `centers` mapped by it."""
    from sklearn.decomposition import PCA
    pca = PCA(n_components=2, svd_solver="full").fit(fitted)
    ratio = pca.explained_variance_ratio_
    return Projection(points=pca.transform(drawn), centers=pca.transform(centers),
                      explained=(float(ratio[0]), float(ratio[1])))
