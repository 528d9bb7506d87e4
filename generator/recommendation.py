"""The recommendation: which k to report, why, and whether the data has segments at all.

Pure rules over numbers the model measured; no fitting happens here. The rule, as the
"Choosing k" section of every report states it:

1. A k with a *dissolved* segment (mean Jaccard agreement across refits below `DISSOLVED`,
   Hennig's band) is never recommended while another k has none; the reason names it.
2. A k is *eligible* when every one of its segments holds at least `min_segment_share` of the
   customers (`MIN_SHARE` by default) and its solution is stable: refits on bootstrap resamples with other seeds
   agree with it, a mean adjusted Rand index of at least `STABLE_ARI`.
3. Among eligible k, the highest mean silhouette wins, unless a smaller k's silhouette is within
   noise of it: then the smallest such k. Its noise is `NOISE_SD` standard deviations of the
   silhouettes of its stability refits: how far its silhouette moves when the data is resampled.
   A tie goes to the smaller k. (Ranking by the silhouette's rise above structureless data instead was
   tried: no better on well-separated blobs, and erratic on tiny tables, where the reference
   itself is noise.)
4. When no k is eligible, the same choice is made among the k whose segments are all large
   enough, then (when every k has a small segment) among the stable k, then among all k, and the
   reason says so. A stable k that would have outranked the recommended one but for a small
   segment is *passed over*: the reason names it with its numbers, and the floor that admits it.

The structure verdict compares the chosen solution's silhouette with the silhouettes of the
same k-means on `REFERENCE_RUNS` structureless data sets (uniform in the data's
principal-axis box): their mean, and their *reach*, the larger of `MIN_GAP` and `REACH_SD`
standard deviations of them. `none` when the silhouette is at most 0.25 (Kaufman & Rousseeuw:
"no substantial structure") or within the reach of the reference; `clear` when it exceeds 0.5
(Kaufman & Rousseeuw's "reasonable structure"), lies at least twice the reach above the
reference, the solution is stable and no segment is under `min_segment_share` (a few customers
far out can sit apart and score well); else `weak`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from generator.formats import exact, percent, silhouette, stability

MIN_SHARE = 0.05  # the smallest segment a recommended k may have, as a share of customers
STABLE_ARI = 0.75  # mean adjusted Rand index across refits for a solution to count as stable
NO_STRUCTURE_SILHOUETTE = 0.25
CLEAR_SILHOUETTE = 0.5
MIN_GAP = 0.05  # the least reach of the structureless reference: a silhouette within it is no structure
REACH_SD = 2.0  # the reference reaches its mean plus this many standard deviations of its draws (at least MIN_GAP)
CLEAR_REACHES = 2.0  # a clear structure lies at least this many reaches above the reference
NOISE_SD = 1.0  # a silhouette within this many standard deviations of the best k's refit silhouettes is within noise
DISSOLVED = 0.5  # a segment whose mean Jaccard agreement across refits is below this has dissolved (Hennig)
# Hennig's reading of a segment's mean Jaccard agreement across bootstrap refits:
# below 0.6 unstable, 0.6 up to 0.75 doubtful, 0.75 to 0.85 stable, above 0.85 highly stable.
BANDS = ((0.6, "unstable"), (0.75, "doubtful"), (0.85, "stable"), (1.0, "highly stable"))


@dataclass(frozen=True)
class Candidate:
    """One evaluated k: the quality measures of its K-Means solution."""

    k: int
    inertia: float  # within-segment sum of squares in the scaled space; lower is tighter
    silhouette: float | None  # -1..1, higher is better separated
    calinski_harabasz: float | None  # higher is better separated
    davies_bouldin: float | None  # lower is better separated
    min_share: float  # the smallest segment's share of customers
    stability: float | None  # mean adjusted Rand index of refits against this solution
    reference: float | None = None  # the mean silhouette K-Means reaches at this k on structureless data
    reference_spread: float | None = None  # the standard deviation of those silhouettes across the draws
    min_jaccard: float | None = None  # the least stable segment's mean Jaccard agreement across refits
    silhouette_spread: float | None = None  # the standard deviation of the silhouettes of those refits

    @property
    def dissolved(self) -> bool:
        """A segment of this k dissolves in refits (Jaccard below DISSOLVED)."""
        return self.min_jaccard is not None and self.min_jaccard < DISSOLVED


@dataclass(frozen=True)
class PassedOver:
    """A stable k the rule would have preferred but for the size floor: a segment under `min_share`."""

    k: int
    silhouette: float | None
    stability: float | None
    min_share: float  # its smallest segment's share: a floor at or below this admits it
    better_separated: bool  # a higher silhouette than the recommended k


@dataclass(frozen=True)
class Recommendation:
    """The k the rule recommends, which branch of the rule decided, and what the floor passed over."""

    candidate: Candidate
    rule: str  # "stable", "none stable" (no large-enough k is stable) or "all small" (every k has a small segment)
    min_share: float  # the floor applied (`min_segment_share`)
    passed_over: tuple[PassedOver, ...]
    reason: str  # the whole reason in plain words, numbers included
    dissolved: tuple[int, ...] = ()  # the k set aside because a segment of theirs dissolves in refits
    best_separated: int | None = None  # the k of the highest silhouette, where a smaller k within noise won

    @property
    def k(self) -> int:
        return self.candidate.k


def recommend(candidates: Sequence[Candidate], min_share: float = MIN_SHARE) -> Recommendation:
    """The k the rule recommends, with its reason in plain words (see the module's rule)."""
    floor = percent(min_share)
    share = f"every segment holds at least {floor} of customers"
    whole = [c for c in candidates if not c.dissolved] or list(candidates)
    large = [c for c in whole if c.min_share >= min_share]
    stable = [c for c in large if _stable(c)]
    if stable:
        rule, (best, top) = "stable", _best(stable)
        reason = (f"The recommended k = {best.k} {_has(best, top)} among stable solutions (refits agree, adjusted "
                  f"Rand index at least {stability(STABLE_ARI)}) where {share}.")
    elif large:
        rule, (best, top) = "none stable", _best(large)
        steadiest = max(large, key=lambda c: (c.stability if c.stability is not None else -2.0, -c.k))
        reason = (f"No k where {share} is stable (the most stable, k = {steadiest.k}, reaches "
                  f"{stability(steadiest.stability)}; stable from {stability(STABLE_ARI)}), so the recommended "
                  f"k = {best.k} {_has(best, top)} among them.")
    else:
        steady = [c for c in whole if _stable(c)]
        rule, (best, top) = "all small", _best(steady or whole)
        among = "stable solution" if steady else "solution"
        reason = (f"Every k in the range has a segment under {floor} of customers; the recommended k = {best.k} "
                  f"{_has(best, top)} of any {among}.")
    if best is not top:
        reason += " " + _noise_sentence(best, top)
    dissolved = tuple(c for c in candidates if c.dissolved and c not in whole)
    if any(_score(c) > _score(best) for c in dissolved):  # named where it would otherwise have competed
        reason += " " + _dissolved_sentence([c for c in dissolved if _score(c) > _score(best)])
    if candidates and all(c.dissolved for c in candidates):
        reason += (f" Every k in the range has a segment that dissolves in refits (Jaccard agreement under "
                   f"{exact(DISSOLVED)}): read the segments as a rough guide.")
    # Stable k refused only for the floor that would otherwise have outranked the recommended one.
    passed = tuple(
        PassedOver(c.k, c.silhouette, c.stability, c.min_share, _score(c) > _score(best))
        for c in whole
        if c.min_share < min_share and _stable(c) and c.k != best.k
        and (rule == "none stable" or _score(c) > _score(best))
    )
    reason += "".join(" " + _passed_sentence(p, best, floor) for p in passed)
    return Recommendation(best, rule, min_share, passed, reason, tuple(c.k for c in dissolved),
                          top.k if best is not top else None)


def _has(best: Candidate, top: Candidate) -> str:
    if best is top:
        return f"has the best silhouette ({silhouette(best.silhouette)}{_against(best)})"
    return (f"has the best silhouette within noise ({silhouette(best.silhouette)}{_against(best)}, "
            f"against {silhouette(top.silhouette)} at k = {top.k})")


def _noise_sentence(best: Candidate, top: Candidate) -> str:
    return (f"Where silhouettes are within noise of each other, the smaller k is preferred: k = {best.k} and "
            f"k = {top.k} differ by {silhouette(_score(top) - _score(best))}, less than "
            f"{silhouette(noise(top))}, the standard deviation of k = {top.k}'s silhouette across refits on "
            "resampled data.")


def _dissolved_sentence(dissolved: Sequence[Candidate]) -> str:
    ks = ", ".join(f"k = {c.k} (silhouette {silhouette(c.silhouette)}, lowest Jaccard agreement "
                   f"{stability(c.min_jaccard)})" for c in dissolved)
    which = "one of its segments dissolves" if len(dissolved) == 1 else "each has a segment that dissolves"
    return (f"Better separated but set aside, because {which} in refits (a segment's Jaccard agreement under "
            f"{exact(DISSOLVED)}, in Hennig's reading): {ks}.")


def smallest(jaccard: Sequence[float | None]) -> float | None:
    """The least stable segment's Jaccard agreement, None where none was measured."""
    return min((j for j in jaccard if j is not None), default=None)


def noise(candidate: Candidate) -> float:
    """How far below `candidate`'s silhouette another may lie and still be within noise: NOISE_SD standard
    deviations of its refits' silhouettes on resampled data; 0 where refits were not measured."""
    spread = candidate.silhouette_spread
    return NOISE_SD * spread if spread is not None else 0.0


def _passed_sentence(passed: PassedOver, best: Candidate, floor: str) -> str:
    separated = (f" and better separated (silhouette {silhouette(passed.silhouette)} against "
                 f"{silhouette(best.silhouette)})" if passed.better_separated else "")
    return (f"The stable k = {passed.k} (stability {stability(passed.stability)}){separated} was passed over: "
            f"its smallest segment holds {percent(passed.min_share)} of customers, under the {floor} floor; "
            f"set min_segment_share to {floor_for(passed.min_share)} to admit it.")


def floor_for(share: float) -> str:
    """The largest floor with three decimals (six for tiny shares) that admits a smallest segment of `share`."""
    places = 3 if share >= 0.001 else 6
    return exact(math.floor(share * 10**places + 1e-9) / 10**places)


@dataclass(frozen=True)
class Verdict:
    """How real the chosen segments look, and every test that kept it from a clearer verdict."""

    level: str  # "clear", "weak" or "none"
    reasons: tuple[str, ...]  # keys of REASONS, in the rule's order
    text: str  # the reasons in plain words, numbers included (empty for "clear")


# What each reason means, for readers of segments.json and of the reference page.
REASONS = {
    "no silhouette": "the silhouette is undefined",
    "low silhouette": f"the silhouette is at most {exact(NO_STRUCTURE_SILHOUETTE)}",
    "like structureless data": ("the silhouette is within the reach of structureless data (their mean silhouette "
                                f"plus {exact(REACH_SD)} standard deviations, at least {exact(MIN_GAP)})"),
    "moderate silhouette": f"the silhouette is at most {exact(CLEAR_SILHOUETTE)}",
    "small gap": f"the silhouette is less than {exact(CLEAR_REACHES)} reaches above structureless data",
    "small segments": "a segment holds fewer customers than min_segment_share",
    "unstable": f"refits agree with an adjusted Rand index under {exact(STABLE_ARI)}",
}


def reach(spread: float | None) -> float:
    """How far above its mean the structureless reference's silhouette reaches: REACH_SD standard
    deviations of its draws, at least MIN_GAP (a few draws can agree by chance)."""
    return max(MIN_GAP, REACH_SD * spread) if spread is not None else MIN_GAP


def verdict(silhouette_: float | None, reference: float | None, stability_: float | None,
            spread: float | None = None, smallest: float | None = None, floor: float = MIN_SHARE) -> Verdict:
    """`clear`, `weak` or `none` with the tests that decided it, each stated with its numbers.
    `reference` and `spread` are the mean and standard deviation of the structureless silhouettes;
    `smallest` the smallest segment's share of customers, `floor` the `min_segment_share`."""
    level = structure(silhouette_, reference, stability_, spread, smallest, floor)
    if silhouette_ is None:
        return Verdict(level, ("no silhouette",), "The silhouette is undefined (a segment of one point).")
    shown, against, reaches = silhouette(silhouette_), silhouette(reference), reach(spread)
    measured = (f"K-Means on structureless data of the same shape reaches {against}"
                + (f" (standard deviation {silhouette(spread)} across draws)" if spread is not None else ""))
    gap = silhouette_ - reference if reference is not None else None
    reasons: list[str] = []
    words: list[str] = []
    if silhouette_ <= NO_STRUCTURE_SILHOUETTE:
        reasons.append("low silhouette")
        words.append(f"The mean silhouette is {shown}, at most {exact(NO_STRUCTURE_SILHOUETTE)} "
                     "(no substantial structure, in Kaufman and Rousseeuw's reading).")
    if gap is not None and gap < reaches:
        reasons.append("like structureless data")
        where = (f"lies {silhouette(gap)} above it, less than the {silhouette(reaches)} that such data reaches by "
                 "chance" if gap >= 0 else f"lies {silhouette(-gap)} below it")
        words.append(f"The mean silhouette is {shown}; {measured}: the data {where}.")
    if level != "none":
        if silhouette_ <= CLEAR_SILHOUETTE:
            reasons.append("moderate silhouette")
            words.append(f"The mean silhouette is {shown}, not above {exact(CLEAR_SILHOUETTE)} (Kaufman and "
                         "Rousseeuw's \"reasonable structure\" starts above it).")
        if gap is not None and gap < CLEAR_REACHES * reaches:
            reasons.append("small gap")
            words.append(f"The mean silhouette is {shown}, only {silhouette(gap)} above the {against} that "
                         f"K-Means reaches on structureless data of the same shape (clear from "
                         f"{silhouette(CLEAR_REACHES * reaches)} above: {exact(CLEAR_REACHES)} times the "
                         f"{silhouette(reaches)} that such data reaches by chance).")
        if smallest is not None and smallest < floor:
            reasons.append("small segments")
            words.append(f"The smallest segment holds only {percent(smallest)} of customers, under the "
                         f"{percent(floor)} floor (min_segment_share): a few customers far from the rest can make "
                         "a segment of their own, and the silhouette rewards them for sitting apart.")
        if stability_ is not None and stability_ < STABLE_ARI:
            reasons.append("unstable")
            words.append(f"Refits on resampled data agree with an adjusted Rand index of only "
                         f"{stability(stability_)} (stable from {stability(STABLE_ARI)}): the segments do not "
                         "all come back.")
        elif stability_ is not None and {"moderate silhouette", "small gap"} & set(reasons):
            words.append(f"The segments do come back when the data is resampled (adjusted Rand index "
                         f"{stability(stability_)}), so overlap, not instability, is the reason.")
    return Verdict(level, tuple(reasons), " ".join(words))


def structure(silhouette: float | None, reference: float | None, stability: float | None,
              spread: float | None = None, smallest: float | None = None, floor: float = MIN_SHARE) -> str:
    """`clear`, `weak` or `none`: how real the chosen segments look (see the module's rule)."""
    if silhouette is None or silhouette <= NO_STRUCTURE_SILHOUETTE:
        return "none"
    gap = silhouette - reference if reference is not None else float("inf")
    reaches = reach(spread)
    if gap < reaches:
        return "none"
    if (silhouette > CLEAR_SILHOUETTE and gap >= CLEAR_REACHES * reaches and (smallest is None or smallest >= floor)
            and (stability is None or stability >= STABLE_ARI)):
        return "clear"
    return "weak"


def knee(candidates: Sequence[Candidate]) -> int | None:
    """The elbow of the inertia curve: the k farthest below the line from first to last point."""
    if len(candidates) < 3:
        return None
    ks = [c.k for c in candidates]
    inertias = [c.inertia for c in candidates]
    span_k, span_i = ks[-1] - ks[0], inertias[0] - inertias[-1]
    if span_i <= 0:
        return None
    # On axes scaled to 0..1 the line runs from (0, 1) to (1, 0); distance below it ~ 1 - x - y.
    below = [1 - (k - ks[0]) / span_k - (i - inertias[-1]) / span_i for k, i in zip(ks, inertias, strict=True)]
    best = max(range(len(ks)), key=lambda j: (below[j], -ks[j]))
    return ks[best] if below[best] > 0 else None


def band(jaccard: float | None) -> str:
    """Hennig's band for a segment's mean Jaccard agreement across refits."""
    if jaccard is None:
        return "not measured"
    (unstable, first), (doubtful, second), (stable, third), (_, top) = BANDS
    if jaccard < unstable:
        return first
    if jaccard < doubtful:
        return second
    return third if jaccard <= stable else top  # 0.85 itself is still "stable"


def _score(candidate: Candidate) -> float:
    return candidate.silhouette if candidate.silhouette is not None else -2.0


def _stable(candidate: Candidate) -> bool:
    return candidate.stability is None or candidate.stability >= STABLE_ARI


def _best(candidates: Sequence[Candidate]) -> tuple[Candidate, Candidate]:
    """The k the rule prefers among `candidates`, and the best separated one: the smallest k whose
    silhouette is within noise of the highest (ties to the smaller k), and that highest."""
    top = max(candidates, key=lambda c: (_score(c), -c.k))
    close = [c for c in candidates if c.silhouette is not None and c.k < top.k
             and _score(top) - _score(c) < noise(top)]
    return min(close, key=lambda c: c.k) if close else top, top


def _against(candidate: Candidate) -> str:
    if candidate.reference is None:
        return ""
    return f" against {silhouette(candidate.reference)} for structureless data"
