"""The results every later stage reads: a dataset's `Report` and the `Tutorial`.

They sit below pages, downloads, the single-file report and the cache, so that each of those
reads the same types without importing another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from generator.config import DatasetConfig
from generator.data import Accounting
from generator.illustrations import Illustrations
from generator.migration import Migration
from generator.profiles import Profile
from generator.purchases import LogSummary
from generator.rules import Rules
from generator.segmentation import Segmentation


@dataclass(frozen=True)
class Report:
    """Everything one report page shows."""

    config: DatasetConfig
    table: Accounting  # the table's rows read, used and dropped, and where they came from (no rows)
    result: Segmentation
    profiles: tuple[Profile, ...]
    illustrations: Illustrations
    versions: dict[str, str]
    rows: bytes | None = None  # assignments.csv, written once per analysis when rows are published
    rules: Rules | None = None  # every segment as thresholds on the features
    scorer: str | None = None  # scorer.sql: the segments in SQL
    purchases: LogSummary | None = None  # the transaction log the customers were derived from
    migration: Migration | None = None  # segments followed across the snapshot dates
    migration_rows: bytes | None = None  # migration.csv, written with assignments.csv


@dataclass(frozen=True)
class Step:
    """One snippet and what running it showed."""

    code: str
    printed: str  # standard output, may be empty
    shown: Any  # the value of the last expression, or None


@dataclass(frozen=True)
class Trial:
    """One tab of "try other k": its code, chart, centres and inertia."""

    k: int
    fit: Step
    image: bytes
    centres: Step
    inertia: float


@dataclass(frozen=True)
class Facts:
    """The numbers the tutorial's prose quotes, read off the namespace its code ran in."""

    age_range: float
    spend_range: float
    age_std: float
    spend_std: float
    inertia: float
    members: dict[int, list[int]]  # customer ids of each cluster of the first fit
    centres_equal_means: bool  # scikit-learn's centres are the means of the clusters' rows
    scaled_agree: int  # customers grouped as in the unscaled fit after standardising
    customers: int


@dataclass(frozen=True)
class Tutorial:
    """Everything the tutorial page shows, each value produced by running its code."""

    load: Step
    fit: Step
    plot: Step
    image: bytes
    centres: Step
    scaled: Step
    compare: Step
    comparison: bytes
    trials: tuple[Trial, ...]
    facts: Facts
