"""Migration: customers segmented at every snapshot date, segments followed from one date to the next.

Every date is segmented with the same k (the one chosen or fixed at the last date, as_of). The
last date keeps the report's own segment numbers; going back one date at a time, each segment
takes the number of the segment at the next date whose centre is nearest (Hungarian matching,
one to one). Centres are compared in standard deviations of each feature among the customers at
the last date, so a feature's units do not decide the match.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from generator.config import DatasetConfig
from generator.formats import WITHHELD, count
from generator.model import segment
from generator.purchases import Customers
from generator.segmentation import Segment, Segmentation


@dataclass(frozen=True)
class DateSegments:
    """The segments at one date, numbered to match the segments at the last date."""

    date: datetime.date
    customers: int
    segments: tuple[Segment, ...]
    moved: tuple[float, ...] | None  # per segment: how far its centre moved since the previous date (SDs)


@dataclass(frozen=True)
class Flow:
    """Customers between two consecutive dates: `counts[i][j]` were in segment i (row k: not yet
    customers) at `start` and in segment j at `end`."""

    start: datetime.date
    end: datetime.date
    counts: np.ndarray  # (k + 1) x k integers

    def shown(self, below: int) -> list[list[int | str]]:
        """The counts as published: a cell of 1 to `below` - 1 customers reads "< below", and a cell
        withheld so that the sizes at both dates (the table's row and column totals) cannot give
        such a cell away reads "withheld"; the others keep their number."""
        small = (self.counts > 0) & (self.counts < below)
        hidden = hidden_cells(self.counts, small)
        return [[count(int(n), below) if small[i, j] else WITHHELD if hidden[i, j] else int(n)
                 for j, n in enumerate(row)] for i, row in enumerate(self.counts)]


@dataclass(frozen=True)
class Migration:
    """Segments followed across the snapshot dates."""

    k: int
    dates: tuple[DateSegments, ...]
    flows: tuple[Flow, ...]
    spread: dict[str, float]  # the standard deviation of each feature at the last date: the unit of `moved`

    def document(self, names: list[str], suppress_below: int = 0) -> dict[str, Any]:
        """`snapshots` and `migration` of segments.json (DESIGN.md), segments named by `names`.

        A segment of fewer than `suppress_below` customers at a date keeps its size, not its
        centre (`center` null, `withheld` true); a flow below it reads "< N", not its count."""
        def withheld(d: DateSegments, number: int) -> bool:
            return d.segments[number].size < suppress_below

        def moved(d: DateSegments, number: int) -> float | None:
            if d.moved is None or withheld(d, number):
                return None
            return d.moved[number]

        def cells(flow: Flow) -> list[list[int | str]]:
            shown = flow.shown(suppress_below)
            return [[shown[i][j] if isinstance(shown[i][j], str) else int(flow.counts[i, j])
                     for j in range(self.k)] for i in range(self.k + 1)]

        return {
            "snapshots": [{"date": d.date.isoformat(), "customers": d.customers,
                           "segments": [{"segment": s.number, "name": names[s.number], "size": s.size,
                                         "center": None if withheld(d, s.number) else s.center,
                                         "moved": moved(d, s.number)}
                                        | ({"withheld": True} if withheld(d, s.number) else {})
                                        for s in d.segments]}
                          for d in self.dates],
            "migration": [{"from": f.start.isoformat(), "to": f.end.isoformat(), "rows": [*range(self.k), "new"],
                           "columns": list(range(self.k)),
                           "counts": cells(f)}
                          for f in self.flows],
        }


def follow(customers: Customers, config: DatasetConfig, result: Segmentation, segments: np.ndarray,
           pool: Executor | None = None) -> tuple[Migration, np.ndarray]:
    """Segment every snapshot date with the report's k and keep segment numbers across dates.

    `result` is the report's segmentation of `customers.table`, at the last date (as_of), and
    `segments` the segment of each of its customers. Returns the migration and, for every
    customer at the last date, the segment at each date (-1 before the first purchase).
    """
    k = result.k
    fixed = replace(config, n_clusters=k)
    snapshots = customers.snapshots
    results = [segment(snap.table, fixed, pool, measured=False) for snap in snapshots[:-1]] + [(result, segments)]
    labels = np.full((customers.table.rows_used, len(snapshots)), -1, dtype=np.int64)
    for column, (snap, (_, found)) in enumerate(zip(snapshots, results, strict=True)):
        labels[snap.rows, column] = np.asarray(found, dtype=np.int64)
    counts = []
    for column in range(len(snapshots) - 1):
        start, end = labels[:, column], labels[:, column + 1]
        present = end >= 0
        rows = np.where(start[present] < 0, k, start[present])
        counts.append(np.bincount(rows * k + end[present], minlength=(k + 1) * k).reshape(k + 1, k))
    dates = [(snap.date, snap.table.rows_used, found.segments)
             for snap, (found, _) in zip(snapshots, results, strict=True)]
    migration, shown = migrate(config, result, dates, counts, labels)
    assert shown is not None
    return migration, shown


def migrate(config: DatasetConfig, result: Segmentation,
            dates: Sequence[tuple[datetime.date, int, tuple[Segment, ...]]], counts: Sequence[np.ndarray],
            labels: np.ndarray | None) -> tuple[Migration, np.ndarray | None]:
    """Segments at every date numbered to match those of the last (`result`), whichever engine found them.

    `dates` holds each date's customers and segments in its own canonical numbers; `counts` the
    customers between consecutive dates in those numbers (row k: not yet a customer); `labels`,
    where the rows are published, each customer's segment at every date (-1: not yet a customer).
    Returns the migration and those labels in the kept numbers (None without labels).
    """
    from scipy.optimize import linear_sum_assignment

    k = result.k
    spread = np.array([result.population.spread[f] for f in config.features])
    unit = np.where(spread > 0, spread, 1.0)

    def centres(segments: tuple[Segment, ...]) -> np.ndarray:
        return np.array([[s.center[f] for f in config.features] for s in segments]) / unit

    found = [segments for _, _, segments in dates]
    numbers = [np.arange(k)]  # the number each date's segments take, from the last date back
    for earlier in reversed(found[:-1]):
        later = found[len(found) - len(numbers)]
        target = np.empty_like(numbers[0])
        ordered = centres(later)
        target[numbers[0]] = np.arange(k)  # rows of `ordered` by the later date's kept numbers
        gaps = np.linalg.norm(centres(earlier)[:, None, :] - ordered[target][None, :, :], axis=2)
        rows, columns = linear_sum_assignment(gaps)
        renumber = np.empty(k, dtype=np.int64)
        renumber[rows] = columns
        numbers.insert(0, renumber)

    kept_dates = []
    previous: np.ndarray | None = None
    for (date, customers, segments), renumber in zip(dates, numbers, strict=True):
        kept = tuple(sorted((replace(s, number=int(renumber[s.number])) for s in segments), key=lambda s: s.number))
        now = centres(kept)
        moved = None if previous is None else tuple(float(v) for v in np.linalg.norm(now - previous, axis=1))
        kept_dates.append(DateSegments(date, customers, kept, moved))
        previous = now
    flows = []
    for column, raw in enumerate(counts):
        table = np.zeros((k + 1, k), dtype=np.int64)
        table[np.ix_(np.append(numbers[column], k), numbers[column + 1])] = raw
        flows.append(Flow(dates[column][0], dates[column + 1][0], table))
    shown = None
    if labels is not None:
        shown = np.full(labels.shape, -1, dtype=np.int64)
        for column, renumber in enumerate(numbers):
            present = labels[:, column] >= 0
            shown[present, column] = renumber[labels[present, column]]
    return Migration(k=k, dates=tuple(kept_dates), flows=tuple(flows),
                     spread={f: float(v) for f, v in zip(config.features, spread, strict=True)}), shown


def hidden_cells(counts: np.ndarray, small: np.ndarray) -> np.ndarray:
    """The cells of a flow table that are not published: the `small` ones and, wherever a row or a
    column would hold just one hidden cell (its total is known from the sizes at each date, so the
    cell would be its total less the others), the smallest other cell of it too, until none does
    (secondary suppression)."""
    hidden = small.copy()
    changed = True
    while changed:
        changed = False
        for mask, values in ((hidden, counts), (hidden.T, counts.T)):  # rows, then columns (views)
            for line in range(mask.shape[0]):
                others = np.flatnonzero(~mask[line])
                if mask[line].sum() == 1 and len(others):
                    mask[line, others[np.argmin(values[line, others])]] = True
                    changed = True
    return hidden


def largest_moves(migration: Migration, count: int = 3, below: int = 0) -> list[tuple[Flow, int, int, int]]:
    """The largest flows between different segments (or into a segment from not yet a customer):
    (flow, from row, to segment, customers), largest first; only flows published as numbers (`below`)."""
    moves = []
    for flow in migration.flows:
        shown = flow.shown(below)
        for i in range(migration.k + 1):
            for j in range(migration.k):
                if i != j and flow.counts[i, j] > 0 and not isinstance(shown[i][j], str):
                    moves.append((flow, i, j, int(flow.counts[i, j])))
    moves.sort(key=lambda move: (-move[3], move[0].start, move[1], move[2]))
    return moves[:count]
