"""The recommendation: which k to report, why, and whether the data has segments at all.

Pure rules over numbers the model measured; no fitting happens here. The rule, as the
"Choosing k" section of every report states it:

1. A k is *eligible* when every one of its segments holds at least `MIN_SHARE` of the
   customers and its solution is stable: refits on bootstrap resamples with other seeds
   agree with it, a mean adjusted Rand index of at least `STABLE_ARI`.
2. Among eligible k, the highest mean silhouette wins; a tie goes to the smaller k. (Ranking
   by the silhouette's rise above structureless data instead was tried: no better on
   well-separated blobs, and erratic on tiny tables, where the reference itself is noise.)
3. When no k is eligible, the same choice is made among the k whose segments are all large
   enough, then among all k, and the reason says so.

The structure verdict compares the chosen solution's silhouette with that of the same
k-means on structureless data (uniform in the data's principal-axis box):
`none` when the data is not clearly better than that reference or the silhouette is at
most 0.25 (Kaufman & Rousseeuw: "no substantial structure"), `clear` when the silhouette
exceeds 0.5, beats the reference by `CLEAR_GAP` and the solution is stable, else `weak`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

MIN_SHARE = 0.05  # the smallest segment a recommended k may have, as a share of customers
STABLE_ARI = 0.75  # mean adjusted Rand index across refits for a solution to count as stable
NO_STRUCTURE_SILHOUETTE = 0.25
CLEAR_SILHOUETTE = 0.5
MIN_GAP = 0.05  # silhouette above the structureless reference below which there is no structure
CLEAR_GAP = 0.15
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
    reference: float | None = None  # the silhouette K-Means reaches at this k on structureless data


def recommend(candidates: Sequence[Candidate]) -> tuple[Candidate, str]:
    """The k the rule recommends, with its reason in plain words."""
    share = f"every segment holds at least {MIN_SHARE:.0%} of customers"
    large = [c for c in candidates if c.min_share >= MIN_SHARE]
    stable = [c for c in large if c.stability is None or c.stability >= STABLE_ARI]
    if stable:
        best = _best(stable)
        return best, (f"k = {best.k}: the best silhouette ({_fmt(best.silhouette)}{_against(best)}) among stable "
                      f"solutions (refits agree, adjusted Rand index at least {STABLE_ARI}); {share}.")
    if large:
        best = _best(large)
        return best, (f"k = {best.k}: no k in the range gave stable segments, so this is the best "
                      f"silhouette ({_fmt(best.silhouette)}{_against(best)}) among solutions where {share}.")
    best = _best(candidates)
    return best, (f"k = {best.k}: every k in the range has a segment under {MIN_SHARE:.0%} of "
                  f"customers; this one has the best silhouette ({_fmt(best.silhouette)}{_against(best)}).")


def structure(silhouette: float | None, reference: float | None, stability: float | None) -> str:
    """`clear`, `weak` or `none`: how real the chosen segments look (see the module's rule)."""
    if silhouette is None or silhouette <= NO_STRUCTURE_SILHOUETTE:
        return "none"
    gap = silhouette - reference if reference is not None else float("inf")
    if gap < MIN_GAP:
        return "none"
    if silhouette > CLEAR_SILHOUETTE and gap >= CLEAR_GAP and (stability is None or stability >= STABLE_ARI):
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


def _best(candidates: Sequence[Candidate]) -> Candidate:
    return max(candidates, key=lambda c: (c.silhouette if c.silhouette is not None else -2.0, -c.k))


def _against(candidate: Candidate) -> str:
    return f" against {candidate.reference:.2f} for structureless data" if candidate.reference is not None else ""


def _fmt(value: float | None) -> str:
    return f"{value:.2f}" if value is not None else "undefined"
