"""Purchases: a transaction log (one row per purchase or line item) -> one customer row per customer.

The log is read through `data.read_file` (every format `source` reads). Each row's amount (`amount`,
or `quantity x price`) is held in whole units of the input's precision (cents, say), so sums are exact.
Rows are grouped into orders (an `order` value, or a day); an order whose net amount is above 0 is a
purchase. Customers are then derived with vectorised group-bys at any date: recency, frequency,
monetary, tenure and average_order, as DESIGN.md defines them. The result is the same `Table` a
customer file gives, so the later stages need not know.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from generator.config import DatasetConfig, Read, Transactions
from generator.data import PLAIN, Marks, Places, Table, as_text, number_marks, parse_numbers, personal_data, read_file
from generator.errors import UserError, did_you_mean, shorten
from generator.formats import count, exact, plural

EPOCH = datetime.date(1970, 1, 1)
MAX_PLACES = 6  # decimals an amount is counted in at most (a float with more is rounded to millionths)
SAMPLE = 10_000  # amounts whose decimals are counted first; the whole column is then checked
# How each derived feature is computed, in a marketer's words (the report lists them).
MEANINGS = {
    "recency": "days from the customer's latest purchase to the as-of date (0: bought that day; "
               "low is a recent customer, high a lapsed one)",
    "frequency": "the number of purchases: days with rows whose amounts add up to more than 0",
    "monetary": "the total spent: the sum of the amounts of all the customer's rows, returns included",
    "tenure": "days from the customer's first purchase to the as-of date (how long they have been a customer)",
    "average_order": "the average spent per purchase: monetary divided by frequency",
}


@dataclass(frozen=True)
class Log:
    """A parsed purchase log: per row its customer, day, amount and order; sorted distinct customers.

    Amounts are whole numbers of `1 / 10**places` (cents when `places` is 2): sums of them are exact.
    """

    customers: np.ndarray  # distinct customer ids as text, sorted
    customer: np.ndarray  # per row: the index of its customer in `customers`
    day: np.ndarray  # per row: days since 1970-01-01
    units: np.ndarray  # per row: the amount in whole units of 10**-places, int64
    places: int  # decimals of the amounts, as the log writes them
    order: np.ndarray  # per row: a number shared by the rows of one order (or day) of its customer
    row: np.ndarray  # per row: its row in the file, from 0 (rows left out are skipped), for messages
    origin: str
    digest: str
    left_out: LeftOut
    reading: tuple[str, ...] = ()  # how the file was read, where not as by default (data.Table.reading)


@dataclass(frozen=True)
class LeftOut:
    """Log rows left out before customers are derived (`missing: drop`, `returns: exclude`)."""

    blank: tuple[tuple[str, int], ...] = ()  # (role, rows): rows whose customer, date or amount is blank
    returns: int = 0  # rows with a negative amount, under `returns: exclude`

    @property
    def rows(self) -> int:
        return sum(count for _, count in self.blank) + self.returns


@dataclass(frozen=True)
class LogSummary:
    """What the report says about the log: its rows, its dates, and the as-of date."""

    origin: str
    customer: str  # the customer column, by name
    rows: int  # rows in the log, before any is left out
    used: int  # rows dated on or before as_of (of those kept)
    first: datetime.date
    last: datetime.date
    as_of: datetime.date
    customers: int  # customers at as_of
    later: int  # customers whose first row is after as_of: not customers yet
    returns_only: int  # people with rows on or before as_of but no purchase (only returns): not customers
    left_out: LeftOut

    def document(self) -> dict[str, Any]:
        """`as_of` and `transactions` of segments.json: the log the customers were derived from."""
        return {"as_of": self.as_of.isoformat(),
                "transactions": {"source": self.origin, "customer": self.customer, "rows": self.rows,
                                 "rows_used": self.used, "first": self.first.isoformat(),
                                 "last": self.last.isoformat(), "customers": self.customers,
                                 "not_yet_customers": self.later, "only_returns": self.returns_only,
                                 "rows_left_out": {**{f"blank_{role}": count for role, count in self.left_out.blank},
                                                   "returns": self.left_out.returns}}}


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


@dataclass(frozen=True)
class Derived:
    """The features of the customers at one date, who they are, and who only returned goods."""

    features: dict[str, np.ndarray]  # in customer order, customers only
    present: np.ndarray  # mask of `log.customers`: a purchase on or before the date
    returns_only: int  # people with rows on or before the date but no purchase


def load_customers(root: Path, config: DatasetConfig) -> Customers:
    """The customers of a dataset configured with `transactions`, at as_of and at every snapshot."""
    assert config.transactions is not None
    log = read_log(root, config.transactions, config.missing, config.read)
    first, last = _date(int(log.day.min())), _date(int(log.day.max()))
    as_of = config.as_of or last
    column = config.transactions.date
    for key, when in (("as_of", as_of), *(("snapshots", date) for date in config.snapshots)):
        if when < first:
            earliest = int(log.row[np.argmin(log.day)])
            raise UserError(f"{log.origin}: column {column!r}: {key} {when.isoformat()} is before every purchase; "
                            f"the first is {first.isoformat()} (row {earliest + 1} of the log; {config.path} "
                            f"sets {key})")
    table, derived = customer_table(log, config, as_of)
    at_as_of = np.flatnonzero(derived.present)
    snapshots = []
    for date in config.snapshots:
        earlier, members = (table, derived) if date == as_of else customer_table(log, config, date, derived.present)
        snapshots.append(Snapshot(date, earlier, np.searchsorted(at_as_of, np.flatnonzero(members.present))))
    seen = np.bincount(log.customer[log.day <= _days(as_of)], minlength=len(log.customers)) > 0
    summary = LogSummary(
        origin=log.origin, customer=config.transactions.customer, rows=len(log.day) + log.left_out.rows,
        used=int(np.count_nonzero(log.day <= _days(as_of))), first=first, last=last, as_of=as_of,
        customers=table.rows_used, later=int(np.count_nonzero(~seen)), returns_only=derived.returns_only,
        left_out=log.left_out)
    return Customers(table, summary, tuple(snapshots))


def customer_table(log: Log, config: DatasetConfig, as_of: datetime.date,
                   within: np.ndarray | None = None) -> tuple[Table, Derived]:
    """One row per customer from the log's rows dated on or before `as_of`, and which customers those are.

    `within` (a snapshot's: the customers at the last date) keeps only those: an order whose later
    rows cancel it was a purchase at an earlier date, but its customer may be none at the last.
    """
    derived = derive(log, _days(as_of))
    if within is not None and (derived.present & ~within).any():
        kept = within[derived.present]
        derived = Derived({name: values[kept] for name, values in derived.features.items()},
                          derived.present & within, derived.returns_only)
    features = pd.DataFrame({name: derived.features[name] for name in config.features})
    ids = tuple(log.customers[derived.present].tolist())
    assert config.transactions is not None
    if not ids:
        raise UserError(f"{log.origin}: no customer as of {as_of.isoformat()}: no order on or before it adds up "
                        f"to more than 0 ({config.path})")
    if config.scale == "log":
        _check_not_negative(features, ids, log.origin, config, as_of)
    table = Table(features=features, ids=ids, rows_read=len(ids), dropped={}, sha256=log.digest, origin=log.origin,
                  personal=personal_data(config.transactions.customer, ids), reading=log.reading)
    return table, derived


def _check_not_negative(features: pd.DataFrame, ids: tuple[str, ...], origin: str, config: DatasetConfig,
                        as_of: datetime.date) -> None:
    """Under `scale: log` a derived value below 0 (returns exceeding purchases) names its customer."""
    for name in features.columns:
        negative = (features[name] < 0).to_numpy()
        if negative.any():
            index = int(np.flatnonzero(negative)[0])
            others = int(negative.sum()) - 1
            more = f", and {plural(others, 'other customer')}" if others else ""
            who = ids[index] if re.fullmatch(r"[\w.@+-]{1,40}", ids[index]) else shorten(ids[index])
            raise UserError(f"{origin}: customer {who}: {name} is "
                            f"{exact(float(features[name].iloc[index]))} as of {as_of.isoformat()}{more} (returns "
                            f"exceed purchases); scale: log needs 0 or more: set transactions.returns: exclude, "
                            f"or another scale ({config.path})")


def derive(log: Log, as_of: int) -> Derived:
    """Every derived feature for the customers with a purchase on or before day `as_of`, in customer order.

    Group-bys over whole columns (numpy): no loop over rows. An order's day is its first row's; an
    order is a purchase when its rows, up to `as_of`, add up to more than 0.
    """
    keep = log.day <= as_of
    customer, day, units = log.customer[keep], log.day[keep], log.units[keep]
    count = len(log.customers)
    span = np.int64(log.order.max()) + 1
    orders, keys = pd.factorize(customer.astype(np.int64) * span + log.order[keep])
    keys = np.asarray(keys)
    # Whole units summed as float64 are exact below 2**53 (90 trillion in cents).
    net = np.bincount(orders, weights=units, minlength=len(keys))
    opened = np.full(len(keys), np.iinfo(np.int64).max)
    np.minimum.at(opened, orders, day)
    bought = net > 0
    buyer, when = keys[bought] // span, opened[bought]
    frequency = np.bincount(buyer, minlength=count)
    present = frequency > 0
    earliest, latest = np.full(count, np.iinfo(np.int64).max), np.full(count, np.iinfo(np.int64).min)
    np.minimum.at(earliest, buyer, when)
    np.maximum.at(latest, buyer, when)
    earliest, latest = earliest[present], latest[present]
    total = np.bincount(customer, weights=units, minlength=count)[present]
    scale = 10.0 ** log.places
    frequency = frequency[present]
    seen = np.bincount(customer, minlength=count) > 0
    return Derived({
        "recency": (as_of - latest).astype(np.float64),
        "frequency": frequency.astype(np.float64),
        "monetary": total / scale,  # the float nearest the exact sum: it prints as the input writes it
        "tenure": (as_of - earliest).astype(np.float64),
        "average_order": np.round(total / frequency) / scale,  # to the input's precision
    }, present, int(np.count_nonzero(seen & ~present)))


# --- reading and parsing the log ----------------------------------------------------------


def read_log(root: Path, log: Transactions, missing: str = "fail", read: Read | None = None) -> Log:
    """The log's customer, date, amount (and order) columns, parsed; a problem names file, column and line."""
    wanted = [name for name in (log.customer, log.date, *log.money, log.order) if name is not None]
    raw = read_file(root, log.source, read, wanted)
    columns = [str(name) for name in raw.frame.columns]
    for name in wanted:
        if name not in columns:
            raise UserError(f"{raw.origin}: no column {name!r}{did_you_mean(name, columns)}; the columns are: "
                            f"{shorten(', '.join(columns), 100)} (transactions names it)")
    marks, facts = number_marks(raw, list(log.money), read or Read())
    parsed = _parse(raw.frame, raw.places, log, missing, raw.origin, raw.digest, marks)
    return replace(parsed, reading=(*raw.separated, *facts, *raw.facts))


def _parse(frame: pd.DataFrame, places: Places, log: Transactions, missing: str, origin: str, digest: str,
           marks: Mapping[str, Marks]) -> Log:
    """The parsed log, blank rows left out under `missing: drop`; a bad cell is a `UserError` naming its line."""
    if frame.empty:
        raise UserError(f"{origin}: has a header but no rows")

    def fail(column: str, bad: np.ndarray, why: str) -> None:
        index = int(np.flatnonzero(bad)[0])
        cell = frame[column].iloc[index]
        raise UserError(f"{origin}: column {column!r}, {places[index]}: {shorten(_text(cell), 30)} {why} "
                        f"({count(int(bad.sum()))} such row(s))")

    customer, ids = _ids(frame[log.customer])
    day, bad_day, blank_day = _parse_days(frame[log.date], log.date_format)
    units, decimals, bad_money, blank_money = _money(frame, log, marks)
    blanks = {"customer": (ids == "")[customer], "date": blank_day, "amount": blank_money}
    left = np.zeros(len(frame), dtype=bool)
    counts = []
    for role, blank in blanks.items():
        if blank.any() and missing == "fail":
            index = int(np.flatnonzero(blank)[0])
            column = log.customer if role == "customer" else log.date if role == "date" else next(
                name for name, _, empty in bad_money if empty[index])
            raise UserError(f"{origin}: column {column!r}, {places[index]}: no {role} ({count(int(blank.sum()))} such "
                            f"row(s)); set missing: drop to leave such rows out and count them")
        counts.append((role, int(np.count_nonzero(blank & ~left))))
        left |= blank
    if (bad_day & ~left).any():
        expected = f"the form {log.date_format!r}" if log.date_format else "an ISO date such as 1998-06-30"
        fail(log.date, bad_day & ~left, f"is not a date in {expected} (set transactions.date_format for other forms)")
    for column, bad, _ in bad_money:
        if (bad & ~left).any():
            fail(column, bad & ~left, f"is not {'an amount' if column == log.amount else 'a number'} (a plain number "
                                      "such as 12.50)")
    keep = ~left
    returns = 0
    if log.returns == "exclude":
        negative = keep & (units < 0)
        returns = int(np.count_nonzero(negative))
        keep &= ~negative
    if not keep.any():
        raise UserError(f"{origin}: no row is left once rows without a customer, date or amount"
                        f"{' and returns' if returns else ''} are left out")
    used = np.zeros(len(ids), dtype=bool)
    used[customer[keep]] = True
    codes = (np.cumsum(used) - 1)[customer[keep]]  # customers without a kept row are no customers
    customers = ids[used]
    order = _ids(frame[log.order])[0][keep] if log.order is not None else day[keep] - day[keep].min()
    return Log(customers=np.asarray(customers, dtype=object), customer=codes.astype(np.int64), day=day[keep],
               units=units[keep], places=decimals, order=np.asarray(order, dtype=np.int64), row=np.flatnonzero(keep),
               origin=origin,
               digest=digest, left_out=LeftOut(tuple(counts), returns))


def _money(frame: pd.DataFrame, log: Transactions, marks: Mapping[str, Marks]
           ) -> tuple[np.ndarray, int, list[tuple[str, np.ndarray, np.ndarray]], np.ndarray]:
    """Each row's amount in whole units of 10**-places, the places, (column, not-a-number mask, blank mask)
    per money column, and a mask of rows whose amount is blank."""
    parsed = []
    for name in log.money:
        numbers, blank, wrong = parse_numbers(frame[name], marks.get(name, PLAIN))
        ok = ~blank & ~wrong
        values = numbers[ok]
        places = _places(values[:SAMPLE])
        scaled = values * 10.0 ** places
        rounded = np.rint(scaled)
        if len(values) > SAMPLE and not _whole(scaled, rounded):  # the sample had fewer decimals
            places = _places(values)
            scaled = values * 10.0 ** places
            rounded = np.rint(scaled)
        units = np.zeros(len(numbers), dtype=np.int64)
        units[ok] = rounded.astype(np.int64)
        parsed.append((name, units, places, blank, wrong))
    units, places = parsed[0][1], parsed[0][2]
    blank = parsed[0][3]
    for _, more, digits, empty, _ in parsed[1:]:  # quantity x price: the units multiply, so do the places
        units, places, blank = units * more, places + digits, blank | empty
    return units, places, [(name, wrong, empty) for name, _, _, empty, wrong in parsed], blank


def _places(numbers: np.ndarray) -> int:
    """The fewest decimals (at most MAX_PLACES) that write every number: 2 for 12.5 and 3.99."""
    for places in range(MAX_PLACES):
        scaled = numbers * 10.0 ** places
        if _whole(scaled, np.rint(scaled)):
            return places
    return MAX_PLACES


def _whole(scaled: np.ndarray, rounded: np.ndarray) -> bool:
    """Whether every scaled amount is its rounded value, but for the float's own error."""
    return bool(np.all(np.abs(scaled - rounded) <= 1e-9 * np.maximum(1.0, np.abs(rounded))))


def _ids(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Customer (or order) ids: per row a code, and the distinct ids as text (sorted), trimmed, blank
    where missing; a spreadsheet's `12923.0` is `12923`. A log repeats its ids: each distinct cell is
    cleaned once."""
    codes, distinct = pd.factorize(_texts(column), use_na_sentinel=False)
    text = pd.Series(distinct, dtype=object).fillna("").astype(str).str.strip()
    text = text.str.replace(r"^(\d+)\.0+$", r"\1", regex=True)
    again, ids = pd.factorize(text, sort=True)
    return again[codes], np.asarray(ids, dtype=object)


def _texts(column: pd.Series) -> pd.Series:
    """Cells as text: whole numbers without `.0` (a spreadsheet's 12.0 is the id 12)."""
    if isinstance(column.dtype, pd.StringDtype) or (
            isinstance(column.dtype, pd.ArrowDtype) and pa.types.is_string(column.dtype.pyarrow_dtype)):
        return column  # text as read (CSV, TSV): without a Python string per cell
    if pd.api.types.is_integer_dtype(column.dtype) and not column.isna().any():
        return column.astype(str)
    return column.map(_text).astype(str)


def _text(cell: object) -> str:
    """A cell as typed (`as_text`); a missing cell is blank."""
    return "" if cell is None or cell is pd.NA or (isinstance(cell, float) and np.isnan(cell)) else as_text(cell)


def _parse_days(column: pd.Series, date_format: str | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Days since 1970-01-01 of every cell (a datetime counts by its date), a mask of the cells that are
    not dates, and one of the blank cells.

    A log repeats its dates: each distinct cell is parsed once, and the days spread back by code.
    """
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        codes, distinct = pd.factorize(column, use_na_sentinel=False)
        parsed = pd.Series(distinct)
        blank = parsed.isna().to_numpy()
    else:
        codes, distinct = pd.factorize(_texts(column).fillna(""))
        text = pd.Series(distinct, dtype=object).str.strip()
        blank = (text == "").to_numpy()
        try:
            parsed = pd.to_datetime(text, format=date_format or "ISO8601", errors="coerce", utc=True)
        except (ValueError, TypeError):  # a format pandas refuses as a whole
            parsed = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns, UTC]")
    bad = parsed.isna().to_numpy() & ~blank
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    days = parsed.to_numpy().astype("datetime64[D]").astype(np.int64)
    return days[codes], bad[codes], blank[codes]


def _days(date: datetime.date) -> int:
    return (date - EPOCH).days


def _date(days: int) -> datetime.date:
    return EPOCH + datetime.timedelta(days=days)


def meanings(config: DatasetConfig) -> tuple[tuple[str, str], ...]:
    """(feature, how it was derived) for each configured feature, in plain words."""
    log = config.transactions
    assert log is not None
    amount = "amounts (quantity x price)" if log.amount is None else "amounts"
    orders = "orders (distinct order numbers)" if log.order is not None else "days with rows"
    found = []
    for feature in config.features:
        meaning = MEANINGS[feature]
        if feature == "frequency":
            meaning = f"the number of purchases: {orders} whose {amount} add up to more than 0"
        elif feature == "monetary":
            meaning = (f"the total spent: the sum of the {amount} of all the customer's rows, "
                       + ("returns included" if log.returns == "net" else "returns left out"))
        found.append((feature, meaning))
    return tuple(found)
