"""Big tables: above FIT_SAMPLE rows K-Means fits a canonical sample and assigns every row.

The threshold is lowered here so that the path runs on small data; every measure it reports
over all rows is checked against scikit-learn's own functions on all rows.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score
from sklearn.preprocessing import StandardScaler

from generator import maps, scaling
from generator.build import generate
from generator.config import DatasetConfig
from generator.data import Table
from generator.model import segment
from generator.segmentation import QUANTILES, Segmentation
from tests.conftest import MakeProject

ROWS = 6_000
SAMPLE = 1_500


def table_of(values: np.ndarray) -> Table:
    frame = pd.DataFrame(values, columns=["a", "b", "c"])
    return Table(features=frame, ids=None, rows_read=len(frame), dropped={}, sha256="0", origin="test")


def blobs(seed: int = 5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = np.array([[0, 0, 0], [8, 1, 3], [2, 9, 6], [9, 9, -4]], dtype=float)
    group = rng.choice(4, size=ROWS, p=[0.4, 0.3, 0.2, 0.1])
    result: np.ndarray = np.round(centres[group] + rng.normal(size=(ROWS, 3)), 3)
    return result


CONFIG = DatasetConfig(id="big", path="big.yml", title="Big", features=("a", "b", "c"), n_clusters=(2, 6), n_init=3)


Sampled = tuple[np.ndarray, Segmentation, dict[int, np.ndarray]]


@pytest.fixture(scope="module")
def sampled() -> Sampled:
    """The values, their segmentation, and the segment of every row at each evaluated k (that k fitted
    alone, unmeasured: the same fit as in the range)."""
    values = blobs()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(scaling, "FIT_SAMPLE", SAMPLE)
        result, labels = segment(table_of(values), CONFIG)
        every = {c.k: labels if c.k == result.k else
                 segment(table_of(values), replace(CONFIG, n_clusters=c.k), measured=False)[1]
                 for c in result.evidence.candidates}
        return values, result, every


def test_big_tables_fit_a_sample_and_assign_every_row(sampled: Sampled) -> None:
    values, result, every = sampled
    assert (result.population.rows, result.population.fitted) == (ROWS, SAMPLE)
    assert result.k == 4
    assert len(every[result.k]) == ROWS
    scaled = StandardScaler().fit_transform(values)
    for k, labels in every.items():
        centres = np.array([scaled[labels == s].mean(axis=0) for s in range(k)])
        nearest = ((scaled[:, None, :] - centres[None]) ** 2).sum(axis=2).argmin(axis=1)
        assert (nearest == labels).mean() > 0.99  # every row sits with its nearest segment mean


def test_measures_over_all_rows_match_scikit_learn(sampled: Sampled) -> None:
    values, result, every = sampled
    scaled = StandardScaler().fit_transform(values)
    for candidate in result.evidence.candidates:
        labels = every[candidate.k]
        centres = np.array([scaled[labels == s].mean(axis=0) for s in range(candidate.k)])
        inertia = float(((scaled - centres[labels]) ** 2).sum())
        assert candidate.inertia == pytest.approx(inertia, rel=1e-6)
        assert candidate.calinski_harabasz == pytest.approx(calinski_harabasz_score(scaled, labels), rel=1e-6)
        assert candidate.davies_bouldin == pytest.approx(davies_bouldin_score(scaled, labels), rel=1e-6)
        assert candidate.min_share == pytest.approx(np.bincount(labels).min() / ROWS)


def test_sampled_fit_is_as_good_as_fitting_every_row(sampled: Sampled) -> None:
    values, result, _ = sampled
    scaled = StandardScaler().fit_transform(values)
    full = KMeans(n_clusters=result.k, n_init=3, random_state=42).fit(scaled)
    assert result.inertia <= full.inertia_ * 1.005


def test_segments_summarise_every_row(sampled: Sampled) -> None:
    values, result, every = sampled
    for segment_ in result.segments:
        members = values[every[result.k] == segment_.number]
        assert segment_.size == len(members)
        assert segment_.center["b"] == pytest.approx(members[:, 1].mean())
        assert segment_.median["c"] == pytest.approx(float(np.median(members[:, 2])))
        assert segment_.quantiles["a"] == pytest.approx(tuple(np.percentile(members[:, 0], QUANTILES)))


def test_shuffled_rows_give_the_same_segments(sampled: Sampled) -> None:
    values, first, every = sampled
    order = np.random.default_rng(1).permutation(ROWS)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(scaling, "FIT_SAMPLE", SAMPLE)
        second, second_labels = segment(table_of(values[order]), CONFIG)
    assert second.k == first.k
    assert np.array_equal(second_labels, every[first.k][order])
    assert [c.silhouette for c in second.evidence.candidates] == [c.silhouette for c in first.evidence.candidates]
    for mine, theirs in zip(first.segments, second.segments, strict=True):
        assert mine.size == theirs.size
        assert mine.center == pytest.approx(theirs.center, rel=1e-12)


def test_the_canonical_sample_depends_on_values_not_positions() -> None:
    values = blobs(9)
    order = np.random.default_rng(2).permutation(len(values))
    first = scaling.canonical_sample(values, 500, 42)
    second = scaling.canonical_sample(values[order], 500, 42)
    assert len(first) == 500
    assert np.array_equal(values[first], values[order][second])
    assert not np.array_equal(values[first], values[scaling.canonical_sample(values, 500, 7)])


def test_drawn_rows_keep_every_segment(sampled: Sampled) -> None:
    _, result, every = sampled
    assert len(result.maps.drawn) == maps.MAP_SAMPLE or abs(len(result.maps.drawn) - maps.MAP_SAMPLE) <= result.k
    assert set(result.maps.summaries[result.k].drawn.tolist()) == set(range(result.k))
    assert np.array_equal(result.maps.summaries[result.k].drawn, every[result.k][result.maps.drawn])
    assert result.maps.sample.shape == (len(result.maps.drawn), 3)


def test_the_report_says_the_fit_was_on_a_sample(make_project: MakeProject, monkeypatch: pytest.MonkeyPatch) -> None:
    values = blobs(3)
    csv = "a,b,c\n" + "".join(f"{a},{b},{c}\n" for a, b, c in values)
    root = make_project({"big": "title: Big\nsource: t.csv\nfeatures: [a, b, c]\nn_clusters: [2, 5]\nn_init: 2\n"},
                        {"t.csv": csv})
    monkeypatch.setattr(scaling, "FIT_SAMPLE", SAMPLE)
    page = {f.path: f.content for f in generate(root)}["reports/big/index.md"].decode()
    assert f"K-Means was fitted on {SAMPLE:,} customers chosen at random" in page
    assert f"of the {ROWS:,} customers, each segment in proportion" in page  # the maps' sample
