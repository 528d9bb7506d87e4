"""Rules: each segment described as thresholds on the features, in their original units.

A shallow decision tree (scikit-learn's, depth at most DEPTH) is fitted to the segment
labels; every leaf is a path of conditions, and a segment's rule is the OR of the paths of
the leaves that put customers in it. The leaves partition the space, so every customer
matches exactly one rule. Thresholds are rounded to fewer significant digits only where no
customer reaching the split changes side, and every count here (which segment a leaf gives,
the fidelity) comes from applying the published thresholds to every customer, in float64.
The segmentation is read, never refitted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from generator.config import DatasetConfig
from generator.data import Table
from generator.formats import exact
from generator.model import FIT_SAMPLE, Segmentation, canonical_sample

if TYPE_CHECKING:  # scikit-learn loads when rules are computed, not for cached reports
    from sklearn.tree import DecisionTreeClassifier

DEPTH = 3  # the deepest path: three conditions a person can hold in mind
LOW_FIDELITY = 0.8  # below this share of customers, the report says thresholds describe the segments badly
MAX_DIGITS = 17  # significant digits after which a threshold is kept as the tree placed it


@dataclass(frozen=True)
class Condition:
    """One threshold: `feature` `op` `value`, with `op` "<=" or ">"."""

    feature: str
    op: str
    value: float


@dataclass(frozen=True)
class Rule:
    """A segment's rule: it matches a customer when every condition of one of its paths holds."""

    segment: int
    paths: tuple[tuple[Condition, ...], ...]  # empty: no leaf of the tree gives this segment
    text: str  # "Milk > 12,000 and Grocery <= 9,500", display labels, paths joined by " or "
    fidelity: float  # share of the segment's customers whose matching rule is this one
    matched: int  # customers of any segment whose matching rule is this one


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
             "fidelity": r.fidelity, "matched": r.matched}
            for r in self.segments]}


@dataclass(frozen=True)
class _Leaf:
    conditions: tuple[Condition, ...]
    members: np.ndarray  # bool per customer: the customers the path matches
    segment: int


def explain(table: Table, result: Segmentation, config: DatasetConfig) -> Rules | None:
    """The rules of `result`'s segments over the table's customers; None without per-customer labels."""
    values = table.features[list(config.features)].to_numpy(dtype=float)
    labels = np.asarray(result.labels).astype(np.int64)
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
        rules.append(Rule(
            segment=s,
            paths=paths,
            text=_text(paths, config),
            fidelity=float(right[labels == s].sum() / sizes[s]) if sizes[s] else 0.0,
            matched=int((matched == s).sum()),
        ))
    return Rules(fidelity=float(right.mean()), segments=tuple(rules))


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
