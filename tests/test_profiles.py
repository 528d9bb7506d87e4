"""profiles: a name and a description for every segment, from its centre."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
import pytest

from generator.config import DatasetConfig
from generator.data import Table
from generator.model import segment
from generator.profiles import Profile, profile, word
from generator.recommendation import Candidate, recommend
from generator.segmentation import Evidence, Population, Segment, Segmentation

LABELS = {"x": "Income", "y": "Age", "z": "Visits"}


def config(features: tuple[str, ...] = ("x", "y"), **options: Any) -> DatasetConfig:
    return DatasetConfig(id="t", path="site_config/datasets/t.yml", title="T", features=features,
                         labels=LABELS, **options)


def segmentation(centres: list[dict[str, float]], overall: dict[str, float],
                 spread: dict[str, float]) -> Segmentation:
    """A one-customer-per-segment result with the given centres, mean and spread."""
    k = len(centres)
    candidate = Candidate(k=k, inertia=0.0, silhouette=None, calinski_harabasz=None, davies_bouldin=None,
                          min_share=1 / k, stability=None)
    segments = tuple(Segment(number=i, size=1, share=1 / k, center=c) for i, c in enumerate(centres))
    return Segmentation(segments, Evidence((candidate,), recommend([candidate])), Population(k, k, overall, spread))


# Mean 100 on both features; x spread 50, y spread 20 (the standard deviation of the centres).
OPPOSITES = segmentation(
    [{"x": 150.0, "y": 80.0}, {"x": 50.0, "y": 120.0}],
    overall={"x": 100.0, "y": 100.0},
    spread={"x": 50.0, "y": 20.0},
)


def test_z_scores_and_index() -> None:
    first, second = profile(OPPOSITES, config())
    assert (first.number, second.number) == (0, 1)
    assert first.z == pytest.approx({"x": 1.0, "y": -1.0})
    assert second.z == pytest.approx({"x": -1.0, "y": 1.0})
    assert first.index == pytest.approx({"x": 150.0, "y": 80.0})
    assert second.index == pytest.approx({"x": 50.0, "y": 120.0})


def test_names_say_high_and_low_with_labels() -> None:
    first, second = profile(OPPOSITES, config())
    assert (first.name, second.name) == ("Higher income, younger", "Lower income, older")


def test_strongest_feature_comes_first() -> None:
    # z: Income +0.5, Age -2.0: Age sets the segment apart most.
    result = segmentation([{"x": 105.0, "y": 40.0}, {"x": 95.0, "y": 160.0}],
                          overall={"x": 100.0, "y": 100.0}, spread={"x": 10.0, "y": 30.0})
    first, _ = profile(result, config())
    assert first.name == "Younger, higher income"


def test_description_mentions_index_values() -> None:
    first, second = profile(OPPOSITES, config())
    # index = centre / mean * 100; |z| = 1 is "much" different.
    assert "Income much higher than average (index 150)" in first.description
    assert "Age much lower than average (index 80)" in first.description
    assert "Income much lower than average (index 50)" in second.description
    assert "Age much higher than average (index 120)" in second.description


def test_description_index_matches_centre_over_mean() -> None:
    result = segmentation([{"x": 123.0, "y": 20.0}, {"x": 77.0, "y": 60.0}],
                          overall={"x": 100.0, "y": 40.0}, spread={"x": 23.0, "y": 20.0})
    for item, centre in zip(profile(result, config()), result.segments, strict=True):
        parts = [re.fullmatch(r"(\w+) .* \(index (\d+)\)", part) for part in item.description.rstrip(".").split("; ")]
        shown = {m.group(1): int(m.group(2)) for m in parts if m is not None}
        expected = {LABELS[f]: round(c / result.population.overall[f] * 100) for f, c in centre.center.items()}
        assert shown == expected
    assert "index 123" in profile(result, config())[0].description
    assert "index 50" in profile(result, config())[0].description


def test_small_differences_are_not_much() -> None:
    result = segmentation([{"x": 105.0, "y": 100.0}, {"x": 95.0, "y": 100.0}],
                          overall={"x": 100.0, "y": 100.0}, spread={"x": 10.0, "y": 10.0})
    first, second = profile(result, config())
    assert first.description == "Income higher than average (index 105)."
    assert second.description == "Income lower than average (index 95)."
    assert first.name == "Higher income"


def test_zero_mean_has_no_index() -> None:
    result = segmentation([{"x": 5.0, "y": 150.0}, {"x": -5.0, "y": 50.0}],
                          overall={"x": 0.0, "y": 100.0}, spread={"x": 5.0, "y": 50.0})
    first, _ = profile(result, config())
    assert first.index == {"x": None, "y": 150.0}
    assert "Income much higher than average;" in first.description
    assert "(index 150)" in first.description


def test_segment_at_the_average_is_close_to_average() -> None:
    result = segmentation([{"x": 100.0, "y": 100.0}, {"x": 150.0, "y": 50.0}, {"x": 50.0, "y": 150.0}],
                          overall={"x": 100.0, "y": 100.0}, spread={"x": 40.0, "y": 40.0})
    middle = profile(result, config())[0]
    assert middle.name == "Average customers"
    assert middle.description == "Close to the overall average on every feature."
    assert middle.index == {"x": 100.0, "y": 100.0}
    assert middle.z == {"x": 0.0, "y": 0.0}


def test_config_names_override_generated_ones() -> None:
    first, second = profile(OPPOSITES, config(names={1: "Careful savers"}))
    assert second.name == "Careful savers"
    assert first.name == "Higher income, younger"
    assert "(index 50)" in second.description  # the description is still generated


def test_equal_generated_names_are_made_unique() -> None:
    # Segments 0 and 1 are both high on Income and low on Age, by different amounts.
    result = segmentation(
        [{"x": 200.0, "y": 50.0}, {"x": 120.0, "y": 80.0}, {"x": -20.0, "y": 160.0}],
        overall={"x": 100.0, "y": 100.0}, spread={"x": 50.0, "y": 50.0},
    )
    names = [p.name for p in profile(result, config())]
    assert len(set(names)) == 3
    for name in names[:2]:
        assert name.startswith("Higher income, younger")


def test_a_further_feature_tells_equal_names_apart() -> None:
    features = ("x", "y", "z")
    result = segmentation(
        [{"x": 200.0, "y": 180.0, "z": 80.0}, {"x": 200.0, "y": 180.0, "z": 120.0},
         {"x": -100.0, "y": -60.0, "z": 100.0}],
        overall={"x": 100.0, "y": 100.0, "z": 100.0}, spread={"x": 50.0, "y": 50.0, "z": 20.0},
    )
    first, second, _ = profile(result, config(features))
    assert first.name != second.name
    for name in (first.name, second.name):
        assert "visits" in name.lower()  # the third feature, not a number, separates them
        assert "(" not in name
    assert (first.name, second.name) == ("Higher income, older, lower visits", "Higher income, older, higher visits")


def test_segments_that_are_all_close_to_average_get_unique_names() -> None:
    result = segmentation([{"x": 101.0, "y": 100.0}, {"x": 99.0, "y": 100.0}],
                          overall={"x": 100.0, "y": 100.0}, spread={"x": 50.0, "y": 50.0})
    names = [p.name for p in profile(result, config())]
    assert len(set(names)) == 2
    assert all(name.startswith("Average customers") for name in names)


def test_profiles_of_a_real_segmentation() -> None:
    """Three groups on a diagonal; the middle one sits exactly at the overall mean."""
    values = [9.0, 11.0, 99.0, 101.0, 189.0, 191.0]
    frame = pd.DataFrame({"x": values, "y": values})
    table = Table(features=frame, ids=None, rows_read=6, dropped={}, sha256="0" * 64, origin="t")
    settings = config(n_clusters=3, scale="none")
    result, _ = segment(table, settings)
    profiles: tuple[Profile, ...] = profile(result, settings)

    assert [s.center for s in result.segments] == [{"x": 10.0, "y": 10.0}, {"x": 100.0, "y": 100.0},
                                                   {"x": 190.0, "y": 190.0}]
    low, middle, high = profiles
    assert middle.name == "Average customers"
    assert middle.index == {"x": 100.0, "y": 100.0}
    assert low.index == pytest.approx({"x": 10.0, "y": 10.0})
    assert high.index == pytest.approx({"x": 190.0, "y": 190.0})
    assert "(index 10)" in low.description
    assert "(index 190)" in high.description
    assert low.name == "Lower income, younger"
    assert high.name == "Higher income, older"
    spread = float(np.std(values))
    assert low.z == pytest.approx({"x": -90.0 / spread, "y": -90.0 / spread})


# --- names that read as words, average segments, names that say different things ------------------

WORDS = [
    ("Annual Income (k$)", "income"),
    ("Spending Score (1-100)", "spending score"),
    ("Total spend [EUR]", "spend"),
    ("CLV", "CLV"),
    ("days_since_visit", "days since visit"),
    ("Average", "average"),
]


@pytest.mark.parametrize(("label", "expected"), WORDS)
def test_a_label_reads_as_a_word_in_a_name(label: str, expected: str) -> None:
    assert word(label) == expected


MALL = {"x": "Annual Income (k$)", "y": "Spending Score (1-100)", "z": "Age"}


def test_names_never_show_units_or_column_headers() -> None:
    result = segmentation([{"x": 150.0, "y": 80.0, "z": 40.0}, {"x": 50.0, "y": 120.0, "z": 20.0}],
                          overall={"x": 100.0, "y": 100.0, "z": 30.0}, spread={"x": 50.0, "y": 20.0, "z": 5.0})
    settings = DatasetConfig(id="t", path="t.yml", title="T", features=("x", "y", "z"), labels=MALL)
    names = [p.name for p in profile(result, settings)]
    assert names == ["Older, higher income", "Younger, lower income"]


@pytest.mark.parametrize("off", [0.0, 0.1, -0.24, 0.249])
def test_within_a_quarter_of_a_standard_deviation_on_every_feature_is_average(off: float) -> None:
    result = segmentation([{"x": 100.0 + 40 * off, "y": 100.0 - 40 * off}, {"x": 200.0, "y": 20.0}],
                          overall={"x": 100.0, "y": 100.0}, spread={"x": 40.0, "y": 40.0})
    assert profile(result, config())[0].name == "Average customers"


def test_a_quarter_of_a_standard_deviation_is_no_longer_average() -> None:
    result = segmentation([{"x": 90.0, "y": 100.0}, {"x": 200.0, "y": 20.0}],
                          overall={"x": 100.0, "y": 100.0}, spread={"x": 40.0, "y": 40.0})
    assert profile(result, config())[0].name == "Lower income"


def test_names_in_another_order_that_say_the_same_get_the_feature_that_tells_them_apart() -> None:
    """Issue 21: "Low A and B" and "Low B and A" were two segments of different people."""
    result = segmentation(
        [{"x": 20.0, "y": 40.0, "z": 100.0}, {"x": 40.0, "y": 20.0, "z": 160.0}, {"x": 200.0, "y": 200.0, "z": 70.0}],
        overall={"x": 100.0, "y": 100.0, "z": 100.0}, spread={"x": 50.0, "y": 50.0, "z": 50.0})
    first, second, _ = profile(result, config(("x", "y", "z")))
    assert (first.name, second.name) == ("Lower income, younger, lower visits",
                                          "Younger, lower income, higher visits")
