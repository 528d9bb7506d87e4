"""Profiles: a name and a one-line description for every segment, from its centre.

A centre is compared with the overall average of each feature in standard deviations
(z) and as an index (100 = average). Names use the features that set a segment apart
most; the site author's `names:` replace them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from generator.config import DatasetConfig
from generator.formats import index as index_text
from generator.segmentation import Segmentation

NOTABLE = 0.25  # |z| from which a feature sets a segment apart; within it on every feature, a segment is average
STRONG = 1.0  # |z| from which it is "much" higher or lower
NAMED_FEATURES = 2  # features in a generated name
DESCRIBED_FEATURES = 4  # features in a description
AVERAGE = "Average customers"  # the name of a segment within NOTABLE of the average on every feature
# Features whose direction has words of their own: (higher, lower). A low recency (few days since
# the last purchase) is a recent customer, not a "low" one; log words only where a log defines the feature.
OWN_WORDS = {"age": ("older", "younger")}
LOG_WORDS = {"recency": ("lapsed", "recent"), "frequency": ("frequent", "occasional"),
             "monetary": ("big-spending", "small-spending"), "tenure": ("long-standing", "new")}
OWN_DESCRIPTIONS = {"recency": ("last bought {much}longer ago than average", "bought {much}more recently than average")}
# Qualifiers dropped from a label in a name, where a word remains: "Annual Income (k$)" is "income".
QUALIFIERS = {"annual", "yearly", "monthly", "weekly", "total", "average", "mean"}


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
        z = {f: _z(c, result.population.overall[f], result.population.spread[f]) for f, c in segment.center.items()}
        index = {f: (100 * c / result.population.overall[f] if result.population.overall[f] else None)
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


def word(label: str) -> str:
    """A column's label as a word in a name: units in brackets and qualifiers dropped, lower case
    except acronyms ("Annual Income (k$)" -> "income", "Spending Score (1-100)" -> "spending score")."""
    bare = re.sub(r"\s*[(\[][^)\]]*[)\]]", " ", label)
    words = [w if len(w) > 1 and w.isupper() else w.lower() for w in re.split(r"[\s_]+", bare) if w]
    while len(words) > 1 and words[0].lower() in QUALIFIERS:
        words = words[1:]
    return " ".join(words) or label


def _phrase(feature: str, sign: float, config: DatasetConfig) -> tuple[str, str | None]:
    """(adjective, noun) saying which way a segment differs on `feature`: ("older", None), ("higher", "income")."""
    own = OWN_WORDS.get(word(config.label(feature)))
    if own is None and config.transactions is not None:
        own = LOG_WORDS.get(feature)
    if own is not None:
        return own[0] if sign > 0 else own[1], None
    return "higher" if sign > 0 else "lower", word(config.label(feature))


def _words(signs: list[tuple[str, float]], config: DatasetConfig) -> str:
    """Phrases for (feature, sign) pairs, nouns of the same direction joined: "higher income and spending score"."""
    groups: list[tuple[str, list[str]]] = []
    for feature, sign in signs:
        adjective, noun = _phrase(feature, sign, config)
        if noun is not None and groups and groups[-1][0] == adjective and groups[-1][1]:
            groups[-1][1].append(noun)
        else:
            groups.append((adjective, [noun] if noun is not None else []))
    return ", ".join(f"{adjective} {' and '.join(nouns)}" if nouns else adjective for adjective, nouns in groups)


def _name(z: dict[str, float], config: DatasetConfig, count: int) -> str:
    features = _notable(z)[:count]
    if not features:
        return AVERAGE
    text = _words([(f, z[f]) for f in features], config)
    return text[0].upper() + text[1:]


def _meaning(z: dict[str, float], count: int) -> frozenset[tuple[str, bool]]:
    """What a generated name says, whatever the order of its words: each named feature and its direction."""
    return frozenset((f, z[f] > 0) for f in _notable(z)[:count])


def _unique_names(zs: list[dict[str, float]], config: DatasetConfig) -> list[str]:
    """Generated names; where two would say the same thing, the feature that tells them apart most is
    added to each (which way it differs from the others), then the number where that is not enough."""
    names = [_name(z, config, NAMED_FEATURES) for z in zs]
    meanings = [_meaning(z, NAMED_FEATURES) for z in zs]
    for meaning in set(meanings):
        group = [i for i, m in enumerate(meanings) if m == meaning]
        if len(group) < 2:
            continue
        named = {f for f, _ in meaning}
        spare = [f for f in config.features if f not in named]
        if not spare:
            continue
        # The feature on which the clashing segments lie furthest apart, and each one's side of their middle.
        apart = max(spare, key=lambda f: (max(zs[i][f] for i in group) - min(zs[i][f] for i in group),
                                          -config.features.index(f)))
        middle = sum(zs[i][apart] for i in group) / len(group)
        for i in group:
            if zs[i][apart] != middle:
                names[i] += ", " + _words([(apart, zs[i][apart] - middle)], config)
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
