"""The SQL scorer: `scorer.sql`, one SELECT that puts the rows of a table `customers` into the
report's segments as the report's model does (the same scaling, the nearest fitted centre).

Plain SQL that SQLite, DuckDB and PostgreSQL run: identifiers in double quotes (a `"` inside
doubled) and qualified by the table, so a name from the data is never read as SQL, and a
missing column is an error even in SQLite; numbers written with `repr` precision, so the
centres and scaling parameters are the model's to the last bit. Ties go to the lowest
segment number; a row with a blank feature gets no segment.
"""

from __future__ import annotations

import math

import numpy as np

from generator.config import DatasetConfig
from generator.data import Accounting, Table, published_id
from generator.scaling import Affine
from generator.segmentation import Segmentation

TABLE = "customers"  # the table or view the scorer reads
SEGMENT = "segment"  # the column of the result that holds the segment


def quote(name: str) -> str:
    """An SQL identifier, whatever characters it holds."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: float) -> str:
    """A number as SQL reads it back exactly (negative numbers in brackets: `x - (-1.5)`, never `--`)."""
    if not math.isfinite(value):
        raise ValueError(f"no SQL literal for {value!r}")
    text = repr(float(value))
    return f"({text})" if text.startswith("-") else text


def scorer_sql(config: DatasetConfig, result: Segmentation, table: Table | Accounting) -> str | None:
    """`scorer.sql` for one report; None when the engine did not say how it scaled (Spark), or
    when every segment is withheld (`suppress_below`)."""
    if result.scoring is None or result.scoring.centers.shape != (result.k, len(config.features)):
        return None
    affine, centers = result.scoring.affine, result.scoring.centers
    withheld = config.withheld(s.size for s in result.segments)
    shown = [s for s in range(result.k) if s not in withheld]  # a withheld centre is not written down
    if not shown:
        return None
    # The id column is selected when assignments.csv publishes it (not when it looks personal).
    published = published_id(config, table)
    ident = quote(published) if published is not None else None
    prefix = _prefix(published, len(config.features), result.k)
    source = [f"    {quote(TABLE)}.{ident} AS {ident},"] if ident else []  # qualified: never a string in SQLite
    kept = [f"    {ident},"] if ident else []

    def value(j: int, feature: str) -> str:
        column = f"CAST({quote(TABLE)}.{quote(feature)} AS DOUBLE PRECISION)"
        return f"LN(1 + {column})" if affine.log else column

    scaled = [f"    ({value(j, f)} - {literal(affine.shift[j])}) / {literal(affine.width[j])} AS {prefix}s{j}"
              for j, f in enumerate(config.features)]
    distances = []
    for s in shown:
        terms = [f"({prefix}s{j} - {literal(float(centers[s, j]))}) * ({prefix}s{j} - {literal(float(centers[s, j]))})"
                 for j in range(len(config.features))]
        distances.append(f"    {' + '.join(terms)} AS {prefix}d{s}")
    choices = [f"      WHEN {prefix}d{shown[0]} IS NULL THEN NULL"]
    for at, s in enumerate(shown[:-1]):
        closer = " AND ".join(f"{prefix}d{s} <= {prefix}d{other}" for other in shown[at + 1:])
        choices.append(f"      WHEN {closer} THEN {s}")
    choices.append(f"      ELSE {shown[-1]}")
    hidden = ", ".join(str(s) for s in sorted(withheld))
    note = [f"-- Withheld (suppress_below: {config.suppress_below}): the centre of segment(s) {hidden}. A row",
            "-- nearest to a withheld centre gets the nearest published centre instead."] if withheld else []
    lines = [
        f"-- Segments of the report {config.id}: each row of the table or view {TABLE} (with the columns",
        "-- it names) gets the segment whose centre is nearest after the report's scaling",
        f"-- ({config.scale}), as the report assigned its customers. Ties go to the lowest segment",
        "-- number; a row with a blank feature gets no segment. SQLite, DuckDB and PostgreSQL run it.",
        *(["-- `log` scaling uses LN: SQLite needs its math functions (built in since 3.35)."] if affine.log else []),
        *note,
        "WITH scaled AS (",
        "  SELECT",
        *source,
        ",\n".join(scaled),
        f"  FROM {quote(TABLE)}",
        "),",
        "distances AS (",
        "  SELECT",
        *kept,
        ",\n".join(distances),
        "  FROM scaled",
        ")",
        "SELECT",
        *kept,
        "    CASE",
        *choices,
        f"    END AS {SEGMENT}",
        "FROM distances;",
    ]
    return "\n".join(lines) + "\n"


def _prefix(id_column: str | None, features: int, k: int) -> str:
    """A prefix for the query's own column names that the id column's name cannot be."""
    prefix = "scorer_"
    names = {f"s{j}" for j in range(features)} | {f"d{s}" for s in range(k)}
    while id_column is not None and id_column.casefold().removeprefix(prefix.casefold()) in names:
        prefix = "_" + prefix
    return prefix


def nearest(values: list[float], affine: Affine, centers: np.ndarray, withheld: frozenset[int] = frozenset()) -> int:
    """The segment of one customer, computed as the calculator on the report page computes it:
    feature by feature, the first segment at the smallest distance; `withheld` centres are
    unknown to the calculator and skipped."""
    best, smallest = -1, math.inf
    for s, center in enumerate(centers.tolist()):
        if s in withheld:
            continue
        distance = 0.0
        for x, shift, width, c in zip(values, affine.shift, affine.width, center, strict=True):
            z = ((math.log1p(x) if affine.log else x) - shift) / width - c
            distance += z * z
        if distance < smallest:
            best, smallest = s, distance
    return best
