"""Purchases: a transaction log (one row per purchase or line item) -> one customer row per customer.

DuckDB scans the log: a CSV, TSV or Parquet file itself (a delimited file with the delimiter and
number marks `data` detects on its first lines), any other format as `data.read_file` reads it. SQL
parses each row's customer, day and amount; each amount (`amount`, or `quantity x price`) is held
in whole units of the input's precision (cents, say), so sums are exact. Rows are grouped into orders
(an `order` value, or a day); an order whose net amount is above 0 is a purchase. Customers are then
derived with two group-bys (rows -> orders -> customers), every snapshot date's in the same scan:
recency, frequency, monetary, tenure and average_order, as DESIGN.md defines them. A log bigger than
memory spills to disk. The result is the same `Table` a customer file gives, so the later stages need
not know.
"""

from __future__ import annotations

import datetime
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from generator.config import DatasetConfig, Read, Transactions
from generator.data import (
    LARGEST,
    MISSING_TOKENS,
    PLAIN,
    Marks,
    Places,
    RawTable,
    Scan,
    Table,
    as_text,
    number_marks,
    personal_data,
    read_file,
    scan,
)
from generator.errors import UserError, did_you_mean, shorten
from generator.formats import count, exact, plural

EPOCH = datetime.date(1970, 1, 1)
MAX_PLACES = 6  # decimals an amount is counted in at most (a float with more is rounded to millionths)
# What Python's str.strip() takes off a cell (tabs, no-break spaces...): DuckDB's trim() with these characters
# is slow, so it runs only on the cells a regular expression finds with one at either end (a few, if any).
SPACES = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
          "\u2009\u200a\u2028\u2029\u202f\u205f\u3000")  # every character str.isspace() accepts (a test checks)
PADDED = f"'^[{SPACES}]|[{SPACES}]$'"
MEMORY = "2GB"  # DuckDB's limit: group-bys beyond it spill to a temporary folder
MARKS_HEAD = 100_000  # rows of a Parquet log its number marks (of text amounts) are detected on
KEPT = "NOT left_"  # the rows customers are derived from (a bad cell stops the build before)
SPREADSHEET_ID = r"'^(\d+)\.0+$', '\1'"  # a spreadsheet's id 12923.0 is 12923: pattern, replacement
NUMERIC = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
           "UHUGEINT", "FLOAT", "DOUBLE"}
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
class Source:
    """A log as DuckDB reads it: a table expression of its rows, the same with each row's index in the file
    (`row_`: slower, for messages only), where each row is for people, and what the report says of the reading."""

    rows: str
    numbered: str
    types: Mapping[str, str]  # each wanted column's DuckDB type
    places: Callable[[int], Places]  # where each of the file's rows is, given their number
    origin: str
    digest: str
    marks: Mapping[str, Marks]
    reading: tuple[str, ...]


@dataclass(frozen=True)
class Checked:
    """What one scan of the parsed log found: its rows, those left out, the first and last day of those
    kept, and the decimals each money column writes."""

    rows: int
    left_out: LeftOut
    first: int
    last: int
    places: tuple[int, ...]


@dataclass(frozen=True)
class Derived:
    """The features of the customers at one date, who they are, and who only returned goods."""

    features: dict[str, np.ndarray]  # in customer order, customers only
    present: np.ndarray  # mask of the log's customers: a purchase on or before the date
    returns_only: int  # people with rows on or before the date but no purchase


def load_customers(root: Path, config: DatasetConfig) -> Customers:
    """The customers of a dataset configured with `transactions`, at as_of and at every snapshot.

    Two scans of the log: one checks every row and counts those left out, one derives every date's
    customers at once; DuckDB spills what does not fit in MEMORY to a temporary folder.
    """
    log = config.transactions
    assert log is not None
    with tempfile.TemporaryDirectory(prefix="purchases-") as spill, _connect(spill) as connection:
        scanned = scan(root, log.source, config.read)
        try:
            source = _source(connection, root, log, config.read, scanned)
            checked = _check(connection, source, log, config.missing)
        except (duckdb.InvalidInputException, duckdb.IOException):  # a file DuckDB refuses (ragged rows, bytes
            if scanned is None:  # not UTF-8, not Parquet after all): read_file reads it, or words what is wrong
                raise
            source = _source(connection, root, log, config.read, None)
            checked = _check(connection, source, log, config.missing)
        first, last = _date(checked.first), _date(checked.last)
        as_of = config.as_of or last
        for key, when in (("as_of", as_of), *(("snapshots", date) for date in config.snapshots)):
            if when < first:
                earliest, _ = _first(connection, source, log, f"{KEPT} AND day = {checked.first}")
                raise UserError(f"{source.origin}: column {log.date!r}: {key} {when.isoformat()} is before every "
                                f"purchase; the first is {first.isoformat()} (row {earliest + 1} of the log; "
                                f"{config.path} sets {key})")
        dates = sorted({as_of, *config.snapshots})
        found = _derive(connection, source, log, checked, [_days(date) for date in dates], _days(as_of))
    customers = found.pop("customer")
    table, derived = customer_table(customers, found, checked, config, as_of, source)
    at_as_of = np.flatnonzero(derived.present)
    snapshots = []
    for date in config.snapshots:
        earlier, members = ((table, derived) if date == as_of else
                            customer_table(customers, found, checked, config, date, source, derived.present))
        snapshots.append(Snapshot(date, earlier, np.searchsorted(at_as_of, np.flatnonzero(members.present))))
    summary = LogSummary(
        origin=source.origin, customer=log.customer, rows=checked.rows, used=int(found["used"].sum()), first=first,
        last=last, as_of=as_of, customers=table.rows_used,
        later=int(np.count_nonzero(found[f"seen_{_days(as_of)}"] == 0)), returns_only=derived.returns_only,
        left_out=checked.left_out)
    return Customers(table, summary, tuple(snapshots))


def customer_table(customers: np.ndarray, found: Mapping[str, np.ndarray], checked: Checked, config: DatasetConfig,
                   date: datetime.date, source: Source, within: np.ndarray | None = None) -> tuple[Table, Derived]:
    """One row per customer from the log's rows dated on or before `date`, and which customers those are.

    `within` (a snapshot's: the customers at the last date) keeps only those: an order whose later
    rows cancel it was a purchase at an earlier date, but its customer may be none at the last.
    """
    derived = _features(found, _days(date), checked)
    if within is not None and (derived.present & ~within).any():
        kept = within[derived.present]
        derived = Derived({name: values[kept] for name, values in derived.features.items()},
                          derived.present & within, derived.returns_only)
    features = pd.DataFrame({name: derived.features[name] for name in config.features})
    ids = tuple(customers[derived.present].tolist())
    assert config.transactions is not None
    if not ids:
        raise UserError(f"{source.origin}: no customer as of {date.isoformat()}: no order on or before it adds up "
                        f"to more than 0 ({config.path})")
    if config.scale == "log":
        _check_not_negative(features, ids, source.origin, config, date)
    table = Table(features=features, ids=ids, rows_read=len(ids), dropped={}, sha256=source.digest,
                  origin=source.origin, personal=personal_data(config.transactions.customer, ids),
                  reading=source.reading)
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


def _features(found: Mapping[str, np.ndarray], day: int, checked: Checked) -> Derived:
    """Every derived feature at `day` of the customers with a purchase on or before it, from `_derive`'s columns."""
    frequency = found[f"frequency_{day}"]
    present = frequency > 0
    total = found[f"total_{day}"][present]
    scale = 10.0 ** sum(checked.places)
    frequency = frequency[present]
    return Derived({
        "recency": (day - found[f"last_{day}"][present]).astype(np.float64),
        "frequency": frequency.astype(np.float64),
        # Whole units (int64) divided once: the float nearest the exact sum, printed as the input writes it.
        "monetary": total / scale,
        "tenure": (day - found[f"first_{day}"][present]).astype(np.float64),
        "average_order": np.round(total / frequency) / scale,  # to the input's precision
    }, present, int(np.count_nonzero((found[f"seen_{day}"] > 0) & ~present)))


# --- the log in DuckDB: reading, parsing (SQL), checking and deriving -----------------------------


def _connect(spill: str) -> duckdb.DuckDBPyConnection:
    """An in-memory database that spills to `spill` beyond MEMORY; datetimes with offsets count in UTC."""
    connection = duckdb.connect(config={"memory_limit": MEMORY, "temp_directory": spill,
                                        "preserve_insertion_order": False})
    connection.execute("SET TimeZone = 'UTC'; SET enable_progress_bar = false")  # a build prints only its own words
    return connection


def _source(connection: duckdb.DuckDBPyConnection, root: Path, log: Transactions, read: Read | None,
            found: Scan | None) -> Source:
    """The log as DuckDB reads it: the file itself where `data.scan` found how (CSV, TSV, Parquet), else the
    cells `data.read_file` read (workbooks, JSON, text separated by spaces or not UTF-8)."""
    wanted = list(dict.fromkeys(name for name in (log.customer, log.date, *log.money, log.order) if name is not None))
    read = read or Read()
    places: Callable[[int], Places]
    if found is not None and found.delimiter is None:  # Parquet
        rows = f"read_parquet({_literal(str(found.path))})"
        numbered = f"(SELECT file_row_number AS row_, * FROM read_parquet({_literal(str(found.path))}, " \
                   "file_row_number = true))"
        relation = connection.sql(f"SELECT * FROM {rows}")
        _check_wanted(wanted, relation.columns, log.source)
        head = relation.select(*map(_name, wanted)).limit(MARKS_HEAD).to_arrow_table()
        raw = RawTable(head.to_pandas(types_mapper=pd.ArrowDtype), Places("row", head.num_rows, 1), found.digest,
                       log.source)
        places = found.places
    elif found is not None:  # delimited text, UTF-8
        assert found.head is not None
        assert found.delimiter is not None
        raw = found.head
        names = [str(name) for name in raw.frame.columns]
        _check_wanted(wanted, names, log.source)
        cells = (f"read_csv({_literal(str(found.path))}, delim = {_literal(found.delimiter)}, header = true, "
                 f"quote = '\"', escape = '\"', all_varchar = true, null_padding = true, "
                 f"names = [{', '.join(map(_literal, names))}])")
        # A row blank in every column (a spreadsheet's padding, `,,,`) is no row, as `data` reads it.
        kept = "NOT (" + " AND ".join(f"coalesce({_stripped(_name(name))}, '') = ''" for name in names) + ")"
        rows = f"(SELECT * FROM {cells} WHERE {kept})"
        numbered = f"(SELECT row_number() OVER () - 1 AS row_, * FROM {rows})"  # `places` skips blank rows too
        relation = connection.sql(f"SELECT * FROM {rows}")
        places = found.places
    else:
        raw = read_file(root, log.source, read, wanted)
        _check_wanted(wanted, [str(name) for name in raw.frame.columns], raw.origin)
        cells = pa.table({**{name: _arrow(raw.frame[name]) for name in wanted},
                          "row_": pa.array(np.arange(len(raw.frame)))})
        connection.register("log_cells", cells)
        rows = numbered = "log_cells"
        relation = connection.sql(f"SELECT * FROM {rows}")
        places = _as_read(raw.places)
    marks, facts = number_marks(raw, list(log.money), read)
    types = {name: str(kind) for name, kind in zip(relation.columns, relation.types, strict=True) if name in wanted}
    return Source(rows, numbered, types, places, raw.origin, raw.digest, marks, (*raw.separated, *facts, *raw.facts))


def _as_read(places: Places) -> Callable[[int], Places]:
    """The places `read_file` found, whatever the number of rows."""
    return lambda _: places


def _check_wanted(wanted: Sequence[str], columns: Sequence[str], origin: str) -> None:
    for name in wanted:
        if name not in columns:
            raise UserError(f"{origin}: no column {name!r}{did_you_mean(name, list(columns))}; the columns are: "
                            f"{shorten(', '.join(columns), 100)} (transactions names it)")


def _arrow(column: pd.Series) -> pa.Array | pa.ChunkedArray:
    """A column of cells for DuckDB: as pyarrow types it, or as text where its cells mix types (a workbook's)."""
    try:
        return pa.array(column, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array(column.map(_text).astype(str), pa.string())


def _parsed(source: Source, log: Transactions, numbered: bool = False) -> str:
    """The CTEs of `parsed`: per row its customer (trimmed text; '' where blank; a spreadsheet's `12923.0`
    is `12923`), day (days since 1970-01-01: a datetime counts by its date; null where blank or not a date),
    per money column x<k> (a finite number, null where blank or not a number) and blank<k>, the order `o`,
    and the flags left_ (a blank customer, date or amount), bad_day, bad<k> and negative."""
    types = source.types
    parts = [f"{_trimmed(log.customer, types)} AS c",
             f"{_text_of(log.date, types)} AS d_cell"]
    if log.order is not None:
        parts.append(f"{_trimmed(log.order, types)} AS oc")
    dated = _temporal(types[log.date])
    parts.append(f"{_name(log.date)} AS d" if dated else f"{_trimmed(log.date, types)} AS d")
    blank = "d IS NULL" if dated else "d IS NULL OR d = ''"
    values = [f"{_id('c')} AS customer", f"{blank} AS blank_day",
              f"CAST(CAST({'d' if dated else _parse_date('d', log.date_format)} AS DATE) - DATE '1970-01-01' "
              "AS INTEGER) AS day"]
    if log.order is not None:
        values.append(f"{_id('oc')} AS o")
    for k, name in enumerate(log.money):
        parts.append(f"{_text_of(name, types)} AS m{k}_cell")
        if _numeric(types[name]):
            parts.append(f"{_name(name)} AS m{k}")
            values += [f"CAST(m{k} AS DOUBLE) AS v{k}", f"m{k} IS NULL AS blank{k}"]
        else:
            parts.append(f"{_trimmed(name, types)} AS m{k}")
            tokens = ", ".join(map(_literal, MISSING_TOKENS))
            values += [f"{_number(f'm{k}', source.marks.get(name, PLAIN))} AS v{k}",
                       f"m{k} IS NULL OR lower(m{k}) IN ({tokens}) AS blank{k}"]
    money = range(len(log.money))
    finite = ", ".join(f"CASE WHEN isfinite(v{k}) AND abs(v{k}) <= {LARGEST} THEN v{k} END AS x{k}" for k in money)
    blanks = " OR ".join(f"blank{k}" for k in money)
    product = " * ".join(f"x{k}" for k in money)
    flags = (f"c IS NULL OR c = '' AS blank_customer, c IS NULL OR c = '' OR blank_day OR {blanks} AS left_, "
             f"day IS NULL AND NOT blank_day AS bad_day, {product} < 0 AS negative, "
             + ", ".join(f"x{k} IS NULL AND NOT blank{k} AS bad{k}" for k in money))
    row = "row_, " if numbered else ""
    return (f"cells AS (SELECT {row}{', '.join(parts)} FROM {source.numbered if numbered else source.rows}), "
            f"parsed_values AS (SELECT *, {', '.join(values)} FROM cells), "
            f"parsed_numbers AS (SELECT *, {finite} FROM parsed_values), "
            f"parsed AS (SELECT *, {flags} FROM parsed_numbers)")


def _check(connection: duckdb.DuckDBPyConnection, source: Source, log: Transactions, missing: str) -> Checked:
    """One scan of the parsed log: a blank or bad cell is a `UserError` naming its line (blank ones only
    under `missing: fail`); the counts of rows left out, the days of those kept, the decimals of the amounts."""
    money = range(len(log.money))
    exclude = log.returns == "exclude"
    kept = f"{KEPT}{' AND NOT negative' if exclude else ''}"
    decimals = [f"max({_decimals(f'x{k}')}) FILTER (x{k} IS NOT NULL)" for k in money]
    blank_money = " OR ".join(f"blank{k}" for k in money)
    row = connection.sql(
        f"WITH {_parsed(source, log)} SELECT count(*), count(*) FILTER (blank_customer), "
        f"count(*) FILTER (blank_day AND NOT blank_customer), "
        f"count(*) FILTER (({blank_money}) AND NOT blank_customer AND NOT blank_day), "
        f"count(*) FILTER (NOT left_ AND bad_day), "
        + "".join(f"count(*) FILTER (NOT left_ AND bad{k}), " for k in money)
        + f"count(*) FILTER (NOT left_ AND negative), count(*) FILTER ({kept}), min(day) FILTER ({kept}), "
        f"max(day) FILTER ({kept}), {', '.join(decimals)} FROM parsed").fetchone()
    assert row is not None
    rows, blank_customer, blank_date, blank_amount, bad_day, *rest = row
    bad, (negative, used, first, last), decimals = rest[:len(money)], rest[len(money):][:4], rest[len(money) + 4:]
    if not rows:
        raise UserError(f"{source.origin}: has a header but no rows")
    blanks = {"customer": (blank_customer, "blank_customer"), "date": (blank_date, "blank_day"),
              "amount": (blank_amount, f"({blank_money})")}
    for role, (many, condition) in blanks.items():
        if many and missing == "fail":
            index, cells = _first(connection, source, log, condition, [f"blank{k}" for k in money])
            column = log.customer if role == "customer" else log.date if role == "date" else next(
                name for name, empty in zip(log.money, cells, strict=True) if empty)
            raise UserError(f"{source.origin}: column {column!r}, {source.places(rows)[index]}: no {role} "
                            f"({count(many)} such row(s)); set missing: drop to leave such rows out and count them")
    if bad_day:
        expected = f"the form {log.date_format!r}" if log.date_format else "an ISO date such as 1998-06-30"
        _fail(connection, source, log, "d_cell", "bad_day", (bad_day, rows),
              f"is not a date in {expected} (set transactions.date_format for other forms)")
    for k, (name, many) in enumerate(zip(log.money, bad, strict=True)):
        if many:
            _fail(connection, source, log, f"m{k}_cell", f"bad{k}", (many, rows),
                  f"is not {'an amount' if name == log.amount else 'a number'} (a plain number such as 12.50)")
    returns = negative if exclude else 0
    if not used:
        raise UserError(f"{source.origin}: no row is left once rows without a customer, date or amount"
                        f"{' and returns' if returns else ''} are left out")
    places = tuple(int(found or 0) for found in decimals)
    left_out = LeftOut((("customer", blank_customer), ("date", blank_date), ("amount", blank_amount)), returns)
    return Checked(rows, left_out, first, last, places)


def _fail(connection: duckdb.DuckDBPyConnection, source: Source, log: Transactions, cell: str, condition: str,
          counts: tuple[int, int], why: str) -> None:
    """A bad cell: a `UserError` naming the column and line of the first, and how many there are."""
    (many, rows), (index, (text,)) = counts, _first(connection, source, log, f"NOT left_ AND {condition}", [cell])
    column = log.date if cell == "d_cell" else log.money[int(cell[1])]
    raise UserError(f"{source.origin}: column {column!r}, {source.places(rows)[index]}: "
                    f"{shorten(text or '', 30)} {why} ({count(many)} such row(s))")


def _first(connection: duckdb.DuckDBPyConnection, source: Source, log: Transactions, condition: str,
           columns: Sequence[str] = ()) -> tuple[int, tuple[Any, ...]]:
    """The index in the file of the first row meeting `condition`, and its `columns`: read in file order,
    one thread (only for a message)."""
    connection.execute("SET threads = 1; SET preserve_insertion_order = true")
    wanted = "".join(f", {column}" for column in columns)
    found = connection.sql(f"WITH {_parsed(source, log, numbered=True)} SELECT row_{wanted} "
                           f"FROM parsed WHERE {condition} ORDER BY row_ LIMIT 1").fetchone()
    assert found is not None
    return int(found[0]), tuple(found[1:])


def _derive(connection: duckdb.DuckDBPyConnection, source: Source, log: Transactions, checked: Checked,
            dates: Sequence[int], as_of: int) -> dict[str, np.ndarray]:
    """One scan of the log for every date: per customer (sorted) and date, the purchases (orders whose rows up to
    the date add up to more than 0), the days of the first and last, the total in whole units, and whether any
    row is dated on or before it; and the rows dated on or before as_of.

    Two group-bys: rows into orders (an `order` value, or a day, of a customer), orders into customers.
    """
    units = " * ".join(f"CAST(round(x{k} * {10.0 ** places!r}) AS BIGINT)"
                       for k, places in enumerate(checked.places))
    order = "o" if log.order is not None else "day"
    exclude = " AND NOT negative" if log.returns == "exclude" else ""
    nets = ", ".join(f"sum(units) FILTER (day <= {d}) AS net_{d}, min(day) FILTER (day <= {d}) AS opened_{d}"
                     for d in dates)
    customers = ", ".join(
        f"count(*) FILTER (net_{d} > 0) AS frequency_{d}, "
        f"coalesce(min(opened_{d}) FILTER (net_{d} > 0), 0) AS first_{d}, "
        f"coalesce(max(opened_{d}) FILTER (net_{d} > 0), 0) AS last_{d}, "
        f"CAST(coalesce(sum(net_{d}), 0) AS BIGINT) AS total_{d}, count(opened_{d}) AS seen_{d}" for d in dates)
    query = (f"WITH {_parsed(source, log)}, "
             f"kept AS (SELECT customer, day, {order} AS o_, {units} AS units FROM parsed WHERE {KEPT}{exclude}), "
             f"orders AS (SELECT customer, {nets}, count(*) FILTER (day <= {as_of}) AS used FROM kept "
             f"GROUP BY customer, o_) "
             f"SELECT customer, {customers}, CAST(sum(used) AS BIGINT) AS used FROM orders GROUP BY customer "
             "ORDER BY customer")
    found = connection.sql(query).fetchnumpy()
    return {name: np.asarray(values) for name, values in found.items()}


def _name(column: str) -> str:
    """A column name as a SQL identifier."""
    return '"' + column.replace('"', '""') + '"'


def _literal(text: str) -> str:
    """Text as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _text_of(column: str, types: Mapping[str, str]) -> str:
    return _name(column) if types[column] == "VARCHAR" else f"CAST({_name(column)} AS VARCHAR)"


def _temporal(kind: str) -> bool:
    return kind == "DATE" or kind.startswith("TIMESTAMP")


def _numeric(kind: str) -> bool:
    return kind in NUMERIC or kind.startswith("DECIMAL")


def _id(cell: str) -> str:
    """An id as text (customer, order): blank where missing; a spreadsheet's `12923.0` is `12923`."""
    return (f"CASE WHEN {cell} IS NULL THEN '' WHEN contains({cell}, '.') "
            f"THEN regexp_replace({cell}, {SPREADSHEET_ID}) ELSE {cell} END")


def _parse_date(cell: str, date_format: str | None) -> str:
    """A timestamp of a date cell, null where it is not one: ISO (with an offset: in UTC), or `date_format`."""
    if date_format is None:
        return f"TRY_CAST({cell} AS TIMESTAMPTZ)"
    try:
        duckdb.sql(f"SELECT try_strptime('', {_literal(date_format)})").fetchall()
    except duckdb.Error:  # a format DuckDB refuses as a whole: no cell is a date in it
        return "CAST(NULL AS TIMESTAMP)"
    return f"try_strptime({cell}, {_literal(date_format)})"


def _number(cell: str, marks: Marks) -> str:
    """A number of a trimmed text cell written with `marks`, null where it is not one."""
    if marks == PLAIN:  # DuckDB reads the plain numbers (and `1_000`, which no one writes for an amount)
        return f"CASE WHEN NOT contains({cell}, '_') THEN TRY_CAST({cell} AS DOUBLE) END"
    plain = cell
    for mark in marks.thousands:
        plain = f"replace({plain}, {_literal(mark)}, '')"
    if marks.decimal != ".":
        plain = f"replace({plain}, {_literal(marks.decimal)}, '.')"
    return f"CASE WHEN regexp_full_match({cell}, {_literal(marks.pattern)}) THEN TRY_CAST({plain} AS DOUBLE) END"


def _decimals(cell: str) -> str:
    """The fewest decimals (at most MAX_PLACES) that write a number: 2 for 3.99, 1 for 12.5; a number
    with more (or whose float is not whole in millionths, but for its own error) has MAX_PLACES."""
    scaled = f"({cell} * {10.0 ** MAX_PLACES!r})"
    fewer = " ".join(f"WHEN fmod(round({scaled}), {10.0 ** (MAX_PLACES - places)!r}) = 0 THEN {places}"
                     for places in range(MAX_PLACES))
    return (f"CASE WHEN abs({scaled} - round({scaled})) > 1e-9 * greatest(1.0, abs(round({scaled}))) "
            f"THEN {MAX_PLACES} {fewer} ELSE {MAX_PLACES} END")


def _trimmed(column: str, types: Mapping[str, str]) -> str:
    """A column's cells as text: text trimmed of spaces, other types as DuckDB writes them."""
    return _stripped(_name(column)) if types[column] == "VARCHAR" else f"CAST({_name(column)} AS VARCHAR)"


def _stripped(cell: str) -> str:
    """Text without the white space at either end, as str.strip() takes it off."""
    return f"CASE WHEN regexp_matches({cell}, {PADDED}) THEN trim({cell}, '{SPACES}') ELSE {cell} END"


def _text(cell: object) -> str:
    """A cell as typed (`as_text`); a missing cell is blank."""
    return "" if cell is None or cell is pd.NA or (isinstance(cell, float) and np.isnan(cell)) else as_text(cell)


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
