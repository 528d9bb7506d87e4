"""Starter configurations: read a table and propose a dataset file, saying why for each column.

Numeric columns become features, except those that look like ids (distinct whole numbers
counting up, or a name like `CustomerID`) or codes (a handful of whole-number values, such
as a channel or a region), which K-Means would treat as quantities.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from generator.config import SLUG, SOURCE_SUFFIXES
from generator.data import parse_numbers, read_file
from generator.errors import UserError

MAX_CODES = 10  # at most this many distinct whole numbers make a column look like a code
# "id", "customer_id", "Customer ID", "CustomerID", "CustomerId", "client_no", "id_customer"
ID_NAME = re.compile(r"(?:^|[\W_])(?i:id|key|no|number)$|[a-z](?:ID|Id|Key|No|Number)$|^(?i:id)[\W_]")


@dataclass(frozen=True)
class Proposal:
    """A proposed dataset file and the reason for every column's role."""

    id: str
    yaml: str
    reasons: tuple[str, ...]


def propose(root: Path, table: Path, dataset_id: str | None = None) -> Proposal:
    """Read `table` (inside `root`) and propose its dataset configuration."""
    path = (root / table).resolve() if not table.is_absolute() else table.resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise UserError(f"{table}: not a file inside the project {root}")
    if path.suffix.lower() not in SOURCE_SUFFIXES:
        raise UserError(f"{table}: must end in one of {', '.join(SOURCE_SUFFIXES)}")
    source = path.relative_to(root).as_posix()
    new_id = dataset_id or re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-")
    if not SLUG.match(new_id):
        raise UserError(f"{new_id!r}: an id must be a slug (lower-case letters, digits and '-'); use --id")
    frame = read_file(root, source).frame
    features: list[str] = []
    id_column: str | None = None
    reasons: list[str] = []
    for name in map(str, frame.columns):
        numbers, blank, wrong = parse_numbers(frame[name])
        values = numbers[~blank & ~wrong]
        role, why = _role(name, values, wrong.sum(), len(frame))
        if role == "id" and id_column is None:
            id_column = name
        elif role == "feature":
            features.append(name)
        reasons.append(f"{name}: {why}")
    if len(features) < 2:
        raise UserError(f"{source}: found {len(features)} numeric feature column(s); "
                        "a segmentation needs at least two")
    settings: dict[str, object] = {"title": path.stem.replace("_", " ").replace("-", " ").capitalize(),
                                   "source": source}
    if id_column:
        settings["id_column"] = id_column
    settings["features"] = features
    settings["n_clusters"] = [2, 8]
    header = f"# Proposed by `python -m generator init {source}`; see the configuration reference.\n"
    text = header + yaml.safe_dump(settings, sort_keys=False, allow_unicode=True, default_flow_style=None)
    return Proposal(new_id, text, tuple(reasons))


def _role(name: str, values: np.ndarray, not_numbers: int, rows: int) -> tuple[str, str]:
    if not_numbers > rows / 2 or len(values) == 0:
        return "skip", "left out: text, not numbers"
    whole = bool(np.all(values == np.round(values)))
    distinct = len(np.unique(values))
    counts_up = whole and distinct == len(values) and bool(np.all(np.diff(np.sort(values)) == 1))
    if ID_NAME.search(name) or (counts_up and rows >= 20):
        return "id", "the customer id: carried into downloads, not clustered"
    if distinct == 1:
        return "skip", "left out: the same value in every row"
    if whole and distinct <= MAX_CODES and rows >= 20:
        return "skip", f"left out: only {distinct} whole-number values, probably a code (a category)"
    return "feature", "feature: numeric"
