"""Profiles: a name and a one-line description for every segment, from its centre.

A centre is compared with the overall average of each feature in standard deviations
(z) and as an index (100 = average). Names use the features that set a segment apart
most; the site author's `names:` replace them.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.config import DatasetConfig
from generator.formats import index as index_text
from generator.model import Segmentation

NOTABLE = 0.2  # |z| from which a feature counts as setting a segment apart
STRONG = 1.0  # |z| from which it is "much" higher or lower
NAMED_FEATURES = 2  # features in a generated name
DESCRIBED_FEATURES = 4  # features in a description
# Features derived from a purchase log whose direction has words of its own: (higher, lower).
# A low recency (few days since the last purchase) is a recent customer, not a "low" one.
OWN_WORDS = {"recency": ("lapsed", "recent")}
OWN_DESCRIPTIONS = {"recency": ("last bought {much}longer ago than average", "bought {much}more recently than average")}


@dataclass(frozen=True)
class Profile:
    """How one segment differs from the average customer."""

    number: int
    name: str
    description: str
    z: dict[str, float]  # (centre - overall mean) / overall standard deviation
    index: dict[str, float | None]  # centre / overall mean * 100; None when the mean is 0


def profile(result: Segmentation, config: DatasetConfig) -> tuple[Profile, ...]:
    """Name and describe every segment of `result`, in segment order."""
    drafts = []
    for segment in result.segments:
        z = {f: _z(c, result.overall[f], result.spread[f]) for f, c in segment.center.items()}
        index = {f: (100 * c / result.overall[f] if result.overall[f] else None)
                 for f, c in segment.center.items()}
        drafts.append((segment.number, z, index))
    names = _unique_names([z for _, z, _ in drafts], config)
    return tuple(
        Profile(number, config.names.get(number, names[number]), _describe(z, index, config), z, index)
        for number, z, index in drafts
    )


def _z(centre: float, mean: float, spread: float) -> float:
    return (centre - mean) / spread if spread > 0 else 0.0


def _notable(z: dict[str, float]) -> list[str]:
    """Features whose centre is notably off average, strongest first (ties by name order)."""
    ranked = sorted(z, key=lambda f: -abs(z[f]))
    return [f for f in ranked if abs(z[f]) >= NOTABLE]


def _name(z: dict[str, float], config: DatasetConfig, count: int) -> str:
    features = _notable(z)[:count]
    if not features:
        return "Close to average"
    groups: list[tuple[str, list[str]]] = []
    for feature in features:
        own = OWN_WORDS.get(feature) if config.transactions is not None else None
        if own is not None:
            groups.append((own[0] if z[feature] > 0 else own[1], []))
            continue
        word = "high" if z[feature] > 0 else "low"
        if groups and groups[-1][0] == word:
            groups[-1][1].append(config.label(feature))
        else:
            groups.append((word, [config.label(feature)]))
    text = ", ".join(f"{word} {' and '.join(labels)}" if labels else word for word, labels in groups)
    return text[0].upper() + text[1:]


def _unique_names(zs: list[dict[str, float]], config: DatasetConfig) -> list[str]:
    """Generated names, with more features (then the number) where two would coincide."""
    names = [_name(z, config, NAMED_FEATURES) for z in zs]
    for count in range(NAMED_FEATURES + 1, len(config.features) + 1):
        clashes = {n for n in names if names.count(n) > 1}
        if not clashes:
            break
        names = [_name(z, config, count) if n in clashes else n for n, z in zip(names, zs, strict=True)]
    return [f"{n} ({i})" if names.count(n) > 1 else n for i, n in enumerate(names)]


def _describe(z: dict[str, float], index: dict[str, float | None], config: DatasetConfig) -> str:
    features = _notable(z)[:DESCRIBED_FEATURES]
    if not features:
        return "Close to the overall average on every feature."
    parts: list[str] = []
    for feature in features:
        size = "much " if abs(z[feature]) >= STRONG else ""
        direction = "higher" if z[feature] > 0 else "lower"
        value = index[feature]
        shown = f" (index {index_text(value)})" if value is not None else ""
        own = OWN_DESCRIPTIONS.get(feature) if config.transactions is not None else None
        if own is not None:
            phrase = (own[0] if z[feature] > 0 else own[1]).format(much=size) + shown
            parts.append(phrase if parts else phrase[0].upper() + phrase[1:])
            continue
        parts.append(f"{config.label(feature)} {size}{direction} than average{shown}")
    text = "; ".join(parts) + "."
    return text[0].upper() + text[1:]  # a label may start in lower case ("recency")
