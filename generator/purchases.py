"""Purchases: a transaction log (one row per purchase) -> one customer row per customer.

The log is read through `data.read_file` (every format `source` reads); a big CSV, TSV or
Parquet log is first read by pyarrow, only its four columns, and read again by `read_file`
when anything in it needs a message. Customers are then derived with vectorised group-bys at
any date: recency, frequency, monetary, tenure and average_order, as DESIGN.md defines them.
The result is the same `Table` a customer file gives, so the later stages need not know.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from generator.config import DatasetConfig, Read, Transactions
from generator.data import PLAIN, Marks, Places, Table, as_text, number_marks, parse_numbers, personal_data, read_file
from generator.errors import UserError, did_you_mean, shorten

EPOCH = datetime.date(1970, 1, 1)
# How each derived feature is computed, in a marketer's words (the report lists them).
MEANINGS = {
    "recency": "days from the customer's latest purchase to the as-of date (0: bought that day; "
               "low is a recent customer, high a lapsed one)",
    "frequency": "the number of purchases: distinct days with a purchase",
    "monetary": "the total spent: the sum of the amounts of all the customer's rows",
    "tenure": "days from the customer's first purchase to the as-of date (how long they have been a customer)",
    "average_order": "the average spent per purchase: monetary divided by frequency",
}


@dataclass(frozen=True)
class Log:
    """A parsed purchase log: per row its customer, day, amount and purchase; sorted distinct customers."""

    customers: np.ndarray  # distinct customer ids as text, sorted
    customer: np.ndarray  # per row: the index of its customer in `customers`
    day: np.ndarray  # per row: days since 1970-01-01
    amount: np.ndarray  # per row: float64
    purchase: np.ndarray  # per row: a number shared by the rows of one purchase of its customer
    origin: str
    digest: str
    reading: tuple[str, ...] = ()  # how the file was read, where not as by default (data.Table.reading)


@dataclass(frozen=True)
class LogSummary:
    """What the report says about the log: its rows, its dates, and the as-of date."""

    origin: str
    customer: str  # the customer column, by name
    rows: int  # purchase rows in the log
    used: int  # rows dated on or before as_of
    first: datetime.date
    last: datetime.date
    as_of: datetime.date
    customers: int  # customers at as_of
    later: int  # customers whose first purchase is after as_of: not customers yet
    by_order: bool  # frequency counts distinct order values (else distinct days)

    def document(self) -> dict[str, Any]:
        """`as_of` and `transactions` of segments.json: the log the customers were derived from."""
        return {"as_of": self.as_of.isoformat(),
                "transactions": {"source": self.origin, "customer": self.customer, "rows": self.rows,
                                 "rows_used": self.used, "first": self.first.isoformat(),
                                 "last": self.last.isoformat(), "customers": self.customers,
                                 "not_yet_customers": self.later}}


@dataclass(frozen=True)
class Snapshot:
    """The customers at one date: their table, and the row of each in the as-of table."""

    date: datetime.date
    table: Table
    rows: np.ndarray  # for each row of `table`, its row in the table at as_of


@dataclass(frozen=True)
class Customers:
    """A transaction log turned into customers: the table at as_of, and one per snapshot date."""

    table: Table
    summary: LogSummary
    snapshots: tuple[Snapshot, ...] = ()


def load_customers(root: Path, config: DatasetConfig) -> Customers:
    """The customers of a dataset configured with `transactions`, at as_of and at every snapshot."""
    assert config.transactions is not None
    log = read_log(root, config.transactions, config.read)
    first, last = _date(int(log.day.min())), _date(int(log.day.max()))
    as_of = config.as_of or last
    column = config.transactions.date
    for key, when in (("as_of", as_of), *(("snapshots", date) for date in config.snapshots)):
        if when < first:
            earliest = int(np.argmin(log.day))
            raise UserError(f"{log.origin}: column {column!r}: {key} {when.isoformat()} is before every purchase; "
                            f"the first is {first.isoformat()} (row {earliest + 1} of the log; {config.path} "
                            f"sets {key})")
    table, present = customer_table(log, config, as_of)
    at_as_of = np.flatnonzero(present)
    snapshots = []
    for date in config.snapshots:
        earlier, members = (table, present) if date == as_of else customer_table(log, config, date)
        snapshots.append(Snapshot(date, earlier, np.searchsorted(at_as_of, np.flatnonzero(members))))
    summary = LogSummary(
        origin=log.origin, customer=config.transactions.customer, rows=len(log.day),
        used=int(np.count_nonzero(log.day <= _days(as_of))), first=first, last=last, as_of=as_of,
        customers=table.rows_used, later=len(log.customers) - table.rows_used,
        by_order=config.transactions.order is not None)
    return Customers(table, summary, tuple(snapshots))


def customer_table(log: Log, config: DatasetConfig, as_of: datetime.date) -> tuple[Table, np.ndarray]:
    """One row per customer from the log's rows dated on or before `as_of`, and which customers those are."""
    derived, present = derive(log, _days(as_of))
    features = pd.DataFrame({name: derived[name] for name in config.features})
    ids = tuple(log.customers[present].tolist())
    assert config.transactions is not None
    table = Table(features=features, ids=ids, rows_read=len(ids), dropped={}, sha256=log.digest, origin=log.origin,
                  personal=personal_data(config.transactions.customer, ids), reading=log.reading)
    return table, present


def derive(log: Log, as_of: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Every derived feature for the customers with a row on or before day `as_of`, in customer order.

    Group-bys over whole columns (pandas for first and last day, numpy for sums and counts): no
    loop over rows. Returns the features and a mask of `log.customers` saying who is a customer.
    """
    keep = log.day <= as_of
    customer, day = log.customer[keep], log.day[keep]
    count = len(log.customers)
    rows = np.bincount(customer, minlength=count)
    present = rows > 0
    days = pd.Series(day).groupby(customer, sort=True).agg(["min", "max"])
    monetary = np.bincount(customer, weights=log.amount[keep], minlength=count)[present]
    span = np.int64(log.purchase.max()) + 1
    purchases = pd.unique(customer.astype(np.int64) * span + log.purchase[keep])
    frequency = np.bincount(purchases // span, minlength=count)[present].astype(np.float64)
    return {
        "recency": (as_of - days["max"].to_numpy()).astype(np.float64),
        "frequency": frequency,
        "monetary": monetary,
        "tenure": (as_of - days["min"].to_numpy()).astype(np.float64),
        "average_order": monetary / frequency,
    }, present


# --- reading and parsing the log ----------------------------------------------------------


def read_log(root: Path, log: Transactions, read: Read | None = None) -> Log:
    """The log's customer, date, amount (and order) columns, parsed; a problem names file, column and line."""
    wanted = [name for name in (log.customer, log.date, log.amount, log.order) if name is not None]
    raw = read_file(root, log.source, read, wanted)
    columns = [str(name) for name in raw.frame.columns]
    for name in wanted:
        if name not in columns:
            raise UserError(f"{raw.origin}: no column {name!r}{did_you_mean(name, columns)}; the columns are: "
                            f"{shorten(', '.join(columns), 100)} (transactions names it)")
    marks, facts = number_marks(raw, [log.amount], read or Read())
    parsed = _parse(raw.frame, raw.places, log, raw.origin, raw.digest, marks[log.amount])
    return replace(parsed, reading=(*raw.separated, *facts, *raw.facts))


def _parse(frame: pd.DataFrame, places: Places, log: Transactions, origin: str, digest: str,
           marks: Marks = PLAIN) -> Log:
    """The parsed log; a bad cell is a `UserError` naming its line."""
    if frame.empty:
        raise UserError(f"{origin}: has a header but no rows")

    def fail(column: str, bad: np.ndarray, why: str) -> None:
        index = int(np.flatnonzero(bad)[0])
        cell = frame[column].iloc[index]
        raise UserError(f"{origin}: column {column!r}, {places[index]}: {shorten(_text(cell), 30)} {why} "
                        f"({int(bad.sum()):,} such row(s))")

    codes, customers = pd.factorize(_texts(frame[log.customer]), sort=True)
    blank = (pd.Series(customers).str.strip() == "").to_numpy()[codes]
    if blank.any():
        fail(log.customer, blank, "is a blank customer")
    day, bad = _parse_days(frame[log.date], log.date_format)
    if bad.any():
        expected = f"the form {log.date_format!r}" if log.date_format else "an ISO date such as 1998-06-30"
        fail(log.date, bad, f"is not a date in {expected} (set transactions.date_format for other forms)")
    amount, missing, wrong = parse_numbers(frame[log.amount], marks)
    if (missing | wrong).any():
        fail(log.amount, missing | wrong, "is not an amount (a plain number such as 12.50)")
    if log.order is not None:
        purchase, _ = pd.factorize(_texts(frame[log.order]))
    else:
        purchase = day - day.min()
    return Log(customers=np.asarray(customers, dtype=object), customer=codes.astype(np.int64), day=day,
               amount=np.asarray(amount, dtype=np.float64), purchase=np.asarray(purchase, dtype=np.int64),
               origin=origin, digest=digest)


def _texts(column: pd.Series) -> pd.Series:
    """Cells as text: whole numbers without `.0` (a spreadsheet's 12.0 is the id 12)."""
    if isinstance(column.dtype, pd.StringDtype) or (
            isinstance(column.dtype, pd.ArrowDtype) and pa.types.is_string(column.dtype.pyarrow_dtype)):
        return column  # text as read (CSV, TSV): factorized as it is, without a Python string per cell
    if pd.api.types.is_integer_dtype(column.dtype):
        return column.astype(str)
    return column.map(_text).astype(str)


def _text(cell: object) -> str:
    """A cell as typed (`as_text`); a missing cell is blank."""
    return "" if cell is None or (isinstance(cell, float) and np.isnan(cell)) else as_text(cell)


def _parse_days(column: pd.Series, date_format: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Days since 1970-01-01 of every cell, and a mask of the cells that are not dates.

    A log repeats its dates: each distinct cell is parsed once, and the days spread back by code.
    """
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        codes, distinct = pd.factorize(column, use_na_sentinel=False)
        parsed = pd.Series(distinct)
    else:
        codes, distinct = pd.factorize(_texts(column))
        text = pd.Series(distinct, dtype=object).str.strip()
        try:
            parsed = pd.to_datetime(text, format=date_format or "ISO8601", errors="coerce", utc=True)
        except (ValueError, TypeError):  # a format pandas refuses as a whole
            parsed = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns, UTC]")
    bad = parsed.isna().to_numpy()
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    days = parsed.to_numpy().astype("datetime64[D]").astype(np.int64)
    return days[codes], bad[codes]


def _days(date: datetime.date) -> int:
    return (date - EPOCH).days


def _date(days: int) -> datetime.date:
    return EPOCH + datetime.timedelta(days=days)


def meanings(config: DatasetConfig) -> tuple[tuple[str, str], ...]:
    """(feature, how it was derived) for each configured feature, in plain words."""
    by_order = config.transactions is not None and config.transactions.order is not None
    found = []
    for feature in config.features:
        meaning = MEANINGS[feature]
        if feature == "frequency" and by_order:
            meaning = "the number of purchases: distinct order numbers"
        found.append((feature, meaning))
    return tuple(found)
