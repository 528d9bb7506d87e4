"""Downloads: the machine-readable result (`segments.json`) and the rows (`assignments.csv`)."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

from generator.data import NUMBER
from generator.pages import Report

# OWASP: a cell starting with one of these is a formula to a spreadsheet program.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def segments_json(report: Report) -> bytes:
    """`segments.json`, as DESIGN.md's contract describes it."""
    config, table, result = report.config, report.table, report.result
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
        "segments": [
            {"segment": s.number, "name": p.name, "description": p.description, "size": s.size,
             "share": s.share, "center": s.center, "median": s.median,
             "index": {f: (round(v, 1) if v is not None else None) for f, v in p.index.items()},
             "stability": s.stability, "stability_band": s.band}
            for s, p in zip(result.segments, report.profiles, strict=True)
        ],
        "overall_mean": result.overall,
        "inertia": result.inertia,
        "silhouette": result.silhouette,
        "silhouette_sampled": result.silhouette_sampled,
        "stability": result.stability,
        "stability_sampled": result.stability_sampled,
        # Evaluated for a range, and beside a fixed n_clusters as evidence.
        "candidates": [
            {"k": c.k, "inertia": c.inertia, "silhouette": c.silhouette,
             "calinski_harabasz": c.calinski_harabasz, "davies_bouldin": c.davies_bouldin,
             "stability": c.stability, "min_share": c.min_share, "reference_silhouette": c.reference}
            for c in result.candidates
        ],
        "recommendation": {"k": result.recommended, "reason": result.reason, "fixed": result.fixed},
        "knee": result.knee,
        "structure": result.structure,
        "reference_silhouette": result.reference_silhouette,
        "data_sha256": table.sha256,
        "versions": report.versions,
    }
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()


def published_ids(report: Report) -> bool:
    """Whether `assignments.csv` carries the id column: not when it looks personal, unless allowed."""
    config = report.config
    return config.id_column is not None and (report.table.personal is None or config.publish_personal)


def assignments_csv(report: Report) -> bytes:
    """`assignments.csv`: one row per customer used, RFC 4180, formulas neutralised."""
    config, table, result = report.config, report.table, report.result
    with_ids = published_ids(report) and table.ids is not None
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    header = ([str(config.id_column)] if with_ids else []) + list(config.features) + ["segment"]
    writer.writerow([neutralise(name) for name in header])
    columns = [table.features[f].to_numpy() for f in config.features]
    for row in range(table.rows_used):
        ids = [neutralise(table.ids[row])] if with_ids and table.ids is not None else []
        writer.writerow(ids + [_number(column[row]) for column in columns] + [int(result.labels[row])])
    return buffer.getvalue().encode()


def neutralise(cell: str) -> str:
    """A text cell that a spreadsheet shows as text rather than running as a formula.

    Cells that are plain numbers (`-5`, `+1.5`) stay as they are: they are not formulas.
    """
    if cell.startswith(FORMULA_START) and not re.fullmatch(NUMBER, cell):
        return "'" + cell
    return cell


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(float(value))
