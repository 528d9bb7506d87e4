"""Downloads: the machine-readable result (`segments.json`) and the rows (`assignments.csv`)."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from generator.data import NUMBER, Table, published_id
from generator.results import Report

# OWASP: a cell starting with one of these is a formula to a spreadsheet program.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CHUNK_ROWS = 1 << 16  # rows of a CSV formatted at a time
EXACT_INTEGERS = 2.0**63  # whole floats below this are written as integers: int64 holds them exactly

Column = NDArray[Any] | Sequence[str]  # numbers (a numpy array of ints or floats) or text


def segments_json(report: Report) -> bytes:
    """`segments.json`, as DESIGN.md's contract describes it."""
    config, table, result = report.config, report.table, report.result
    withheld = config.withheld(s.size for s in result.segments)
    document: dict[str, Any] = {
        "dataset": config.id,
        "title": config.title,
        "features": list(config.features),
        "labels": {f: config.label(f) for f in config.features},
        "scale": config.scale,
        "n_clusters": result.k,
        "random_state": config.random_state,
        "n_init": config.n_init,
        "rows": {"read": table.rows_read, "used": table.rows_used,
                 "dropped": table.rows_read - table.rows_used},
        "dropped_because": dict(table.dropped),
        "publish_rows": config.publish_rows,
        "suppress_below": config.suppress_below,
        "segments": [
            {"segment": s.number, "name": p.name, "size": s.size, "share": s.share, "withheld": True,
             "description": None, "center": None, "median": None, "index": None,
             "stability": s.stability, "stability_band": s.band}
            if s.number in withheld else
            {"segment": s.number, "name": p.name, "description": p.description, "size": s.size,
             "share": s.share, "center": s.center, "median": s.median,
             "index": {f: (round(v, 1) if v is not None else None) for f, v in p.index.items()},
             "stability": s.stability, "stability_band": s.band}
            for s, p in zip(result.segments, report.profiles, strict=True)
        ],
        "overall_mean": result.population.overall,
        "overall_sd": result.population.spread,
        "inertia": result.inertia,
        "silhouette": result.silhouette,
        "silhouette_sampled": result.evidence.silhouette_sampled,
        "stability": result.stability,
        "stability_sampled": result.evidence.stability_sampled,
        # Evaluated for a range, and beside a fixed n_clusters as evidence.
        "candidates": [
            {"k": c.k, "inertia": c.inertia, "silhouette": c.silhouette,
             "calinski_harabasz": c.calinski_harabasz, "davies_bouldin": c.davies_bouldin,
             "stability": c.stability, "min_share": c.min_share, "reference_silhouette": c.reference,
             "reference_spread": c.reference_spread, "min_jaccard": c.min_jaccard,
             "silhouette_spread": c.silhouette_spread}
            for c in result.evidence.candidates
        ],
        "recommendation": {"k": result.recommended, "reason": result.evidence.reason, "fixed": result.evidence.fixed,
                           "rule": result.evidence.choice.rule, "min_segment_share": result.evidence.choice.min_share,
                           "passed_over": [asdict(p) for p in result.evidence.choice.passed_over],
                           "dissolved": list(result.evidence.choice.dissolved),
                           "best_separated": result.evidence.choice.best_separated},
        "structure_reasons": list(result.evidence.verdict.reasons),
        "knee": result.evidence.knee,
        "structure": result.structure,
        "reference_silhouette": result.reference_silhouette,
        "reference_spread": next((c.reference_spread for c in result.evidence.candidates if c.k == result.k), None),
        "data_sha256": table.sha256,
        "versions": report.versions,
    }
    if report.purchases is not None:
        document |= report.purchases.document()
    if report.migration is not None:
        document |= report.migration.document([p.name for p in report.profiles], config.suppress_below)
    if report.rules is not None:
        document["rules"] = report.rules.document(withheld)
    for part in (*document["segments"], document):  # features' means and medians, in the features' units
        for key in ("center", "median", "overall_mean"):
            if isinstance(part.get(key), dict):
                part[key] = {name: without_noise(value) for name, value in part[key].items()}
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()


def without_noise(value: object) -> object:
    """A float to 15 significant digits: a mean of amounts in cents reads -39.33, not -39.330000000000005
    (the binary noise of float arithmetic sits in the 16th and 17th digits)."""
    return float(f"{value:.15g}") if isinstance(value, float) else value


def migration_csv(report: Report, table: Table, moves: np.ndarray) -> bytes:
    """`migration.csv`: every customer at the last date of the report's `table`, then their segment
    at each snapshot date (`moves`: customers x dates, -1 before their first purchase, written empty);
    the customer column only where `assignments.csv` has it."""
    assert report.migration is not None
    migration = report.migration
    header: list[str] = []
    columns: list[Column] = []
    if published_id(report.config, table) is not None and table.ids is not None:
        header.append(str(report.config.customer_column))
        columns.append(table.ids)
    for position, date in enumerate(migration.dates):
        labels = moves[:, position]
        header.append(f"segment_{date.date.isoformat()}")
        columns.append(np.where(labels < 0, "", labels.astype(str)).astype(object))
    return table_csv(header, columns)


def assignments_csv(report: Report, table: Table, segments: np.ndarray) -> bytes:
    """`assignments.csv`: one row per customer of the report's `table`: the id, the features, the
    segment (`segments`, one per row) and its name."""
    config = report.config
    with_ids = published_id(report.config, table) is not None and table.ids is not None
    labels = np.asarray(segments, dtype=np.int64)
    names = np.array([profile.name for profile in report.profiles], dtype=object)
    header = [*([str(config.customer_column)] if with_ids else []), *config.features, "segment", "segment_name"]
    columns: list[Column] = [table.ids] if with_ids and table.ids is not None else []
    columns += [np.asarray(table.features[f].to_numpy(), dtype=np.float64) for f in config.features]
    columns += [labels, names[labels]]
    return table_csv(header, columns)


def table_csv(header: Sequence[str], columns: Sequence[Column]) -> bytes:
    """A CSV file (RFC 4180, CRLF line ends) of a header and equally long columns.

    Text is neutralised and quoted where it must be. Numbers read back as exactly the same float:
    whole ones as integers (`12669`, not `12669.0`), others in the fewest digits that do.
    """
    output = io.BytesIO()
    output.write(_lines([_text([name]) for name in header]))
    with ThreadPoolExecutor() as pool:  # pyarrow formats the columns side by side, without the GIL
        for start in range(0, len(columns[0]) if columns else 0, CHUNK_ROWS):
            chunk = [column[start:start + CHUNK_ROWS] for column in columns]
            output.write(_lines(list(pool.map(_cells, chunk))))
    pa.default_memory_pool().release_unused()
    return output.getvalue()


def neutralise(cell: str) -> str:
    """A text cell that a spreadsheet shows as text rather than running as a formula.

    Cells that are plain numbers (`-5`, `+1.5`) stay as they are: they are not formulas.
    """
    if cell.startswith(FORMULA_START) and not re.fullmatch(NUMBER, cell):
        return "'" + cell
    return cell


def _cells(column: Column) -> pa.Array:
    """A column's cells as CSV text."""
    if isinstance(column, np.ndarray) and column.dtype.kind in "iu":
        return pc.cast(pa.array(column), pa.string())
    if isinstance(column, np.ndarray) and column.dtype.kind == "f":
        whole = (column == np.trunc(column)) & (np.abs(column) < EXACT_INTEGERS)
        integers = pc.cast(pa.array(np.where(whole, column, 0).astype(np.int64)), pa.string())
        if whole.all():
            return integers
        return pc.if_else(pa.array(whole), integers, pc.cast(pa.array(column), pa.string()))  # shortest round trip
    return _text(column)


def _text(column: Column) -> pa.Array:
    """Text cells, neutralised and, where they hold a comma, a quote or a line break, quoted."""
    cells = pa.array(column, pa.string())
    if pc.any(pc.match_substring_regex(cells, "^[=+\\-@\t\r]")).as_py():  # a formula, maybe
        cells = pa.array([neutralise(cell) for cell in cells.to_pylist()], pa.string())
    special = pc.match_substring_regex(cells, '[",\r\n]')
    if not pc.any(special).as_py():
        return cells
    return pc.if_else(special, pc.binary_join_element_wise('"', pc.replace_substring(cells, '"', '""'), '"', ""), cells)


def _lines(cells: list[pa.Array]) -> bytes:
    """Rows of cells joined by commas, each ending in CRLF."""
    lines = pc.binary_join_element_wise(*cells[:-1], pc.binary_join_element_wise(cells[-1], "", "\r\n"), ",")
    _, offsets, text = lines.buffers()  # a new array: its text starts at 0
    return bytes(text.slice(0, int(np.frombuffer(offsets, dtype=np.int32)[len(lines)])).to_pybytes())
