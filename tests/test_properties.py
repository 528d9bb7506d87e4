"""Properties of every segmentation: centres are means, sizes add up, order is canonical."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from generator.config import SCALES, DatasetConfig
from generator.data import Table
from generator.kmeans import canonical_labels
from generator.model import segment
from generator.segmentation import Segmentation

FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NAMES = ("a", "b", "c")


def run(points: np.ndarray, k: int, scale: str) -> tuple[Table, Segmentation, np.ndarray]:
    if scale == "log":  # log1p needs values of 0 or more: the same shapes, moved onto that range
        points = points - points.min()
    frame = pd.DataFrame({NAMES[j]: points[:, j] for j in range(points.shape[1])})
    config = DatasetConfig(id="p", path="site_config/datasets/p.yml", title="P", features=tuple(frame.columns),
                           n_clusters=k, scale=scale, n_init=4)
    table = Table(features=frame, ids=None, rows_read=len(frame), dropped={}, sha256="0" * 64, origin="p")
    return table, *segment(table, config)


@st.composite
def matrices(draw: st.DrawFn) -> tuple[np.ndarray, int]:
    """A small matrix of prices-like numbers (two decimals) with at least k distinct rows."""
    k = draw(st.integers(2, 4))
    width = draw(st.integers(2, 3))
    rows = draw(st.integers(k + 1, 14))
    cells = draw(st.lists(st.integers(-100_000, 100_000), min_size=rows * width, max_size=rows * width))
    points = np.array(cells, dtype=float).reshape(rows, width) / 100
    assume(len(np.unique(points, axis=0)) >= k)
    return points, k


@st.composite
def grouped(draw: st.DrawFn) -> tuple[np.ndarray, int, list[int]]:
    """k groups far apart on the diagonal, each a small jittered cloud; and a row permutation."""
    k = draw(st.integers(2, 4))
    width = draw(st.integers(2, 3))
    sizes = draw(st.lists(st.integers(1, 6), min_size=k, max_size=k))
    rows = []
    for group, size in enumerate(sizes):
        for _ in range(size):
            jitter = draw(st.lists(st.integers(0, 100), min_size=width, max_size=width))
            rows.append([1000.0 * group + j / 100 for j in jitter])
    points = np.array(rows)
    assume(sum(sizes) > k)
    order = draw(st.permutations(range(len(points))))
    return points, k, list(order)


@FAST
@given(data=matrices(), scale=st.sampled_from(SCALES))
def test_centres_are_segment_means_in_original_units(data: tuple[np.ndarray, int], scale: str) -> None:
    points, k = data
    table, result, labels = run(points, k, scale)
    assert result.k == k
    assert [s.number for s in result.segments] == list(range(k))
    assert sorted(set(labels.tolist())) == list(range(k))
    values = table.features.to_numpy()  # the points as clustered (moved to 0 or more under scale: log)
    for s in result.segments:
        members = values[labels == s.number]
        assert s.size == len(members)
        expected = {name: float(members[:, j].mean()) for j, name in enumerate(table.features.columns)}
        assert s.center == pytest.approx(expected, rel=1e-9, abs=1e-9)


@FAST
@given(data=matrices(), scale=st.sampled_from(SCALES))
def test_sizes_and_shares_add_up(data: tuple[np.ndarray, int], scale: str) -> None:
    points, k = data
    table, result, _ = run(points, k, scale)
    sizes = [s.size for s in result.segments]
    assert sum(sizes) == table.rows_used == len(points)
    assert all(size >= 1 for size in sizes)
    assert sizes == sorted(sizes, reverse=True)  # canonical: largest first
    assert sum(s.share for s in result.segments) == pytest.approx(1.0)
    assert [s.share for s in result.segments] == pytest.approx([size / len(points) for size in sizes])


@FAST
@given(data=grouped(), scale=st.sampled_from(SCALES))
def test_shuffled_rows_give_the_same_segments_in_the_same_order(
    data: tuple[np.ndarray, int, list[int]], scale: str
) -> None:
    points, k, order = data
    _, first, first_labels = run(points, k, scale)
    _, second, second_labels = run(points[order], k, scale)
    assert second_labels.tolist() == first_labels[order].tolist()
    assert [(s.number, s.size, s.share) for s in second.segments] == [
        (s.number, s.size, s.share) for s in first.segments
    ]
    for a, b in zip(first.segments, second.segments, strict=True):
        assert b.center == pytest.approx(a.center, rel=1e-12, abs=1e-12)


@FAST
@given(data=st.data())
def test_canonical_labels_ignore_row_order_and_label_numbers(data: st.DataObject) -> None:
    k = data.draw(st.integers(2, 5))
    rows = data.draw(st.integers(k, 15))
    points = np.array(data.draw(st.lists(st.integers(-50, 50), min_size=rows * 2, max_size=rows * 2)),
                      dtype=float).reshape(rows, 2)
    labels = np.array(list(range(k)) + data.draw(st.lists(st.integers(0, k - 1), min_size=rows - k,
                                                          max_size=rows - k)))
    # Segments of equal size must differ in centre, as K-Means segments do.
    keys = {(int((labels == s).sum()), tuple(points[labels == s].mean(axis=0))) for s in range(k)}
    assume(len(keys) == k)
    order = np.array(data.draw(st.permutations(range(rows))))
    renumber = np.array(data.draw(st.permutations(range(k))))

    expected = canonical_labels(points, labels)
    assert canonical_labels(points[order], renumber[labels[order]]).tolist() == expected[order].tolist()
    sizes = np.bincount(expected, minlength=k)
    assert sizes.tolist() == sorted(sizes.tolist(), reverse=True)
