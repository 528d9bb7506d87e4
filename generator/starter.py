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
import pandas as pd
import yaml

from generator.config import DEFAULT_N_CLUSTERS, READ_KEYS, SLUG, SOURCE_SUFFIXES, Read
from generator.data import PLAIN, Marks, RawTable, Unsettled, number_marks, parse_numbers, read_file
from generator.errors import UserError
from generator.logs import date_form

MAX_CODES = 10  # at most this many distinct whole numbers make a column look like a code
# "id", "customer_id", "Customer ID", "CustomerID", "CustomerId", "client_no", "id_customer"
ID_NAME = re.compile(r"(?:^|[\W_])(?i:id|key|no|number)$|[a-z](?:ID|Id|Key|No|Number)$|^(?i:id)[\W_]")
CUSTOMER_NAME = re.compile(r"(?i)customer|client|user|member|buyer|account")
AMOUNT_NAME = re.compile(r"(?i)amount|value|price|revenue|spend|spent|total|sales|sum|paid")


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
    raw, marks, settled = _read_settled(root, source)
    frame = raw.frame
    log = _purchase_log(frame, marks)
    if log is not None:
        return _log_proposal(path, source, new_id, log, _settle(raw, [log.amount], marks, settled))
    features: list[str] = []
    id_column: str | None = None
    reasons: list[str] = []
    for name in map(str, frame.columns):
        numbers, blank, wrong = parse_numbers(frame[name], marks[name])
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
    read = _settle(raw, features, marks, settled)
    if read:
        settings["read"] = {key: value for key, (value, _) in read.items()}
        reasons += _read_reasons(read)
    if id_column:
        settings["id_column"] = id_column
    settings["features"] = features
    settings["n_clusters"] = list(DEFAULT_N_CLUSTERS)
    header = f"# Proposed by `python -m generator init {source}`; see the configuration reference.\n"
    text = header + yaml.safe_dump(settings, sort_keys=False, allow_unicode=True, default_flow_style=None)
    return Proposal(new_id, text, tuple(reasons))


Settled = dict[str, tuple[str, str]]  # read: key -> (value, why)


def _read_settled(root: Path, source: str) -> tuple[RawTable, dict[str, Marks], Settled]:
    """The table read as the build reads it, every column's number marks, and the `read:` options
    detection could not settle (the likeliest value of each, and why it was needed)."""
    settled: Settled = {}
    for _ in READ_KEYS:
        read = Read(**{key: value for key, (value, _) in settled.items()})
        try:
            raw = read_file(root, source, read)
            return raw, number_marks(raw, [str(name) for name in raw.frame.columns], read)[0], settled
        except Unsettled as error:
            settled[error.key] = (error.options[0], error.problems[0])
    raise AssertionError("every read: key settled, and still unsettled")


def _read_reasons(read: Settled) -> list[str]:
    return [f"read: {key}: {value!r} proposed, as detection cannot settle it: {why}; check it"
            for key, (value, why) in read.items()]


def _settle(raw: RawTable, columns: list[str], marks: dict[str, Marks], settled: Settled) -> Settled:
    """`settled`, with the decimal mark too where the proposed columns alone would not settle it."""
    read = Read(**{key: value for key, (value, _) in settled.items()})
    try:
        number_marks(raw, columns, read)
    except Unsettled as error:
        decimals = [marks[name].decimal for name in columns]
        return settled | {"decimal": (max(decimals, key=decimals.count), error.problems[0])}
    return settled


@dataclass(frozen=True)
class _Log:
    """The columns of a purchase log: who bought, when (and in which form), and how much."""

    customer: str
    date: str
    date_format: str | None
    amount: str
    reasons: tuple[str, ...]


def _purchase_log(frame: pd.DataFrame, marks: dict[str, Marks]) -> _Log | None:
    """The customer, date and amount columns of a table that is a purchase log, or None.

    A log has a date column (ISO text or YYYYMMDD whole numbers), a customer column whose values
    repeat (several purchases per customer) and a numeric amount column.
    """
    names = [str(name) for name in frame.columns]
    dates = {name: date_form(frame[name]) for name in names}
    date = next((name for name in names if dates[name][0] is not None), None)
    if date is None:
        return None
    rows = len(frame)
    repeated = [name for name in names if name != date and frame[name].nunique() < rows]
    customer = next((name for name in repeated if CUSTOMER_NAME.search(name)), None) or next(
        (name for name in repeated if ID_NAME.search(name)), None)
    if customer is None:
        return None
    amounts = []
    for name in names:
        if name in (date, customer):
            continue
        numbers, blank, wrong = parse_numbers(frame[name], marks.get(name, PLAIN))
        values = numbers[~blank & ~wrong]
        if (blank | wrong).sum() <= rows / 2 and not np.all(values == np.round(values)):
            amounts.append(name)  # numbers with fractions: money
    amount = next((name for name in amounts if AMOUNT_NAME.search(name)), amounts[0] if amounts else None)
    if amount is None:
        return None
    form = dates[date][0]
    distinct = frame[customer].nunique()
    reasons = (f"{customer}: the customer: {rows:,} rows but {distinct:,} distinct values, so this is a purchase "
               "log (several rows per customer), proposed as transactions:",
               f"{date}: the purchase date ({'ISO dates' if form == 'iso' else 'whole numbers YYYYMMDD'}), "
               "never a feature: it gives recency and tenure",
               f"{amount}: the amount of each purchase: it gives monetary")
    return _Log(customer, date, None if form == "iso" else form, amount, reasons + tuple(
        f"{name}: left out (the features are derived from the log)" for name in names
        if name not in (customer, date, amount)))


def _log_proposal(path: Path, source: str, new_id: str, log: _Log, read: Settled) -> Proposal:
    transactions: dict[str, str] = {"source": source, "customer": log.customer, "date": log.date,
                                    "amount": log.amount}
    if log.date_format is not None:
        transactions["date_format"] = log.date_format
    settings: dict[str, object] = {"title": path.stem.replace("_", " ").replace("-", " ").capitalize(),
                                   "transactions": transactions, "features": ["recency", "frequency", "monetary"],
                                   "n_clusters": list(DEFAULT_N_CLUSTERS)}
    if read:
        settings["read"] = {key: value for key, (value, _) in read.items()}
    header = (f"# Proposed by `python -m generator init {source}`: a purchase log; see the configuration "
              "reference (transactions, as_of, snapshots).\n")
    text = header + yaml.safe_dump(settings, sort_keys=False, allow_unicode=True, default_flow_style=None)
    return Proposal(new_id, text, log.reasons + tuple(_read_reasons(read)))


def _role(name: str, values: np.ndarray, not_numbers: int, rows: int) -> tuple[str, str]:
    if not_numbers > rows / 2 or len(values) == 0:
        return "skip", "left out: text, not numbers"
    if date_form(pd.Series(values))[0] is not None:
        return "skip", "left out: dates (YYYYMMDD), not a quantity"
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
