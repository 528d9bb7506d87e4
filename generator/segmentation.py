"""What a report knows about its segments, its k and the evidence for it: `Segmentation`.

Both engines build it with `segmentation` (the local one in `model.segment`, Spark in
`spark.segment_spark`), and every later stage reads it: profiles, figures, rules, the scorer,
migration, illustrations, pages, downloads and the cache. It holds what those stages need and
nothing per customer: the segment of every row comes back beside it from the engine, is read
by the rules, the migration and assignments.csv while the report is made, and is not kept, so
a cached report stays small whatever the number of rows.

It comes in five parts: the segments (with the customers they were drawn from), the evidence
for k, what the maps draw, what a scorer elsewhere applies, and the cautions about the data.
Everything that follows from them (k, the chosen candidate's scores, the verdict) is a property.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from generator.maps import Projection, drawn_rows, projection
from generator.measures import ScalingCheck, Skew, separation
from generator.recommendation import Candidate, Recommendation, Verdict, knee, verdict
from generator.scaling import Affine

__all__ = ["QUANTILES", "Alternative", "Cautions", "Evidence", "Maps", "Population", "Scoring", "Segment",
           "Segmentation", "Solution", "segmentation"]

QUANTILES = (5, 25, 50, 75, 95)  # the percentiles of each feature kept per segment (box plots)


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
class Population:
    """The customers segmented: how many, how many K-Means was fitted on, and each feature's
    mean and standard deviation over all of them (original units)."""

    rows: int
    fitted: int  # all of them, or a sample (above scaling.FIT_SAMPLE rows; Spark: all of them)
    overall: dict[str, float]
    spread: dict[str, float]


@dataclass(frozen=True)
class Evidence:
    """The evidence for k: every evaluated k's scores, the rule's recommendation, and the k shown
    (the recommended one, or `configured` when n_clusters fixes it)."""

    candidates: tuple[Candidate, ...]
    choice: Recommendation  # the rule's recommendation, as data: its branch and what the floor passed over
    configured: int | None = None  # the k n_clusters fixes, if it does
    silhouette_sampled: bool = False  # the silhouettes were measured on a sample of the customers
    stability_sampled: bool = False  # the refits ran on a sample of the customers

    @property
    def k(self) -> int:
        return self.choice.k if self.configured is None else self.configured

    @property
    def fixed(self) -> bool:
        return self.configured is not None

    @property
    def recommended(self) -> int:
        """The k the rule recommends (differs from `k` when n_clusters fixes another)."""
        return self.choice.k

    @property
    def chosen(self) -> Candidate:
        """The scores of the k shown."""
        return next(c for c in self.candidates if c.k == self.k)

    @property
    def reason(self) -> str:
        """Why this k, in plain words."""
        if self.configured is None:
            return self.choice.reason
        return (f"The configuration fixes k = {self.configured} (n_clusters). On the evidence below, the rule "
                f"would recommend k = {self.choice.k}. {self.choice.reason}")

    @property
    def verdict(self) -> Verdict:
        """The structure verdict on the k shown, with the tests that decided it."""
        c = self.chosen
        return verdict(c.silhouette, c.reference, c.stability, c.reference_spread, c.min_share, self.choice.min_share)

    @property
    def knee(self) -> int | None:
        return knee(self.candidates)


@dataclass(frozen=True)
class Alternative:
    """The solution for one evaluated k, summarised: what its candidate map and table show."""

    sizes: np.ndarray  # customers per segment, canonical order
    centers: np.ndarray  # segments x features, the mean of each segment's rows in original units
    drawn: np.ndarray  # the segment of every drawn row (Maps.drawn)


@dataclass(frozen=True)
class Maps:
    """What the segment maps draw: a bounded set of rows (all of them up to maps.MAP_SAMPLE) in
    original units, their projection, and every evaluated k's segments among them."""

    drawn: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # the rows drawn
    sample: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # drawn rows x features, original units
    projection: Projection | None = None  # for more than two features
    summaries: dict[int, Alternative] = field(default_factory=dict)  # every evaluated k
    separation: dict[str, float] = field(default_factory=dict)  # eta squared of every feature (scaled)


@dataclass(frozen=True)
class Scoring:
    """What a scorer elsewhere applies (scorer.sql, the calculator): the scaling K-Means saw and
    its own centres, scaled, in segment order."""

    affine: Affine
    centers: np.ndarray


@dataclass(frozen=True)
class Cautions:
    """What a reader should know about the data's scales (the local engine checks them)."""

    scaling: ScalingCheck | None = None  # with scale: none, what standardising would change
    skewed: tuple[Skew, ...] = ()  # heavily skewed features, under standard scaling only


@dataclass(frozen=True)
class Segmentation:
    """The chosen K-Means solution of a dataset, with the evidence for its k (see the module)."""

    segments: tuple[Segment, ...]
    evidence: Evidence
    population: Population
    maps: Maps = field(default_factory=Maps)
    scoring: Scoring | None = None
    cautions: Cautions = field(default_factory=Cautions)

    @property
    def k(self) -> int:
        return len(self.segments)

    @property
    def structure(self) -> str:
        """"clear", "weak" or "none"."""
        return self.evidence.verdict.level

    @property
    def recommended(self) -> int:
        return self.evidence.recommended

    @property
    def inertia(self) -> float:
        """Within-segment sum of squares, in the scaled space."""
        return self.evidence.chosen.inertia

    @property
    def silhouette(self) -> float | None:
        return self.evidence.chosen.silhouette

    @property
    def stability(self) -> float | None:
        """The mean adjusted Rand index of the refits against the solution shown."""
        return self.evidence.chosen.stability

    @property
    def reference_silhouette(self) -> float | None:
        """The mean silhouette K-Means reaches at this k on structureless data."""
        return self.evidence.chosen.reference


@dataclass(frozen=True)
class Solution:
    """One evaluated k as an engine found it, for `segmentation`."""

    candidate: Candidate
    sizes: np.ndarray  # customers per segment, canonical order
    centers: np.ndarray  # segments x features, the mean of each segment's rows in original units
    scaled: np.ndarray  # the same means in the scaled space
    labels: np.ndarray  # the segment of every row the maps may draw (`original`'s rows)


def segmentation(evidence: Evidence, solutions: Mapping[int, Solution], segments: tuple[Segment, ...],
                 population: Population, *, original: np.ndarray, scaled: Callable[[np.ndarray], np.ndarray],
                 fitted: np.ndarray, seed: int, scoring: Scoring, cautions: Cautions | None = None) -> Segmentation:
    """The one constructor, for both engines: their segments and evidence, and the maps drawn
    from `original` (rows x features, original units: every row, or the engine's sample), whose
    rows `scaled` gives as K-Means sees them; the projection is fitted on `fitted` (scaled rows)."""
    chosen = solutions[evidence.k]
    if len(segments) != evidence.k:
        raise ValueError(f"{len(segments)} segments for k = {evidence.k}")
    drawn = drawn_rows(chosen.labels, seed)
    points = scaled(drawn)
    maps = Maps(
        drawn=drawn,
        sample=original[drawn],
        projection=projection(fitted, points, chosen.scaled) if original.shape[1] > 2 else None,
        summaries={k: Alternative(sizes=s.sizes, centers=s.centers, drawn=s.labels[drawn])
                      for k, s in solutions.items()},
        separation=separation(points, chosen.labels[drawn], list(population.overall)),
    )
    return Segmentation(segments, evidence, population, maps, scoring, cautions or Cautions())
