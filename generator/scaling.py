"""The scaling K-Means sees: per feature a shift and a width (`Affine`), fitted on the rows as
the configuration's `scale` says, and the rows of a table as K-Means sees them (`Rows`):
all of them scaled in canonical order, or a canonical sample above FIT_SAMPLE rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from generator.config import DatasetConfig
from generator.data import Table
from generator.errors import UserError
from generator.formats import exact

__all__ = ["Affine", "Rows", "canonical_sample", "check_log", "rounded_scaling", "scaling"]

FIT_SAMPLE = 100_000  # above this many rows, K-Means fits a canonical sample and every row is then assigned
CHUNK = 65_536  # rows scaled and assigned at a time when every row is assigned to fitted centres
DIGITS = 12  # significant digits kept of scaling parameters computed in file order


@dataclass(frozen=True)
class Affine:
    """The scaling K-Means saw, per feature: scaled = (f(x) - shift) / width, where f is log1p
    when `log` is true and the identity otherwise. What a scorer elsewhere must apply."""

    shift: tuple[float, ...]
    width: tuple[float, ...]
    log: bool = False

    def apply(self, values: np.ndarray) -> np.ndarray:
        """Values as K-Means sees them."""
        prepared = np.log1p(values) if self.log else values
        result: np.ndarray = (prepared - np.array(self.shift)) / np.array(self.width)
        return result


class Rows:
    """The rows of a table as K-Means sees them: all of them scaled, or a canonical sample.

    Up to FIT_SAMPLE rows, every row is scaled at once in canonical order (sorted by value),
    exactly as fitted. Above it, a seeded sample chosen by the rows' values (so the order of
    rows in the file changes nothing) is fitted, and every row is scaled a chunk at a time
    when it is assigned to the fitted centres, so no scaled copy of a big table is ever held.
    """

    def __init__(self, given: np.ndarray, method: str, seed: int) -> None:
        self.given = given
        self.count = len(given)
        self.exact = self.count <= FIT_SAMPLE
        if self.exact:
            self.fit_rows = np.lexsort(given.T[::-1])  # canonical order: by the first feature, then the next
            self.affine = scaling(given[self.fit_rows], method)
            self.fit = self.affine.apply(given[self.fit_rows])
            self.restore = np.empty_like(self.fit_rows)
            self.restore[self.fit_rows] = np.arange(self.count)
        else:
            self.fit_rows = canonical_sample(given, FIT_SAMPLE, seed)
            self.affine = scaling(given, method)
            self.fit = self.affine.apply(given[self.fit_rows])
            self.restore = np.zeros(0, dtype=np.int64)

    def scaled(self, rows: np.ndarray) -> np.ndarray:
        """Scaled values of the given rows (file order indices)."""
        return self.fit[self.restore[rows]] if self.exact else self.affine.apply(self.given[rows])

    def chunks(self) -> Iterator[tuple[int, np.ndarray]]:
        """Every row scaled, a chunk at a time, with the index of its first row."""
        for start in range(0, self.count, CHUNK):
            yield start, self.affine.apply(self.given[start:start + CHUNK])


def canonical_sample(given: np.ndarray, size: int, seed: int) -> np.ndarray:
    """`size` rows chosen by a seeded hash of their values, in canonical (sorted) order.

    Rows with equal values hash alike, so the sample holds the same values whichever order
    the rows come in; ties at the cut are broken by value, never by position.
    """
    mixed = np.full(len(given), (seed * 0x9E3779B97F4A7C15) % 2**64, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(given.shape[1]):
            mixed ^= np.ascontiguousarray(given[:, j]).view(np.uint64)  # one column at a time
            mixed *= np.uint64(0xBF58476D1CE4E5B9)
            mixed ^= mixed >> np.uint64(31)
    cut = np.partition(mixed, size - 1)[size - 1]
    below = np.flatnonzero(mixed < cut)
    at = np.flatnonzero(mixed == cut)
    if len(below) + len(at) > size:  # equal hashes at the cut: keep the smallest rows by value
        at = at[np.lexsort(given[at].T[::-1])][: size - len(below)]
    chosen = np.concatenate([below, at])
    result: np.ndarray = chosen[np.lexsort(given[chosen].T[::-1])]
    return result


def scaling(given: np.ndarray, method: str) -> Affine:
    """The scaling K-Means sees, fitted on `given`: `standard` (mean and standard deviation),
    `minmax`, `robust` (median and interquartile range), `log` (log1p, then standard) or `none`,
    as scikit-learn's scalers define them. One column at a time: no scaled copy of a big table.

    Parameters are rounded to DIGITS significant digits, so that summation order (the file's
    row order) cannot change them; constant features keep width 1, as in scikit-learn.
    """
    count = given.shape[1]
    if method == "log":  # standard scaling of log1p, one column at a time: no logged copy of the table
        shift = np.array([float(np.log1p(given[:, j]).mean()) for j in range(count)])
        width = np.sqrt(np.array([((np.log1p(given[:, j]) - shift[j]) ** 2).mean() for j in range(count)]))
    elif method == "standard":
        shift = given.mean(axis=0)
        width = np.sqrt(np.array([((given[:, j] - shift[j]) ** 2).mean() for j in range(count)]))
    elif method == "minmax":
        shift = given.min(axis=0)
        width = given.max(axis=0) - shift
    elif method == "robust":
        low, shift, high = np.percentile(given, [25, 50, 75], axis=0)
        width = high - low
    elif method == "none":
        shift, width = np.zeros(count), np.ones(count)
    else:
        raise ValueError(f"unknown scaling {method!r}")
    shift, width = rounded_scaling(shift, width)
    return Affine(tuple(float(v) for v in shift), tuple(float(v) for v in width), log=method == "log")


def rounded_scaling(shift: np.ndarray, width: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scaling parameters rounded to DIGITS significant digits, so that summation order cannot
    change them; a constant feature (width 0) keeps width 1, as in scikit-learn."""
    width = np.where(width > 0, width, 1.0)

    def rounded(values: np.ndarray) -> np.ndarray:
        return np.array([float(f"{v:.{DIGITS}g}") for v in values])

    return rounded(shift), rounded(width)


def check_log(given: np.ndarray, table: Table, config: DatasetConfig) -> None:
    """`scale: log` takes log1p of every value: a negative one is an error naming its column and row."""
    negative = given < 0
    if not negative.any():
        return
    row, column = (int(v[0]) for v in np.nonzero(negative))
    counted = "row" if not table.dropped else "row (counting the rows used)"
    raise UserError(f"{table.origin}: column {config.features[column]!r}, {counted} {row + 1}: "
                    f"{exact(float(given[row, column]))} is negative; scale: log ({config.path}) needs values of 0 "
                    "or more")
