"""Rules: each segment described as thresholds on the features, in their original units.

A shallow decision tree (scikit-learn's, depth at most DEPTH) is fitted to the segment
labels; every leaf is a path of conditions, and a segment's rule is the OR of the paths of
the leaves that put customers in it. The leaves partition the space, so every customer
matches exactly one rule. Thresholds are rounded to fewer significant digits only where no
customer reaching the split changes side, and every count here (which segment a leaf gives,
the fidelity) comes from applying the published thresholds to every customer, in float64.
The segmentation is read, never refitted.

Those exact paths are the contract (segments.json). What a reader is told is each segment's
*short* rule where one exists: the fewest of its paths' conditions (one AND, or an OR of two
parts of its paths) that still finds its customers (recall) and only them (precision) within
AGREEMENT of what its exact rule does.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import TYPE_CHECKING, Any

import numpy as np

from generator.config import DatasetConfig
from generator.data import Table
from generator.formats import exact
from generator.scaling import FIT_SAMPLE, canonical_sample
from generator.segmentation import Segmentation

if TYPE_CHECKING:  # scikit-learn loads when rules are computed, not for cached reports
    from sklearn.tree import DecisionTreeClassifier

DEPTH = 3  # the deepest path: three conditions a person can hold in mind
LOW_FIDELITY = 0.8  # below this share of customers, the report says thresholds describe the segments badly
MAX_DIGITS = 17  # significant digits after which a threshold is kept as the tree placed it
AGREEMENT = 0.02  # a short rule's recall and precision may each fall this far below the exact rule's


@dataclass(frozen=True)
class Condition:
    """One threshold: `feature` `op` `value`, with `op` "<=" or ">"."""

    feature: str
    op: str
    value: float


@dataclass(frozen=True)
class Short:
    """A segment's rule as a reader is told it: fewer conditions than the exact paths."""

    paths: tuple[tuple[Condition, ...], ...]  # one or two paths: a customer matches when all of one's hold
    recall: float  # share of the segment's customers it matches
    precision: float  # share of the customers it matches that are in the segment


@dataclass(frozen=True)
class Rule:
    """A segment's rule: it matches a customer when every condition of one of its paths holds."""

    segment: int
    paths: tuple[tuple[Condition, ...], ...]  # empty: no leaf of the tree gives this segment
    text: str  # what the page says: the short rule where there is one, else the exact paths joined by " or "
    fidelity: float  # share of the segment's customers whose matching rule is this one
    matched: int  # customers of any segment whose matching rule is this one
    exact: str = ""  # the exact paths in words ("Milk > 12,000 and Grocery <= 9,500"), display labels
    short: Short | None = None  # the shorter rule `text` says, None where the exact one is said
    precision: float = 0.0  # share of the customers this exact rule matches that are in the segment

    @property
    def recall(self) -> float:
        """The share of the segment's customers that the rule the page says matches."""
        return self.short.recall if self.short is not None else self.fidelity

    @property
    def conditions(self) -> int:
        """Conditions a reader has to hold for the rule the page says."""
        said = self.short.paths if self.short is not None else self.paths
        return sum(len(p) for p in said)


@dataclass(frozen=True)
class Rules:
    """Every segment's rule and how well the rules reproduce the segments."""

    fidelity: float  # share of customers whose matching rule is their own segment's
    segments: tuple[Rule, ...]
    depth: int = DEPTH

    @property
    def low(self) -> bool:
        return self.fidelity < LOW_FIDELITY

    def document(self, withheld: frozenset[int] = frozenset()) -> dict[str, Any]:
        """`rules` of segments.json: the contract's keys, and per segment its fidelity and customers matched.
        A `withheld` segment's thresholds would isolate its few customers: it has no paths, and its
        customers match no published rule."""
        return {"fidelity": self.fidelity, "depth": self.depth, "segments": [
            {"segment": r.segment, "text": None, "paths": [], "fidelity": None, "matched": None, "withheld": True}
            if r.segment in withheld else
            {"segment": r.segment, "text": r.text,
             "paths": [[{"feature": c.feature, "op": c.op, "value": c.value} for c in path] for path in r.paths],
             "fidelity": r.fidelity, "matched": r.matched, "exact_text": r.exact, "precision": r.precision,
             "short": None if r.short is None else {
                 "paths": [[{"feature": c.feature, "op": c.op, "value": c.value} for c in path]
                           for path in r.short.paths],
                 "recall": r.short.recall, "precision": r.short.precision}}
            for r in self.segments]}


@dataclass(frozen=True)
class _Leaf:
    conditions: tuple[Condition, ...]
    members: np.ndarray  # bool per customer: the customers the path matches
    segment: int


def explain(table: Table, result: Segmentation, segments: np.ndarray, config: DatasetConfig) -> Rules | None:
    """The rules of `result`'s segments over the table's customers (`segments`: the segment of each);
    None without per-customer segments."""
    values = table.features[list(config.features)].to_numpy(dtype=float)
    labels = np.asarray(segments).astype(np.int64)
    if len(labels) == 0 or len(labels) != len(values):
        return None
    from sklearn.tree import DecisionTreeClassifier
    # Fitted on rows in an order set by their values, so the file's row order changes nothing.
    fit_rows = (np.lexsort(values.T[::-1]) if len(values) <= FIT_SAMPLE
                else canonical_sample(values, FIT_SAMPLE, config.random_state))
    tree = DecisionTreeClassifier(max_depth=DEPTH, random_state=config.random_state)
    tree.fit(values[fit_rows], labels[fit_rows])
    grown = _Tree(tree, values, labels, result.k, tuple(config.features))
    leaves = grown.leaves(0, np.ones(len(values), dtype=bool), ())
    matched = np.empty(len(values), dtype=np.int64)
    for leaf in leaves:
        matched[leaf.members] = leaf.segment
    right = matched == labels
    sizes = np.bincount(labels, minlength=result.k)
    rules = []
    for s in range(result.k):
        paths = tuple(_simplified(leaf.conditions) for leaf in leaves if leaf.segment == s)
        fidelity = float(right[labels == s].sum() / sizes[s]) if sizes[s] else 0.0
        count = int((matched == s).sum())
        precision = float(right[matched == s].sum() / count) if count else 0.0
        short = _shortest(paths, values, labels == s, fidelity, precision, tuple(config.features), fit_rows)
        exact = _text(paths, config)
        rules.append(Rule(segment=s, paths=paths, text=_text(short.paths, config) if short else exact,
                          fidelity=fidelity, matched=count, exact=exact, short=short, precision=precision))
    return Rules(fidelity=float(right.mean()), segments=tuple(rules))


def _shortest(paths: tuple[tuple[Condition, ...], ...], values: np.ndarray, own: np.ndarray, recall: float,
              precision: float, features: tuple[str, ...], rows: np.ndarray) -> Short | None:
    """The rule with the fewest conditions whose recall and precision over every customer are each within
    AGREEMENT of the exact rule's: one AND of the paths' conditions, or an OR of two parts of its paths
    (the best of each length is searched on the fitted rows, then measured on every customer); None where
    nothing shorter than the exact paths does."""
    pool = list(dict.fromkeys(c for path in paths for c in path))
    total = sum(len(path) for path in paths)
    if total <= 1 or not own.any():
        return None
    searched, mine = values[rows], own[rows]
    masks = {c: _holds(c, searched[:, features.index(c.feature)]) for c in pool}
    singles = [combo for size in range(1, DEPTH + 1) for combo in combinations(pool, size)
               if len({(c.feature, c.op) for c in combo}) == size]
    parts = list(dict.fromkeys(combo for path in paths for size in range(1, len(path) + 1)
                               for combo in combinations(path, size)))
    # Two parts one of which holds the other's conditions say no more than the wider one alone.
    pairs = [(a, b) for a, b in combinations(parts, 2) if not set(a) <= set(b) and not set(b) <= set(a)]
    shapes = [(combo,) for combo in singles] + pairs
    lengths = sorted({sum(len(part) for part in shape) for shape in shapes})
    for length in (n for n in lengths if n < total):
        found: list[tuple[float, tuple[tuple[Condition, ...], ...]]] = []
        for shape in (shape for shape in shapes if sum(len(part) for part in shape) == length):
            hit = np.logical_or.reduce([np.logical_and.reduce([masks[c] for c in part]) for part in shape])
            count = int(hit.sum())
            if count:
                right = int((hit & mine).sum())
                found.append((right / max(int(mine.sum()), 1) + right / count, shape))
        if not found:
            continue
        _, best = max(found, key=lambda item: item[0])  # the first of equals: the order is deterministic
        hit = np.logical_or.reduce([np.logical_and.reduce([_holds(c, values[:, features.index(c.feature)])
                                                           for c in part]) for part in best])
        right = int((hit & own).sum())
        measured = Short(tuple(tuple(sorted(part, key=pool.index)) for part in best), right / int(own.sum()),
                         right / int(hit.sum()) if hit.any() else 0.0)
        if measured.recall >= recall - AGREEMENT and measured.precision >= precision - AGREEMENT:
            return measured
    return None


def _holds(condition: Condition, values: np.ndarray) -> np.ndarray:
    result: np.ndarray = values <= condition.value if condition.op == "<=" else values > condition.value
    return result


@dataclass(frozen=True)
class _Tree:
    """A fitted tree beside the customers it is applied to (all of them, float64)."""

    fitted: DecisionTreeClassifier
    values: np.ndarray
    labels: np.ndarray
    k: int
    features: tuple[str, ...]

    def leaves(self, node: int, members: np.ndarray, conditions: tuple[Condition, ...]) -> list[_Leaf]:
        """The leaves below `node`, each with the customers its (rounded) path matches; sibling
        leaves giving the same segment are merged into their parent."""
        nodes = self.fitted.tree_
        left, right = int(nodes.children_left[node]), int(nodes.children_right[node])
        if left == right:  # a leaf: the segment most of its customers are in (the tree's own, if none)
            counts = np.bincount(self.labels[members], minlength=self.k)
            own = int(self.fitted.classes_[int(np.argmax(nodes.value[node][0]))])
            return [_Leaf(conditions, members, int(np.argmax(counts)) if counts.sum() else own)]
        j = int(nodes.feature[node])
        reached = self.values[members, j]
        threshold = readable(float(nodes.threshold[node]), reached)
        below = members.copy()
        below[members] = reached <= threshold
        above = members & ~below
        feature = self.features[j]
        first = self.leaves(left, below, (*conditions, Condition(feature, "<=", threshold)))
        second = self.leaves(right, above, (*conditions, Condition(feature, ">", threshold)))
        if len(first) == len(second) == 1 and first[0].segment == second[0].segment:
            return [_Leaf(conditions, members, first[0].segment)]
        return first + second


def readable(threshold: float, values: np.ndarray) -> float:
    """The threshold with the fewest significant digits that splits `values` as `threshold` does."""
    under = values[values <= threshold]
    over = values[values > threshold]
    low = float(under.max()) if under.size else -np.inf
    high = float(over.min()) if over.size else np.inf
    for digits in range(1, MAX_DIGITS + 1):
        candidate = float(f"{threshold:.{digits}g}")
        if low <= candidate < high:
            return candidate
    return threshold


def _simplified(conditions: tuple[Condition, ...]) -> tuple[Condition, ...]:
    """One upper and one lower bound per feature at most (the tightest), features in path order."""
    kept: dict[tuple[str, str], float] = {}
    for c in conditions:
        key = (c.feature, c.op)
        if key not in kept:
            kept[key] = c.value
        else:
            kept[key] = min(kept[key], c.value) if c.op == "<=" else max(kept[key], c.value)
    features = list(dict.fromkeys(c.feature for c in conditions))
    return tuple(Condition(f, op, kept[(f, op)]) for f in features for op in (">", "<=") if (f, op) in kept)


def _text(paths: tuple[tuple[Condition, ...], ...], config: DatasetConfig) -> str:
    """A rule in words: display labels, thresholds as published, paths joined by " or "."""
    if not paths:
        return "No simple rule describes this segment: the rules place its customers in other segments."
    parts = [_path_text(path, config) for path in paths]
    if len(parts) > 1:
        parts = [f"({part})" if len(path) > 1 else part for part, path in zip(parts, paths, strict=True)]
    return " or ".join(parts)


def _path_text(path: tuple[Condition, ...], config: DatasetConfig) -> str:
    if not path:
        return "every customer"
    words = []
    for feature in dict.fromkeys(c.feature for c in path):
        bounds = {c.op: c.value for c in path if c.feature == feature}
        label = config.label(feature)
        if len(bounds) == 2:
            words.append(f"{exact(bounds['>'])} < {label} <= {exact(bounds['<='])}")
        else:
            ((op, value),) = bounds.items()
            words.append(f"{label} {op} {exact(value)}")
    return " and ".join(words)
