"""Caveats: what a reader should know about a table's features before trusting its segments.

A feature with one value cannot separate segments; one with a handful of whole-number values is
likely a code (a channel, a region) whose distances mean nothing; one that counts up by one is an
id; a few negative values among positive ones may be errors. The report shows these notes.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from generator.config import DatasetConfig


def feature_notes(features: pd.DataFrame, config: DatasetConfig) -> tuple[str, ...]:
    """Warnings for the report: features that cannot separate segments or look like codes."""
    notes = []
    for name in features.columns:
        column = features[name].to_numpy()
        label = config.label(name)
        codes = _few_values(column, 5) if len(column) >= 20 else None
        if (column == column[0]).all():
            notes.append(f"{label} has the same value in every row, so it cannot separate segments.")
        elif codes is not None and all(math.isclose(v, round(v)) for v in codes):
            notes.append(f"{label} takes only {len(codes)} whole-number values: if it is a code "
                         "(a channel, a region), its distances mean nothing and it should not be a feature.")
        elif len(column) >= 20 and column[1] - column[0] == 1 and (np.diff(column) == 1).all():
            # steps of exactly 1 also make every value distinct
            notes.append(f"{label} counts up by one on every row, like an id: it should not be a feature.")
        negative = int(np.count_nonzero(column < 0))
        if 0 < negative <= 0.05 * len(column):
            notes.append(f"{label} is negative in {negative} row(s) and positive or zero in the rest: "
                         "check that these values are not errors (returns, corrections, test rows).")
    return tuple(notes)


def _few_values(column: np.ndarray, most: int) -> np.ndarray | None:
    """The distinct values of a column if there are at most `most` of them, else None.

    Looks at ever longer beginnings of the column, so a column with many values is told at once.
    """
    size = 64
    while True:
        values: np.ndarray = pd.unique(column[:size])
        if len(values) > most:
            return None
        if size >= len(column):
            return values
        size *= 64
