"""recommendation: the rule that picks k, the elbow, Hennig's bands and the structure verdict."""

from __future__ import annotations

import pytest

from generator.recommendation import (
    CLEAR_SILHOUETTE,
    MIN_SHARE,
    NO_STRUCTURE_SILHOUETTE,
    REASONS,
    STABLE_ARI,
    Candidate,
    band,
    floor_for,
    knee,
    reach,
    recommend,
    structure,
    verdict,
)


def cand(k: int, silhouette: float | None, min_share: float = 0.2, stability: float | None = 0.9,
         inertia: float = 0.0) -> Candidate:
    """A candidate with only the measures the rule reads."""
    return Candidate(k=k, inertia=inertia, silhouette=silhouette, calinski_harabasz=None, davies_bouldin=None,
                     min_share=min_share, stability=stability)


def curve(ks: list[int], inertias: list[float]) -> list[Candidate]:
    return [cand(k, None, inertia=i) for k, i in zip(ks, inertias, strict=True)]


def test_the_constants_are_the_documented_ones() -> None:
    assert (MIN_SHARE, STABLE_ARI, NO_STRUCTURE_SILHOUETTE, CLEAR_SILHOUETTE) == (0.05, 0.75, 0.25, 0.5)


# --- recommend: which k ------------------------------------------------------------------------

# Each row: candidates as (k, silhouette, min_share, stability) -> the recommended k.
RULE = [
    pytest.param([(2, 0.5, 0.3, 0.9), (3, 0.7, 0.2, 0.9), (4, 0.6, 0.1, 0.9)], 3, id="best-silhouette"),
    pytest.param([(2, 0.5, 0.3, 0.9), (3, 0.7, 0.04, 0.9), (4, 0.6, 0.1, 0.9)], 4, id="too-small-segment"),
    pytest.param([(2, 0.5, 0.3, 0.9), (3, 0.7, 0.2, 0.74), (4, 0.6, 0.1, 0.9)], 4, id="unstable"),
    pytest.param([(2, 0.5, 0.3, 0.9), (3, 0.7, 0.05, 0.75)], 3, id="share-and-stability-at-the-limits"),
    pytest.param([(2, 0.5, 0.3, 0.9), (3, 0.7, 0.2, None)], 3, id="unmeasured-stability-does-not-exclude"),
    pytest.param([(2, 0.6, 0.3, 0.9), (3, 0.6, 0.2, 0.9), (4, 0.6, 0.2, 0.9)], 2, id="tie-to-smaller-k"),
    pytest.param([(4, 0.6, 0.2, 0.9), (3, 0.6, 0.2, 0.9)], 3, id="tie-to-smaller-k-in-any-order"),
    pytest.param([(2, None, 0.5, 0.9), (3, -0.1, 0.2, 0.9)], 3, id="undefined-silhouette-ranks-last"),
    pytest.param([(2, 0.5, 0.3, 0.5), (3, 0.7, 0.2, 0.6), (4, 0.6, 0.1, 0.7)], 3, id="none-stable"),
    pytest.param([(2, 0.5, 0.3, 0.5), (3, 0.7, 0.01, 0.6), (4, 0.6, 0.1, 0.7)], 4, id="none-stable-small-excluded"),
    pytest.param([(2, 0.5, 0.3, 0.5), (3, 0.5, 0.2, 0.6)], 2, id="none-stable-tie"),
    pytest.param([(2, 0.5, 0.04, 0.9), (3, 0.7, 0.02, 0.9), (4, 0.6, 0.0, 0.9)], 3, id="none-large"),
    pytest.param([(2, 0.7, 0.04, 0.1), (3, 0.7, 0.02, 0.9)], 3, id="none-large-prefers-stable"),
    pytest.param([(2, 0.7, 0.04, 0.9), (3, 0.7, 0.02, 0.9)], 2, id="none-large-tie"),
    pytest.param([(5, 0.4, 0.3, 0.9)], 5, id="single-candidate"),
]


@pytest.mark.parametrize(("rows", "expected"), RULE)
def test_recommend_picks(rows: list[tuple[int, float | None, float, float | None]], expected: int) -> None:
    chosen = recommend([cand(k, s, share, stab) for k, s, share, stab in rows])
    assert chosen.k == expected
    assert f"the recommended k = {expected} has the best silhouette" in chosen.reason.lower()


def test_recommend_returns_the_candidate_itself() -> None:
    candidates = [cand(2, 0.5), cand(3, 0.8)]
    assert recommend(candidates).candidate is candidates[1]


# --- recommend: dissolved segments and silhouettes within noise -------------------------------------


def measured(k: int, silhouette: float, min_jaccard: float = 0.9, spread: float | None = None) -> Candidate:
    return Candidate(k=k, inertia=0.0, silhouette=silhouette, calinski_harabasz=None, davies_bouldin=None,
                     min_share=0.1, stability=0.9, min_jaccard=min_jaccard, silhouette_spread=spread)


# The mall customers of issue 21 on three features: k = 8 best separated, with a segment at Jaccard 0.28.
MALL_THREE = [measured(5, 0.417), measured(6, 0.427), measured(7, 0.420, 0.62), measured(8, 0.432, 0.28)]


def test_a_k_with_a_dissolved_segment_is_never_recommended_and_the_reason_names_it() -> None:
    chosen = recommend(MALL_THREE)
    assert (chosen.k, chosen.dissolved) == (6, (8,))
    assert chosen.reason.endswith(" Better separated but set aside, because one of its segments dissolves in refits "
                                  "(a segment's Jaccard agreement under 0.5, in Hennig's reading): k = 8 (silhouette "
                                  "0.432, lowest Jaccard agreement 0.28).")


def test_a_jaccard_of_exactly_one_half_has_not_dissolved() -> None:
    assert recommend([measured(2, 0.4), measured(3, 0.5, 0.5)]).k == 3


def test_when_every_k_has_a_dissolved_segment_the_reason_says_so() -> None:
    chosen = recommend([measured(2, 0.4, 0.3), measured(3, 0.5, 0.4)])
    assert (chosen.k, chosen.dissolved) == (3, ())
    assert "Every k in the range has a segment that dissolves in refits" in chosen.reason


NOISE = [
    # (k, silhouette, spread of its refits' silhouettes) -> recommended k, best separated k (None: the same)
    pytest.param([(4, 0.550, 0.01), (5, 0.556, 0.01)], 4, 5, id="within-one-sd-of-the-best"),
    pytest.param([(4, 0.540, 0.01), (5, 0.556, 0.01)], 5, None, id="beyond-one-sd"),
    pytest.param([(3, 0.550, 0.0), (4, 0.552, 0.0), (5, 0.556, 0.01)], 3, 5, id="the-smallest-within-noise"),
    pytest.param([(4, 0.550, 0.05), (5, 0.556, 0.0)], 5, None, id="the-best-k-s-own-noise-counts"),
    pytest.param([(4, 0.550, None), (5, 0.556, None)], 5, None, id="not-measured-no-noise"),
]


@pytest.mark.parametrize(("rows", "expected", "best"), NOISE)
def test_within_noise_the_smaller_k_is_preferred(rows: list[tuple[int, float, float | None]], expected: int,
                                                 best: int | None) -> None:
    chosen = recommend([measured(k, s, spread=spread) for k, s, spread in rows])
    assert (chosen.k, chosen.best_separated) == (expected, best)
    assert ("the smaller k is preferred" in chosen.reason) == (best is not None)


def test_the_reason_says_how_noise_is_measured() -> None:
    chosen = recommend([measured(4, 0.550, spread=0.004), measured(5, 0.556, spread=0.0123)])
    assert chosen.reason == (
        "The recommended k = 4 has the best silhouette within noise (0.550, against 0.556 at k = 5) among stable "
        "solutions (refits agree, adjusted Rand index at least 0.75) where every segment holds at least 5.0% of "
        "customers. Where silhouettes are within noise of each other, the smaller k is preferred: k = 4 and k = 5 "
        "differ by 0.006, less than 0.012, the standard deviation of k = 5's silhouette across refits on resampled "
        "data.")


# --- recommend: the reason in plain words --------------------------------------------------------


def test_reason_when_a_stable_k_is_eligible() -> None:
    chosen = recommend([cand(2, 0.5), cand(3, 0.734)])
    assert (chosen.rule, chosen.passed_over) == ("stable", ())
    assert chosen.reason == ("The recommended k = 3 has the best silhouette (0.734) among stable solutions (refits "
                             "agree, adjusted Rand index at least 0.75) where every segment holds at least 5.0% of "
                             "customers.")


def test_reason_when_no_large_enough_k_is_stable_names_the_steadiest() -> None:
    chosen = recommend([cand(2, 0.5, stability=0.3), cand(3, 0.61, stability=0.7),
                        cand(4, 0.9, min_share=0.01, stability=0.2)])
    assert (chosen.k, chosen.rule, chosen.passed_over) == (3, "none stable", ())
    assert chosen.reason == ("No k where every segment holds at least 5.0% of customers is stable (the most "
                             "stable, k = 3, reaches 0.70; stable from 0.75), so the recommended k = 3 has the best "
                             "silhouette (0.610) among them.")


def test_reason_when_no_k_has_large_enough_segments() -> None:
    chosen = recommend([cand(2, 0.5, min_share=0.04), cand(3, 0.66, min_share=0.01)])
    assert (chosen.k, chosen.rule, chosen.passed_over) == (3, "all small", ())
    assert chosen.reason == ("Every k in the range has a segment under 5.0% of customers; the recommended k = 3 "
                             "has the best silhouette (0.660) of any stable solution.")


def test_reason_with_an_undefined_silhouette() -> None:
    assert "best silhouette (-) of any" in recommend([cand(2, None, min_share=0.01)]).reason


# The wholesale case: k = 2 is unstable, k = 5 stable but with a 0.2% segment, and less well separated.
WHOLESALE = [(2, 0.553, 0.120, 0.565), (3, 0.348, 0.030, 0.722), (4, 0.353, 0.011, 0.429),
             (5, 0.368, 0.0023, 0.769), (6, 0.351, 0.0023, 0.744)]
# The RFM case: k = 3 holds a small, stable, well separated segment of the best customers.
RFM = [(2, 0.52, 0.30, 0.30), (3, 0.686, 0.018, 0.91), (4, 0.45, 0.015, 0.62)]


def test_a_stable_k_refused_only_for_the_floor_is_named_even_when_less_separated() -> None:
    chosen = recommend([cand(k, s, share, stab) for k, s, share, stab in WHOLESALE])
    assert (chosen.k, chosen.rule) == (2, "none stable")
    assert [(p.k, p.better_separated) for p in chosen.passed_over] == [(5, False)]
    assert "no k in the range gave stable segments" not in chosen.reason
    assert chosen.reason.endswith(" The stable k = 5 (stability 0.77) was passed over: its smallest segment "
                                  "holds 0.2% of customers, under the 5.0% floor; set min_segment_share to 0.002 "
                                  "to admit it.")


def test_a_better_separated_stable_k_passed_over_for_the_floor_is_shown_with_its_numbers() -> None:
    chosen = recommend([cand(k, s, share, stab) for k, s, share, stab in RFM])
    assert (chosen.k, chosen.rule) == (2, "none stable")
    (passed,) = chosen.passed_over
    assert (passed.k, passed.silhouette, passed.stability, passed.min_share, passed.better_separated) == (
        3, 0.686, 0.91, 0.018, True)
    assert (" The stable k = 3 (stability 0.91) and better separated (silhouette 0.686 against 0.520) was passed "
            "over: its smallest segment holds 1.8% of customers, under the 5.0% floor; set min_segment_share to 0.018 "
            "to admit it.") in chosen.reason


@pytest.mark.parametrize(("floor", "expected"), [(0.05, 2), (0.02, 2), (0.018, 3), (0.01, 3)])
def test_min_segment_share_sets_the_floor(floor: float, expected: int) -> None:
    chosen = recommend([cand(k, s, share, stab) for k, s, share, stab in RFM], floor)
    assert chosen.k == expected
    assert chosen.min_share == floor
    assert (chosen.rule == "stable") == (expected == 3)


def test_in_a_stable_recommendation_only_better_separated_small_k_are_passed_over() -> None:
    chosen = recommend([cand(2, 0.5), cand(3, 0.7, min_share=0.01), cand(4, 0.4, min_share=0.01),
                        cand(5, 0.8, min_share=0.01, stability=0.5)])
    assert [p.k for p in chosen.passed_over] == [3]


@pytest.mark.parametrize(("share", "floor"), [(0.018, "0.018"), (0.0189, "0.018"), (0.05, "0.05"),
                                              (0.0022727, "0.002"), (0.0004, "0.0004")])
def test_floor_for_admits_the_share(share: float, floor: str) -> None:
    assert floor_for(share) == floor
    assert float(floor) <= share


# --- verdict: the structure verdict with its reasons -------------------------------------------------

VERDICTS = [
    # (silhouette, reference, reference spread, stability) -> (level, reasons)
    pytest.param(0.8, 0.3, None, 0.9, "clear", (), id="clear"),
    pytest.param(0.2, 0.1, None, 0.9, "none", ("low silhouette",), id="low"),
    pytest.param(0.45, 0.41, None, 0.9, "none", ("like structureless data",), id="like-noise"),
    pytest.param(0.45, 0.39, 0.035, 0.9, "none", ("like structureless data",), id="within-2-sd-of-noise"),
    pytest.param(0.37, 0.25, 0.01, 0.97, "weak", ("moderate silhouette",), id="cdnow-high-ari"),
    pytest.param(0.553, 0.225, 0.01, 0.565, "weak", ("unstable",), id="wholesale-unstable"),
    pytest.param(0.7, 0.62, None, 1.0, "weak", ("small gap",), id="gap-only"),
    pytest.param(0.7, 0.56, 0.04, 1.0, "weak", ("small gap",), id="gap-within-twice-a-wide-reach"),
    # Six customers in two groups of three: structureless data of six points spreads widely.
    pytest.param(0.875, 0.633, 0.096, 1.0, "weak", ("small gap",), id="tiny-table"),
    # The mall customers of issue 21: five groups apart, 0.555 against 0.419 for structureless data.
    pytest.param(0.555, 0.419, 0.01, 0.98, "clear", (), id="mall-five-groups"),
    pytest.param(None, None, None, None, "none", ("no silhouette",), id="undefined"),
]


def test_a_segment_under_the_floor_keeps_a_verdict_from_clear_and_says_why() -> None:
    judged = verdict(0.946, 0.379, 1.0, 0.01, smallest=0.0066, floor=0.05)
    assert (judged.level, judged.reasons) == ("weak", ("small segments",))
    assert judged.text == ("The smallest segment holds only 0.7% of customers, under the 5.0% floor "
                           "(min_segment_share): a few customers far from the rest can make a segment of their own, "
                           "and the silhouette rewards them for sitting apart.")
    assert structure(0.946, 0.379, 1.0, 0.01, 0.0066, 0.05) == "weak"
    assert structure(0.946, 0.379, 1.0, 0.01, 0.05, 0.05) == "clear"


@pytest.mark.parametrize(("silhouette", "reference", "spread", "stability", "level", "reasons"), VERDICTS)
def test_verdict_names_the_tests_that_decided_it(silhouette: float | None, reference: float | None,
                                                 spread: float | None, stability: float | None, level: str,
                                                 reasons: tuple[str, ...]) -> None:
    judged = verdict(silhouette, reference, stability, spread)
    assert (judged.level, judged.reasons) == (level, reasons)
    assert judged.level == structure(silhouette, reference, stability, spread)
    assert all(reason in REASONS for reason in judged.reasons)
    assert ("adjusted Rand index of only" in judged.text) == ("unstable" in reasons)


def test_a_weak_verdict_with_stable_refits_does_not_blame_stability() -> None:
    judged = verdict(0.37, 0.28, 0.97, 0.03)
    assert judged.text == ("The mean silhouette is 0.370, not above 0.5 (Kaufman and Rousseeuw's \"reasonable "
                           "structure\" starts above it). The mean silhouette is 0.370, only 0.090 above the 0.280 "
                           "that K-Means reaches on structureless data of the same shape (clear from 0.120 above: 2 "
                           "times the 0.060 that such data reaches by chance). The segments do come back when the "
                           "data is resampled (adjusted Rand index 0.97), so overlap, not instability, is the reason.")


def test_a_verdict_like_structureless_data_gives_the_reference_and_its_spread() -> None:
    judged = verdict(0.405, 0.42, 0.6, 0.0085)
    assert judged.text == ("The mean silhouette is 0.405; K-Means on structureless data of the same shape reaches "
                           "0.420 (standard deviation 0.009 across draws): the data lies 0.015 below it.")


@pytest.mark.parametrize(("spread", "expected"), [(None, 0.05), (0.0, 0.05), (0.02, 0.05), (0.03, 0.06)])
def test_the_reach_is_two_standard_deviations_and_at_least_the_least_gap(spread: float | None,
                                                                            expected: float) -> None:
    assert reach(spread) == pytest.approx(expected)


# --- knee: the elbow of the inertia curve ----------------------------------------------------------

KNEES = [
    # Distance below the chord on 0..1 axes: k=3: 1 - 1/4 - 20/100 = 0.55; k=4: 0.4; k=5: 0.2.
    pytest.param([2, 3, 4, 5, 6], [100.0, 20.0, 10.0, 5.0, 0.0], 3, id="clear-elbow"),
    # Blobs-like: a sharp drop to k = 4, then almost flat.
    pytest.param([2, 3, 4, 5, 6, 7, 8], [900.0, 600.0, 60.0, 55.0, 50.0, 45.0, 40.0], 4, id="elbow-at-4"),
    # Uneven k (a fixed n_clusters beside the evidence range): x is k, not the position.
    pytest.param([2, 4, 6, 10], [100.0, 20.0, 10.0, 0.0], 4, id="uneven-k"),
    # k=3: 1 - 0.25 - 0.5 = 0.25 and k=4: 1 - 0.5 - 0.25 = 0.25, both exact: the smaller k wins.
    pytest.param([2, 3, 4, 5, 6], [80.0, 40.0, 20.0, 10.0, 0.0], 3, id="tie-to-smaller-k"),
    pytest.param([2, 3, 4, 5, 6], [50.0, 40.0, 30.0, 20.0, 10.0], None, id="straight-line"),
    pytest.param([2, 3, 4, 5, 6], [100.0, 99.0, 97.0, 50.0, 0.0], None, id="bulges-above-the-chord"),
    pytest.param([2, 3, 4], [10.0, 10.0, 10.0], None, id="flat"),
    pytest.param([2, 3, 4], [10.0, 12.0, 15.0], None, id="rising"),
    pytest.param([2, 3], [100.0, 10.0], None, id="two-candidates"),
    pytest.param([2], [100.0], None, id="one-candidate"),
    pytest.param([], [], None, id="no-candidates"),
]


@pytest.mark.parametrize(("ks", "inertias", "expected"), KNEES)
def test_knee(ks: list[int], inertias: list[float], expected: int | None) -> None:
    assert knee(curve(ks, inertias)) == expected


def test_knee_is_never_an_end_point() -> None:
    # A drop only at the end: the chord lies below every inner point, so there is no elbow.
    assert knee(curve([2, 3, 4, 5], [100.0, 99.0, 98.0, 0.0])) is None


# --- band: Hennig's reading of a segment's Jaccard agreement ----------------------------------------

BANDS = [
    (None, "not measured"),
    (0.0, "unstable"),
    (0.3, "unstable"),
    (0.5999, "unstable"),
    (0.6, "doubtful"),  # "< 0.6 unstable"
    (0.7, "doubtful"),
    (0.7499, "doubtful"),
    (0.75, "stable"),  # "0.75 or more": stable
    (0.8, "stable"),
    (0.8499, "stable"),
    (0.8501, "highly stable"),
    (0.9, "highly stable"),
    (1.0, "highly stable"),
]


@pytest.mark.parametrize(("jaccard", "expected"), BANDS)
def test_band(jaccard: float | None, expected: str) -> None:
    assert band(jaccard) == expected


def test_band_at_exactly_085_is_stable() -> None:
    """The promise: "0.75-0.85 stable, > 0.85 highly stable", so 0.85 itself is still stable."""
    assert band(0.85) == "stable"


# --- structure: clear, weak or none --------------------------------------------------------------

STRUCTURES = [
    # (silhouette, reference, stability, reference spread) -> verdict
    pytest.param(None, 0.3, 0.9, None, "none", id="no-silhouette"),
    pytest.param(0.25, None, None, None, "none", id="silhouette-at-0.25"),
    pytest.param(0.2, None, 1.0, None, "none", id="silhouette-below-0.25"),
    pytest.param(0.26, None, None, None, "weak", id="just-above-0.25-no-reference"),
    pytest.param(0.45, 0.41, 0.9, None, "none", id="within-0.05-of-reference"),
    pytest.param(0.6, 0.7, 1.0, None, "none", id="worse-than-reference"),
    pytest.param(0.45, 0.39, 0.9, None, "weak", id="just-beyond-0.05-of-reference"),
    pytest.param(0.45, 0.39, 0.9, 0.035, "none", id="within-2-sd-of-reference"),
    pytest.param(0.5, 0.1, 1.0, None, "weak", id="silhouette-at-0.5-is-not-above"),
    pytest.param(0.51, 0.1, 1.0, None, "clear", id="silhouette-above-0.5"),
    pytest.param(0.7, 0.61, 1.0, None, "weak", id="gap-0.09"),
    pytest.param(0.7, 0.59, 1.0, None, "clear", id="gap-0.11"),
    pytest.param(0.7, 0.56, 1.0, 0.01, "clear", id="gap-0.14-reference-spread-0.01"),
    pytest.param(0.7, 0.56, 1.0, 0.04, "weak", id="gap-0.14-under-4-sd"),
    pytest.param(0.8, 0.3, 0.74, None, "weak", id="unstable"),
    pytest.param(0.8, 0.3, 0.75, None, "clear", id="stability-at-0.75"),
    pytest.param(0.8, 0.3, None, None, "clear", id="stability-not-measured"),
    pytest.param(0.8, None, None, None, "clear", id="no-reference"),
]


@pytest.mark.parametrize(("silhouette", "reference", "stability", "spread", "expected"), STRUCTURES)
def test_structure(silhouette: float | None, reference: float | None, stability: float | None,
                   spread: float | None, expected: str) -> None:
    assert structure(silhouette, reference, stability, spread) == expected
