"""illustrations: alt texts written from the data, checked against numbers recomputed here."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler

from generator.build import analyse
from generator.config import DatasetConfig
from generator.data import Table
from generator.formats import column, number, signed
from generator.recommendation import Candidate, knee
from generator.results import Report
from generator.segmentation import Segmentation

FEATURES = ("age", "spend", "visits")
LABELS = {"age": "Age (years)", "spend": "Annual spend", "visits": "Visits"}
SIZES = (40, 30, 20)  # distinct sizes: canonical order (largest first) is the order of the groups
CENTRES = ((25.0, 800.0, 4.0), (48.0, 3000.0, 12.0), (63.0, 1500.0, 30.0))
SPREADS = (3.0, 150.0, 1.5)


def groups() -> tuple[pd.DataFrame, np.ndarray]:
    """Three well-separated groups in three features of unlike units, rows shuffled; and the group
    of every row, numbered largest first."""
    rng = np.random.default_rng(7)
    rows = np.vstack([rng.normal(centre, SPREADS, size=(size, 3)).round(1) for centre, size in zip(CENTRES, SIZES,
                                                                                                  strict=True)])
    truth = np.repeat(np.arange(3), SIZES)
    order = rng.permutation(len(rows))
    return pd.DataFrame(rows[order], columns=list(FEATURES)), truth[order]


def report(**options: Any) -> tuple[Report, np.ndarray]:
    frame, truth = groups()
    config = DatasetConfig(id="t", path="site_config/datasets/t.yml", title="T", features=FEATURES, labels=LABELS,
                           **options)
    table = Table(features=frame, ids=None, rows_read=len(frame), dropped={}, sha256="0" * 64, origin="t")
    return analyse(config, table), truth


@pytest.fixture(scope="module")
def chosen() -> tuple[Report, np.ndarray]:
    """k chosen by the rule from 2..5."""
    return report(n_clusters=(2, 5))


@pytest.fixture(scope="module")
def fixed() -> tuple[Report, np.ndarray]:
    """k fixed at 2 on data with three groups: the chosen k is not the best-silhouette k."""
    return report(n_clusters=2)


def standardised(rep: Report) -> np.ndarray:
    scaled: np.ndarray = StandardScaler().fit_transform(groups()[0].to_numpy())  # the rows analysed
    return scaled


def every_k(result: Segmentation) -> dict[int, np.ndarray]:
    """The segment of every customer at each evaluated k: the maps draw every customer of these small tables."""
    assert np.array_equal(result.maps.drawn, np.arange(result.population.rows))
    return {k: s.drawn for k, s in result.maps.summaries.items()}


def inertia_of(points: np.ndarray, labels: np.ndarray) -> float:
    """Within-segment sum of squares, from the labels alone."""
    return float(sum(((points[labels == s] - points[labels == s].mean(axis=0)) ** 2).sum() for s in np.unique(labels)))


def test_the_model_finds_the_three_groups_in_size_order(chosen: tuple[Report, np.ndarray]) -> None:
    """The premise of the checks below: segment s is group s."""
    result, truth = chosen[0].result, chosen[1]
    assert result.k == 3
    assert result.maps.drawn.tolist() == list(range(len(truth)))  # the maps draw every customer
    assert result.maps.summaries[3].drawn.tolist() == truth.tolist()


# --- box plots: the medians ------------------------------------------------------------------------


def test_box_plot_alt_text_gives_every_segments_median(chosen: tuple[Report, np.ndarray]) -> None:
    rep, truth = chosen
    alt = rep.illustrations.distributions.alt
    values = groups()[0]  # the rows analysed
    for feature in FEATURES:
        medians = [float(np.median(values[feature].to_numpy()[truth == s])) for s in range(3)]
        expected = ", ".join(f"{number(m)} in segment {s}" for s, m in enumerate(medians))
        assert f"Median of {LABELS[feature]}: {expected}." in alt, (feature, alt)


# --- profile chart: z of every centre ------------------------------------------------------------


def test_profile_alt_text_gives_every_segments_z_values(chosen: tuple[Report, np.ndarray]) -> None:
    rep, truth = chosen
    alt = rep.illustrations.profiles.alt
    values = groups()[0].to_numpy()  # the rows analysed
    mean, spread = values.mean(axis=0), values.std(axis=0, ddof=0)
    for s, named in enumerate(rep.profiles):
        z = (values[truth == s].mean(axis=0) - mean) / spread
        shown = ", ".join(f"{LABELS[f]} {signed(v)}" for f, v in zip(FEATURES, z, strict=True))
        assert f"Segment {s}, {named.name}: {shown}." in alt, (s, alt)


def test_profile_alt_text_signs_follow_the_groups(chosen: tuple[Report, np.ndarray]) -> None:
    """Written out: the youngest, lowest-spending group sits below average on every feature."""
    alt = chosen[0].illustrations.profiles.alt
    first = re.search(r"Segment 0, [^:]+: (.*?)\.(?: Segment|$)", alt)
    assert first is not None, alt
    assert [part.rsplit(" ", 1)[1][0] for part in first.group(1).split(", ")] == ["-", "-", "-"]


# --- Choosing k: the diagnostics chart -------------------------------------------------------------


@pytest.mark.parametrize("case", ["chosen", "fixed"])
def test_diagnostics_alt_text_names_the_best_silhouette_and_the_chosen_k(
        case: str, request: pytest.FixtureRequest) -> None:
    rep, _ = request.getfixturevalue(case)
    result = rep.result
    ks = [c.k for c in result.evidence.candidates]
    scaled = standardised(rep)
    silhouettes = {k: float(silhouette_score(scaled, labels)) for k, labels in every_k(result).items()}
    best = max(ks, key=lambda k: (silhouettes[k], -k))
    alt = rep.illustrations.diagnostics.alt

    assert best == 3
    assert f"The mean silhouette is highest at k = {best} ({silhouettes[best]:.3f})" in alt, alt
    assert f"The chosen k = {result.k} is circled." in alt, alt
    assert f"over k from {ks[0]} to {ks[-1]}" in alt, alt


def test_diagnostics_alt_text_with_a_fixed_k_names_both(fixed: tuple[Report, np.ndarray]) -> None:
    alt = fixed[0].illustrations.diagnostics.alt
    assert fixed[0].result.k == 2
    assert "highest at k = 3 " in alt
    assert "The chosen k = 2 is circled." in alt


def test_diagnostics_alt_text_gives_inertia_and_elbow(chosen: tuple[Report, np.ndarray]) -> None:
    rep = chosen[0]
    ks = [c.k for c in rep.result.evidence.candidates]
    scaled = standardised(rep)
    # The within-segment sum of squares of every partition, recomputed from its labels. K-Means
    # measures inertia to its last centres, which can sit a hair off the means (it stops at `tol`).
    assert rep.result.maps.drawn.tolist() == list(range(len(scaled)))  # every customer: every k's labels
    within = {k: inertia_of(scaled, rep.result.maps.summaries[k].drawn) for k in ks}
    inertia = {c.k: c.inertia for c in rep.result.evidence.candidates}
    assert inertia == pytest.approx(within, rel=1e-2)
    elbow = knee([Candidate(k, within[k], None, None, None, 1.0, None) for k in ks])
    alt = rep.illustrations.diagnostics.alt
    assert elbow == 3
    shown = column([inertia[k] for k in ks])  # as the choosing-k table shows them
    assert (f"Inertia falls from {shown[0]} at k = {ks[0]} to {shown[-1]} "
            f"at k = {ks[-1]}, with its elbow at k = {elbow}.") in alt, alt


# --- a segment map for every evaluated k --------------------------------------------------------------


@pytest.mark.parametrize("case", ["chosen", "fixed"])
def test_every_candidate_map_names_its_k_and_each_segments_size(case: str, request: pytest.FixtureRequest) -> None:
    rep, _ = request.getfixturevalue(case)
    ks = [c.k for c in rep.result.evidence.candidates]
    image = rep.illustrations.candidates  # every k's map on one figure, side by side
    assert image.src == "candidates.png"
    sections = dict(re.findall(r"Segment map for k = (\d+): (.*?)(?= Segment map for k = |$)", image.alt))
    assert sorted(int(k) for k in sections) == ks, image.alt
    header, *rows = image.data
    assert header[:3] == ("Map", "Segment", "Customers")  # a map's title: "k = 3", "k = 5 (chosen)"
    for k in ks:
        shown = [(int(s), int(n.replace(",", ""))) for s, n in re.findall(r"Segment (\d+): ([\d,]+) customers?",
                                                                         sections[str(k)])]
        labels = every_k(rep.result)[k]
        assert shown == list(enumerate(np.bincount(labels).tolist())), (k, image.alt)
        assert [n for _, n in shown] == sorted((n for _, n in shown), reverse=True)  # largest first
        assert sum(n for _, n in shown) == rep.table.rows_used
        assert [(int(s), int(n.replace(",", ""))) for title, s, n, *_ in rows
                if title.split(" (")[0] == f"k = {k}"] == shown


def test_candidate_map_of_the_chosen_k_agrees_with_the_segments(chosen: tuple[Report, np.ndarray]) -> None:
    rep = chosen[0]
    alt = rep.illustrations.candidates.alt
    section = alt.split(f"Segment map for k = {rep.result.k}:")[1].split("Segment map for k =")[0]
    assert f"k = {rep.result.k} (chosen)" in {row[0] for row in rep.illustrations.candidates.data[1:]}
    for s, size in enumerate(SIZES):
        assert f"Segment {s}: {size} customers," in section, alt


# --- the images themselves --------------------------------------------------------------------------


def test_every_image_is_a_png_with_a_unique_name(chosen: tuple[Report, np.ndarray]) -> None:
    images = chosen[0].illustrations.images()
    names = [image.src for image in images]
    assert len(names) == len(set(names))
    assert {"segments.png", "pca.png", "choosing-k.png", "distributions.png", "profiles.png"} <= set(names)
    for image in images:
        assert image.content.startswith(b"\x89PNG\r\n\x1a\n"), image.src
        assert image.alt, image.src
        assert image.caption, image.src


@pytest.mark.parametrize("case", ["chosen", "fixed"])
def test_two_runs_draw_identical_images_and_alt_texts(case: str, request: pytest.FixtureRequest) -> None:
    first, _ = request.getfixturevalue(case)
    options: dict[str, Any] = {"n_clusters": first.config.n_clusters}
    second, _ = report(**options)
    assert [(i.src, i.alt, i.caption) for i in first.illustrations.images()] == [
        (i.src, i.alt, i.caption) for i in second.illustrations.images()]
    for a, b in zip(first.illustrations.images(), second.illustrations.images(), strict=True):
        assert a.content == b.content, a.src


def test_large_maps_draw_a_proportional_sample_that_keeps_every_segment() -> None:
    from generator.maps import MAP_SAMPLE, drawn_rows

    labels = np.repeat([0, 1, 2], [15_000, 4_990, 10])
    rows = drawn_rows(labels, 42)
    counts = np.bincount(labels[rows])
    assert abs(len(rows) - MAP_SAMPLE) <= 3
    assert counts.tolist() == [3750, 1248, 2]  # 75%, 25% and the small segment still present
    assert np.array_equal(rows, drawn_rows(labels, 42))
    assert np.array_equal(drawn_rows(labels[:100], 42), np.arange(100))
