"""model: scaling, K-Means, choosing k, canonical order, centres in original units."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.preprocessing import StandardScaler

from generator import measures, scaling
from generator.config import DatasetConfig
from generator.data import Table
from generator.errors import UserError
from generator.kmeans import canonical_labels
from generator.model import segment
from generator.recommendation import structure
from generator.segmentation import Segmentation

PATH = "site_config/datasets/t.yml"

# The tutorial's six customers.
TUTORIAL = {"Age": [19, 35, 26, 27, 50, 45], "AnnualSpend": [15000, 35000, 18000, 22000, 55000, 48000]}
# Two tight groups far apart along x (and y): {1, 2, 3, 4} and {100, 102}, rows interleaved.
SEPARABLE = {"x": [100, 1, 2, 102, 3, 4], "y": [50, 5, 5, 50, 5, 5]}


def dataset(columns: dict[str, Any], **options: Any) -> tuple[DatasetConfig, Table]:
    """A config and a table built directly, without files."""
    frame = pd.DataFrame({name: np.asarray(values, dtype=float) for name, values in columns.items()})
    config = DatasetConfig(id="t", path=PATH, title="T", features=tuple(frame.columns), **options)
    table = Table(features=frame, ids=None, rows_read=len(frame), dropped={}, sha256="0" * 64, origin="t")
    return config, table


def group_means(table: Table, labels: np.ndarray) -> dict[int, dict[str, float]]:
    """Mean of every feature per label, computed independently with pandas."""
    means = table.features.groupby(labels).mean()
    return {int(number): {str(k): float(v) for k, v in row.items()} for number, row in means.iterrows()}


def check_centres_are_means(result: Segmentation, labels: np.ndarray, table: Table) -> None:
    means = group_means(table, labels)
    assert sorted(means) == [s.number for s in result.segments]
    for s in result.segments:
        assert s.center == pytest.approx(means[s.number], rel=1e-12)


# --- the tutorial's six customers --------------------------------------------------------


def test_tutorial_customers_with_two_segments_unscaled() -> None:
    config, table = dataset(TUTORIAL, scale="none", n_clusters=2)
    result, labels = segment(table, config)

    # Young low spenders {19, 26, 27} and older high spenders {35, 50, 45}; equal sizes, so
    # the tie is broken by centre: the lower centre is segment 0.
    assert labels.tolist() == [0, 1, 0, 0, 1, 1]
    assert [s.size for s in result.segments] == [3, 3]
    assert [s.share for s in result.segments] == [0.5, 0.5]
    assert result.segments[0].center == pytest.approx({"Age": 24.0, "AnnualSpend": 55000 / 3})
    assert result.segments[1].center == pytest.approx({"Age": 130 / 3, "AnnualSpend": 46000.0})
    # Sum of squares: Age 38 + 350/3, AnnualSpend 74_000_000/3 + 206_000_000.
    assert result.inertia == pytest.approx(692_000_464 / 3)
    check_centres_are_means(result, labels, table)
    assert sum(s.size for s in result.segments) == table.rows_used == 6
    assert sum(s.share for s in result.segments) == pytest.approx(1.0)
    assert result.k == 2
    # A fixed k is used, and k = 2..5 (at most rows - 1) are still measured as evidence.
    assert [c.k for c in result.evidence.candidates] == [2, 3, 4, 5]
    first = result.evidence.candidates[0]
    assert (first.inertia, first.silhouette) == (result.inertia, result.silhouette)
    assert result.evidence.fixed
    assert result.silhouette == pytest.approx(silhouette_score(table.features.to_numpy(), labels))


def test_tutorial_overall_mean_and_spread() -> None:
    config, table = dataset(TUTORIAL, scale="none", n_clusters=2)
    result, _ = segment(table, config)
    assert result.population.overall == pytest.approx({"Age": 202 / 6, "AnnualSpend": 193000 / 6})
    assert result.population.spread == pytest.approx({"Age": float(np.std(TUTORIAL["Age"])),
                                           "AnnualSpend": float(np.std(TUTORIAL["AnnualSpend"]))})


# --- a hand-checkable separable dataset ------------------------------------------------------


@pytest.mark.parametrize("scale", ["standard", "minmax", "robust", "none"])
def test_separable_groups_exact_centres_in_original_units(scale: str) -> None:
    config, table = dataset(SEPARABLE, scale=scale, n_clusters=2)
    result, labels = segment(table, config)

    assert labels.tolist() == [1, 0, 0, 1, 0, 0]  # the larger group is segment 0
    assert [(s.number, s.size) for s in result.segments] == [(0, 4), (1, 2)]
    assert [s.share for s in result.segments] == pytest.approx([4 / 6, 2 / 6])
    assert result.segments[0].center == {"x": 2.5, "y": 5.0}
    assert result.segments[1].center == {"x": 101.0, "y": 50.0}
    check_centres_are_means(result, labels, table)


def test_separable_groups_inertia_unscaled() -> None:
    config, table = dataset(SEPARABLE, scale="none", n_clusters=2)
    result, _ = segment(table, config)
    # x: 1.5² + 0.5² + 0.5² + 1.5² = 5 and 1² + 1² = 2; y is constant within each group.
    assert result.inertia == pytest.approx(7.0)


@pytest.mark.parametrize("scale", ["standard", "minmax", "robust", "none"])
def test_centres_are_group_means_of_raw_data_for_every_scale(scale: str) -> None:
    frame, _ = make_blobs(n_samples=40, centers=3, n_features=3, cluster_std=2.0, random_state=3)
    columns = {"a": frame[:, 0] * 1000, "b": frame[:, 1], "c": frame[:, 2] / 10 + 5}
    config, table = dataset(columns, scale=scale, n_clusters=3)
    result, labels = segment(table, config)
    check_centres_are_means(result, labels, table)
    assert result.population.overall == pytest.approx({name: float(np.mean(v)) for name, v in columns.items()})


# --- canonical order --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scaled", "labels", "expected"),
    [
        ([[0.0], [1.0], [2.0], [10.0], [11.0]], [1, 1, 1, 0, 0], [0, 0, 0, 1, 1]),  # largest first
        ([[5.0], [0.0]], [0, 1], [1, 0]),  # equal sizes: lower centre first
        ([[1.0, 9.0], [1.0, 2.0], [3.0, 0.0]], [0, 1, 2], [1, 0, 2]),  # ties by centre, then next axis
        ([[0.0], [0.0], [7.0], [7.0], [7.0], [9.0]], [2, 2, 0, 0, 0, 1], [1, 1, 0, 0, 0, 2]),
    ],
)
def test_canonical_labels(scaled: list[list[float]], labels: list[int], expected: list[int]) -> None:
    assert canonical_labels(np.array(scaled), np.array(labels)).tolist() == expected


@pytest.mark.parametrize(("columns", "k"), [(SEPARABLE, 2), (TUTORIAL, 2)])
def test_shuffled_rows_give_the_same_segments(columns: dict[str, list[int]], k: int) -> None:
    config, table = dataset(columns, n_clusters=k)
    order = [3, 5, 0, 4, 2, 1]
    shuffled_config, shuffled = dataset({n: [v[i] for i in order] for n, v in columns.items()}, n_clusters=k)
    (first, first_labels), (second, second_labels) = segment(table, config), segment(shuffled, shuffled_config)

    assert second_labels.tolist() == first_labels[order].tolist()
    assert [(s.number, s.size, s.share) for s in second.segments] == [
        (s.number, s.size, s.share) for s in first.segments
    ]
    for a, b in zip(first.segments, second.segments, strict=True):
        assert b.center == pytest.approx(a.center, rel=1e-12)


def test_shuffled_blobs_give_the_same_segments() -> None:
    points, _ = make_blobs(n_samples=[30, 20, 10], centers=None, cluster_std=0.4, random_state=7)
    order = np.random.default_rng(0).permutation(len(points))
    config, table = dataset({"a": points[:, 0], "b": points[:, 1]}, n_clusters=3)
    _, shuffled = dataset({"a": points[order, 0], "b": points[order, 1]}, n_clusters=3)
    (first, first_labels), (second, second_labels) = segment(table, config), segment(shuffled, config)

    assert [s.size for s in first.segments] == [30, 20, 10]
    assert second_labels.tolist() == first_labels[order].tolist()
    for a, b in zip(first.segments, second.segments, strict=True):
        assert (b.number, b.size) == (a.number, a.size)
        assert b.center == pytest.approx(a.center, rel=1e-12)


# --- choosing k -------------------------------------------------------------------------------


def test_range_evaluates_every_k_and_picks_the_best_silhouette() -> None:
    points, _ = make_blobs(n_samples=30, centers=3, cluster_std=1.5, random_state=11)
    # The model works on rows sorted by value (so input order changes nothing); so does this test.
    points = points[np.lexsort(points.T[::-1])]
    config, table = dataset({"a": points[:, 0], "b": points[:, 1]}, n_clusters=(2, 5))
    result, labels = segment(table, config)

    assert [c.k for c in result.evidence.candidates] == [2, 3, 4, 5]
    inertias = [c.inertia for c in result.evidence.candidates]
    assert all(a > b for a, b in pairwise(inertias))
    # Independently: scale, fit and score every k.
    scaled = StandardScaler().fit_transform(points)
    expected = {}
    for k in range(2, 6):
        fit = KMeans(n_clusters=k, n_init=10, random_state=42).fit(scaled)
        expected[k] = float(silhouette_score(scaled, fit.labels_))
    assert {c.k: c.silhouette for c in result.evidence.candidates} == pytest.approx(expected)
    best = max(expected, key=lambda k: expected[k])
    assert result.k == best == len(result.segments)
    assert result.silhouette == pytest.approx(silhouette_score(scaled, labels))
    assert result.inertia == next(c.inertia for c in result.evidence.candidates if c.k == best)
    assert f"k = {best}" in result.evidence.reason


def test_tutorial_range_prefers_two_segments() -> None:
    config, table = dataset(TUTORIAL, scale="none", n_clusters=(2, 5))
    result, _ = segment(table, config)
    assert [c.k for c in result.evidence.candidates] == [2, 3, 4, 5]
    silhouettes = {c.k: c.silhouette for c in result.evidence.candidates}
    assert result.k == 2
    assert silhouettes[2] == max(s for s in silhouettes.values() if s is not None)


@pytest.mark.parametrize(
    "centers",
    [
        [[0.0, 0.0], [10.0, 0.0], [5.0, 10.0]],
        [[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]],
    ],
)
def test_well_separated_blobs_give_the_true_k_and_a_clear_structure(centers: list[list[float]]) -> None:
    points, truth = make_blobs(n_samples=120, centers=np.array(centers), cluster_std=0.7, random_state=0)
    config, table = dataset({"a": points[:, 0], "b": points[:, 1]}, n_clusters=(2, 6))
    result, labels = segment(table, config)
    assert result.k == len(centers)
    assert result.structure == "clear"
    assert adjusted_rand_score(truth, labels) == 1.0  # the same partition, any numbering


def test_uniform_noise_has_no_clear_structure() -> None:
    points = np.random.default_rng(1).uniform(size=(200, 2))
    config, table = dataset({"a": points[:, 0], "b": points[:, 1]}, n_clusters=(2, 6))
    result, _ = segment(table, config)
    assert result.silhouette is not None
    assert result.reference_silhouette is not None
    # K-Means on noise scores about what it scores on structureless reference data.
    assert abs(result.silhouette - result.reference_silhouette) < 0.05
    assert result.structure == "none"


@pytest.mark.parametrize(
    ("silhouette", "reference", "stability", "expected"),
    [
        (None, 0.3, 0.9, "none"),
        (0.25, None, None, "none"),  # Kaufman & Rousseeuw: no substantial structure
        (0.45, 0.42, 0.9, "none"),  # hardly better than structureless data
        (0.45, 0.30, 0.9, "weak"),
        (0.50, 0.20, 0.9, "weak"),  # not above 0.5
        (0.70, 0.62, 0.9, "weak"),  # not far enough above the reference
        (0.70, 0.30, 0.5, "weak"),  # unstable
        (0.70, 0.30, 0.9, "clear"),
        (0.70, None, None, "clear"),
    ],
)
def test_structure_thresholds(silhouette: float | None, reference: float | None, stability: float | None,
                              expected: str) -> None:
    assert structure(silhouette, reference, stability) == expected


# --- user errors ------------------------------------------------------------------------------


def test_fixed_k_with_fewer_distinct_points_than_k() -> None:
    config, table = dataset({"x": [1, 1, 1, 5, 5], "y": [2, 2, 2, 6, 6]}, n_clusters=3)
    with pytest.raises(UserError, match="n_clusters") as error:
        segment(table, config)
    assert PATH in str(error.value)
    assert "2" in str(error.value)  # the number of distinct customers


def test_fixed_k_equal_to_distinct_points_works() -> None:
    config, table = dataset({"x": [1, 1, 5, 5, 9], "y": [2, 2, 6, 6, 9]}, scale="none", n_clusters=3)
    result, _ = segment(table, config)
    assert [(s.size, s.center) for s in result.segments] == [
        (2, {"x": 1.0, "y": 2.0}), (2, {"x": 5.0, "y": 6.0}), (1, {"x": 9.0, "y": 9.0})
    ]


def test_range_starting_above_rows_minus_one() -> None:
    config, table = dataset({"x": [1, 2, 9], "y": [1, 3, 7]}, n_clusters=(3, 5))
    with pytest.raises(UserError, match="n_clusters") as error:
        segment(table, config)
    assert PATH in str(error.value)


def test_range_starting_above_distinct_points() -> None:
    config, table = dataset({"x": [1, 1, 1, 5, 5, 5], "y": [1, 1, 1, 5, 5, 5]}, n_clusters=(3, 5))
    with pytest.raises(UserError, match="n_clusters"):
        segment(table, config)


def test_range_is_cut_to_what_the_data_allows() -> None:
    config, table = dataset({"x": [1, 2, 9], "y": [1, 3, 7]}, n_clusters=(2, 5))
    result, _ = segment(table, config)
    assert [c.k for c in result.evidence.candidates] == [2]  # k <= rows - 1
    assert result.k == 2


# --- PCA map ----------------------------------------------------------------------------------


def test_no_projection_with_two_features() -> None:
    config, table = dataset(SEPARABLE, n_clusters=2)
    assert segment(table, config)[0].maps.projection is None


def test_projection_with_three_features() -> None:
    points, _ = make_blobs(n_samples=45, centers=3, n_features=4, cluster_std=1.0, random_state=5)
    columns = {name: points[:, j] for j, name in enumerate("abcd")}
    config, table = dataset(columns, n_clusters=3)
    result, labels = segment(table, config)
    pca = result.maps.projection
    assert pca is not None
    assert pca.points.shape == (45, 2)
    assert pca.centers.shape == (3, 2)
    first, second = pca.explained
    assert 0.0 <= second <= first <= 1.0
    assert first + second <= 1.0 + 1e-12
    independent = PCA(n_components=2).fit(StandardScaler().fit_transform(points))
    assert pca.explained == pytest.approx(tuple(independent.explained_variance_ratio_))
    for number in range(3):
        assert pca.centers[number] == pytest.approx(pca.points[labels == number].mean(axis=0))


# --- determinism and sampling -------------------------------------------------------------------


def test_two_runs_are_identical() -> None:
    points, _ = make_blobs(n_samples=60, centers=4, n_features=3, cluster_std=2.0, random_state=2)
    config, table = dataset({name: points[:, j] for j, name in enumerate("abc")}, n_clusters=(2, 5))
    (first, first_labels), (second, second_labels) = segment(table, config), segment(table, config)
    assert np.array_equal(first_labels, second_labels)
    assert first.segments == second.segments
    assert first.evidence.candidates == second.evidence.candidates
    assert (first.k, first.inertia, first.silhouette) == (second.k, second.inertia, second.silhouette)
    assert first.maps.projection is not None
    assert second.maps.projection is not None
    assert np.array_equal(first.maps.projection.points, second.maps.projection.points)


def two_groups(rows: int) -> dict[str, np.ndarray]:
    noise = np.random.default_rng(4).normal(0.0, 0.5, size=(rows, 2))
    offset = np.where(np.arange(rows) % 2 == 0, 0.0, 20.0)
    return {"a": noise[:, 0] + offset, "b": noise[:, 1] + offset}


def test_silhouette_is_sampled_above_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(measures, "SILHOUETTE_SAMPLE", 20)
    config, table = dataset(two_groups(40), n_clusters=2)
    result, labels = segment(table, config)
    assert result.evidence.silhouette_sampled
    # The sample is drawn, seeded with random_state, from the rows in canonical (sorted) order.
    values = table.features.to_numpy()
    ordered = np.lexsort(values.T[::-1])
    scaled = StandardScaler().fit_transform(values)
    rows = ordered[np.random.default_rng(42).choice(40, 20, replace=False)]
    assert len(set(labels[rows])) == 2
    expected = silhouette_score(scaled[rows], labels[rows])
    assert result.silhouette == pytest.approx(expected)


def test_silhouette_is_exact_at_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(measures, "SILHOUETTE_SAMPLE", 20)
    config, table = dataset(two_groups(20), n_clusters=2)
    result, labels = segment(table, config)
    assert not result.evidence.silhouette_sampled
    scaled = StandardScaler().fit_transform(table.features.to_numpy())
    assert result.silhouette == pytest.approx(silhouette_score(scaled, labels))


def test_sampled_silhouette_survives_a_sample_that_misses_a_segment(monkeypatch: pytest.MonkeyPatch) -> None:
    """One far-out customer is a segment of its own; the silhouette sample may not contain it."""
    monkeypatch.setattr(measures, "SILHOUETTE_SAMPLE", 10)
    rows = 30
    sampled = set(np.random.RandomState(42).permutation(rows)[:10].tolist())  # sklearn's sample
    outlier = min(set(range(rows)) - sampled)
    points = np.random.default_rng(0).normal(0.0, 1.0, size=(rows, 2))
    points[outlier] = [100.0, 100.0]
    config, table = dataset({"a": points[:, 0], "b": points[:, 1]}, n_clusters=2)

    result, _ = segment(table, config)  # raises ValueError ("Number of labels is 1") today

    assert [s.size for s in result.segments] == [29, 1]
    assert result.evidence.silhouette_sampled
    assert result.silhouette is None or -1.0 <= result.silhouette <= 1.0


@pytest.mark.parametrize("method", ["standard", "minmax", "robust", "none"])
def test_scaling_is_what_scikit_learns_scalers_do(method: str) -> None:
    """One scaling for every table, fitted column by column and rounded to DIGITS significant digits:
    the same values as scikit-learn's scalers, a constant column included."""
    from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler
    rng = np.random.default_rng(5)
    values = np.column_stack([rng.lognormal(3, 1, 500), rng.normal(-20, 4, 500), np.full(500, 7.0)])
    scalers = {"standard": StandardScaler(), "minmax": MinMaxScaler(), "robust": RobustScaler()}
    expected = scalers[method].fit_transform(values) if method in scalers else values
    assert scaling.scaling(values, method).apply(values) == pytest.approx(expected, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize(("rows", "k", "seed"), [(500, 2, 0), (500, 5, 1), (500, 8, 2), (37, 3, 3), (60, 30, 4)])
def test_the_refits_silhouette_is_scikit_learns_to_the_last_bit(rows: int, k: int, seed: int) -> None:
    """The stability refits' silhouettes come from one distance matrix (measures.mean_silhouette): the same
    number, bit for bit, as scikit-learn's silhouette_score on the same rows, also with a segment of
    one row and with segment numbers that skip some (a refit's labels on a sample)."""
    from sklearn.metrics import pairwise_distances
    rng = np.random.default_rng(seed)
    points = rng.normal(size=(rows, 8)) + rng.integers(0, 3, size=(rows, 1))
    labels = rng.integers(0, k, size=rows) * 2  # every other number unused
    labels[0] = 2 * k + 1  # a segment of one row
    distances = pairwise_distances(points)
    ours = measures.mean_silhouette(distances, labels)
    assert ours == silhouette_score(distances, labels, metric="precomputed")
    assert ours == silhouette_score(points, labels)
