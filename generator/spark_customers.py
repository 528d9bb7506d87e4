"""Customers derived in Spark from a purchase log (`engine: spark` with `transactions:`).

The same contract as `purchases`, written with Spark DataFrame group-bys so the log never comes to
this machine: each row's amount in whole units of the input's precision (cents, say: sums are
exact), rows grouped into orders (an `order` value, or a day), an order whose net amount is above 0
a purchase, and per customer recency, frequency, monetary, tenure and average_order at any date.
What comes back is counts and dates; the customers stay a Spark frame (`_row`, `f0`.., `_id`) that
`spark` clusters as it clusters a table. Spark reads without line numbers, so a problem names the
file, the column, an example cell and how many rows have it.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.config import DatasetConfig, is_uri
from generator.errors import UserError, shorten
from generator.formats import count, exact, plural
from generator.purchases import EPOCH, MAX_PLACES, LeftOut, LogSummary

# strptime directives -> Java DateTimeFormatter letters (Spark's patterns); a pair for fixed widths.
PIVOT = 2069  # a two-digit year from 69 on is in the 1900s, as strptime reads it
DIRECTIVES = {"Y": ("yyyy", "yyyy"), "y": ("yy", "yy"), "m": ("M", "MM"), "d": ("d", "dd"), "H": ("H", "HH"),
              "I": ("h", "hh"), "M": ("m", "mm"), "S": ("s", "ss"), "p": ("a", "a"), "b": ("MMM", "MMM"),
              "B": ("MMMM", "MMMM"), "f": ("SSSSSS", "SSSSSS"), "j": ("D", "DDD")}


@dataclass(frozen=True)
class SparkLog:
    """A parsed purchase log in Spark: per row `_cust` (text), `_day` (days since 1970-01-01),
    `_units` (the amount in whole units of 10**-places) and `_order`; what was left out, and its dates."""

    frame: Any  # a persisted pyspark DataFrame
    places: int
    origin: str
    rows: int  # rows in the file, before any is left out
    left_out: LeftOut
    first: datetime.date
    last: datetime.date


def source_frame(session: Any, root: Path, source: str, wanted: list[str], named_by: str) -> Any:
    """A CSV, TSV or Parquet file (a project path or any URI Spark reads) as a Spark frame of text cells
    (CSV) or typed columns (Parquet); a user's error, one line, when Spark cannot read it or a `wanted`
    column (named by the `named_by` key) is missing."""
    from pyspark.errors import AnalysisException

    location = source if is_uri(source) else str((root / source).resolve())
    suffix = Path(source).suffix.lower()
    try:
        if suffix == ".parquet":
            raw = session.read.parquet(location)
        else:
            raw = session.read.csv(location, header=True, sep="\t" if suffix == ".tsv" else ",", inferSchema=False,
                                   encoding="UTF-8", multiLine=False, mode="PERMISSIVE")
    except AnalysisException as error:
        raise UserError(f"{source}: Spark cannot read it: {str(error).splitlines()[0][:160]}") from None
    columns = list(raw.columns)
    for name in wanted:
        if name not in columns:
            raise UserError(f"{source}: no column {name!r}; the columns are: {shorten(', '.join(columns), 100)} "
                            f"({named_by} names it)")
    return raw


def read_log(session: Any, root: Path, config: DatasetConfig) -> SparkLog:
    """The log's customer, date, amount (and order) columns, parsed in Spark; rows left out counted."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    log = config.transactions
    assert log is not None
    origin = log.source
    wanted = [name for name in (log.customer, log.date, *log.money, log.order) if name is not None]
    raw = source_frame(session, root, log.source, wanted, "transactions")
    types = {field.name: field.dataType for field in raw.schema.fields}

    def cell(name: str) -> Any:
        return F.col(f"`{name}`")

    def text(name: str) -> Any:  # trimmed text, blank where missing; a spreadsheet's 12923.0 is 12923
        trimmed = F.regexp_replace(F.coalesce(cell(name).cast("string"), F.lit("")), r"^\s+|\s+$", "")
        return F.regexp_replace(trimmed, r"^(\d+)\.0+$", "$1")

    date_type = types[log.date]
    if isinstance(date_type, T.DateType):
        day, shown = F.unix_date(cell(log.date)), cell(log.date).cast("string")
        blank_day = cell(log.date).isNull()
    elif isinstance(date_type, (T.TimestampType, T.TimestampNTZType)):
        day, shown = F.unix_date(F.to_date(cell(log.date))), cell(log.date).cast("string")
        blank_day = cell(log.date).isNull()
    else:
        shown = text(log.date)
        blank_day = shown == ""
        parsed = (F.try_to_timestamp(shown, F.lit(java_pattern(log.date_format))) if log.date_format
                  else shown.try_cast("timestamp"))
        when = F.to_date(parsed)
        if log.date_format and "%y" in re.findall(r"%.", log.date_format):
            # Java reads a two-digit year as 2000-2099; Python and DuckDB read 69-99 as 1969-1999.
            when = F.when(F.year(when) >= PIVOT, F.add_months(when, -1200)).otherwise(when)
        day = F.unix_date(when)
    selected = [text(log.customer).alias("_cust"), day.alias("_day"), blank_day.alias("_blank_day"),
                shown.alias("_date_text")]
    for j, name in enumerate(log.money):
        value = cell(name) if isinstance(types[name], T.NumericType) else text(name)
        number = value.cast("double") if isinstance(types[name], T.NumericType) else value.try_cast("double")
        blank = value.isNull() if isinstance(types[name], T.NumericType) else value == ""
        finite = number.isNotNull() & ~F.isnan(number) & (F.abs(number) < float("inf"))
        selected += [F.when(finite, number).alias(f"_m{j}"), blank.alias(f"_blank{j}"),
                     cell(name).cast("string").alias(f"_money_text{j}")]
    if log.order is not None:
        selected.append(text(log.order).alias("_order"))
    parsed_frame = raw.select(*selected).persist()
    places = [_places(parsed_frame, f"_m{j}") for j in range(len(log.money))]
    units = F.lit(1).cast("long")
    for j, digits in enumerate(places):
        units = units * F.rint(F.col(f"_m{j}") * F.lit(10.0 ** digits)).cast("long")
    blank_money = F.lit(False)
    for j in range(len(log.money)):
        blank_money = blank_money | F.col(f"_blank{j}")
    roles = {"customer": F.col("_cust") == "", "date": F.col("_blank_day"), "amount": blank_money}
    left = F.lit(False)
    flags = []
    for role, blank in roles.items():
        flags.append(F.sum((blank & ~left).cast("long")).alias(role))
        left = left | blank
    counted = parsed_frame.agg(F.count(F.lit(1)).alias("rows"), *flags).first()
    assert counted is not None
    total = int(counted["rows"])
    if total == 0:
        raise UserError(f"{origin}: has a header but no rows")
    for role in roles:
        if counted[role] and config.missing == "fail":
            column = {"customer": log.customer, "date": log.date}.get(role, ", ".join(log.money))
            raise UserError(f"{origin}: column {column!r}: no {role} in {count(int(counted[role]))} row(s) (read by "
                            "Spark, which does not report lines); set missing: drop to leave such rows out and count "
                            "them")
    kept = parsed_frame.filter(~left)
    _refuse(kept.filter(F.col("_day").isNull()), "_date_text", origin, log.date,
            f"is not a date in the form {log.date_format!r}" if log.date_format else
            "is not a date in an ISO date such as 1998-06-30 (set transactions.date_format for other forms)")
    for j, name in enumerate(log.money):
        _refuse(kept.filter(F.col(f"_m{j}").isNull()), f"_money_text{j}", origin, name,
                f"is not {'an amount' if name == log.amount else 'a number'} (a plain number such as 12.50)")
    frame = kept.select("_cust", "_day", units.alias("_units"),
                        (F.col("_order") if log.order is not None else F.col("_day").cast("string")).alias("_order"))
    returns = 0
    if log.returns == "exclude":
        returns = frame.filter(F.col("_units") < 0).count()
        frame = frame.filter(F.col("_units") >= 0)
    frame = frame.persist()
    span = frame.agg(F.min("_day").alias("first"), F.max("_day").alias("last")).first()
    parsed_frame.unpersist()
    if span is None or span["first"] is None:
        raise UserError(f"{origin}: no row is left once rows without a customer, date or amount"
                        f"{' and returns' if returns else ''} are left out")
    blank = tuple((role, int(counted[role])) for role in roles)
    return SparkLog(frame, sum(places), origin, total, LeftOut(blank, returns), _date(span["first"]),
                    _date(span["last"]))


def _refuse(bad: Any, column: str, origin: str, name: str, why: str) -> None:
    """A `UserError` naming the column, an example cell and how many rows, when `bad` has rows."""
    first = bad.select(column).limit(1).collect()
    if first:
        raise UserError(f"{origin}: column {name!r}: {shorten(str(first[0][0]), 30)} {why} "
                        f"({count(bad.count())} such row(s))")


def _places(frame: Any, column: str) -> int:
    """The fewest decimals (at most MAX_PLACES) that write every number of a column, as `purchases` counts them."""
    from pyspark.sql import functions as F

    value = F.col(column)
    checks = []
    for places in range(MAX_PLACES):
        scaled = value * F.lit(10.0 ** places)
        rounded = F.rint(scaled)
        off = F.abs(scaled - rounded) > F.lit(1e-9) * F.greatest(F.lit(1.0), F.abs(rounded))
        checks.append(F.max(off.cast("int")).alias(f"p{places}"))
    row = frame.filter(value.isNotNull()).agg(*checks).first()
    assert row is not None
    for places in range(MAX_PLACES):
        if not row[f"p{places}"]:  # None (no number) or 0 (every number whole)
            return places
    return MAX_PLACES


def java_pattern(date_format: str) -> str:
    """A strptime format as a Spark (Java) date pattern: `%m/%d/%y %H:%M` -> `M/d/yy H:m`.

    Python's %m, %d, %H... read one or two digits; so do Java's single letters, except where a
    field touches another (`%Y%m%d`), where the fixed widths are meant.
    """
    pieces = re.findall(r"%.|[^%]+", date_format)
    pattern = []
    for index, piece in enumerate(pieces):
        if piece.startswith("%") and piece[1:] in DIRECTIVES:
            touching = any(0 <= near < len(pieces) and pieces[near].startswith("%") for near in (index - 1, index + 1))
            pattern.append(DIRECTIVES[piece[1:]][1 if touching else 0])
        elif piece == "%%":
            pattern.append("'%'")
        else:
            pattern.append("'" + piece.replace("'", "''") + "'")
    return "".join(pattern)


def customers(log: SparkLog, config: DatasetConfig, as_of: datetime.date, within: Any = None) -> tuple[Any, int]:
    """One row per customer with a purchase on or before `as_of`: `_id`, `_row` (in id order) and the
    features `f0`.. in config order; and how many people only returned goods by then.

    `within` (the customers at the last date, a frame with `_id`) keeps only those, as `purchases` does.
    """
    from pyspark.sql import functions as F

    day = (as_of - EPOCH).days
    rows = log.frame.filter(F.col("_day") <= day)
    orders = rows.groupBy("_cust", "_order").agg(F.sum("_units").alias("net"), F.min("_day").alias("opened"))
    bought = orders.filter(F.col("net") > 0).groupBy("_cust").agg(
        F.count(F.lit(1)).alias("frequency"), F.max("opened").alias("latest"), F.min("opened").alias("earliest"))
    totals = rows.groupBy("_cust").agg(F.sum("_units").alias("total"))
    joined = totals.join(bought, "_cust", "left")
    counts = joined.agg(F.count(F.lit(1)).alias("people"), F.count("frequency").alias("buyers")).first()
    assert counts is not None
    returns_only = int(counts["people"]) - int(counts["buyers"])
    found = joined.filter(F.col("frequency").isNotNull())
    if within is not None:
        found = found.join(within.select(F.col("_id").alias("_cust")), "_cust", "left_semi")
    scale = F.lit(10.0 ** log.places)
    total = F.col("total").cast("double")
    derived = {
        "recency": (F.lit(day) - F.col("latest")).cast("double"),
        "frequency": F.col("frequency").cast("double"),
        "monetary": total / scale,  # the double nearest the exact sum: it prints as the input writes it
        "tenure": (F.lit(day) - F.col("earliest")).cast("double"),
        "average_order": F.bround(total / F.col("frequency").cast("double"), 0) / scale,  # as numpy's round
    }
    table = found.select(F.col("_cust").alias("_id"), *[derived[name].alias(f"f{j}")
                                                          for j, name in enumerate(config.features)])
    # Sorted by id, then numbered: Spark numbers a sorted frame's partitions in order.
    table = table.orderBy("_id").withColumn("_row", F.monotonically_increasing_id()).persist()
    if table.limit(1).count() == 0:
        raise UserError(f"{log.origin}: no customer as of {as_of.isoformat()}: no order on or before it adds up "
                        f"to more than 0 ({config.path})")
    if config.scale == "log":
        _check_not_negative(table, log.origin, config, as_of)
    return table, returns_only


def _check_not_negative(table: Any, origin: str, config: DatasetConfig, as_of: datetime.date) -> None:
    """Under `scale: log` a derived value below 0 (returns exceeding purchases) names its customer."""
    from pyspark.sql import functions as F

    for j, name in enumerate(config.features):
        negative = table.filter(F.col(f"f{j}") < 0)
        first = negative.orderBy("_id").select("_id", f"f{j}").limit(1).collect()
        if first:
            others = negative.count() - 1
            more = f", and {plural(others, 'other customer')}" if others else ""
            who = first[0][0] if re.fullmatch(r"[\w.@+-]{1,40}", first[0][0]) else shorten(first[0][0])
            raise UserError(f"{origin}: customer {who}: {name} is {exact(float(first[0][1]))} as of "
                            f"{as_of.isoformat()}{more} (returns exceed purchases); scale: log needs 0 or more: "
                            f"set transactions.returns: exclude, or another scale ({config.path})")


def summary(log: SparkLog, config: DatasetConfig, as_of: datetime.date, customers_count: int,
            returns_only: int) -> LogSummary:
    """What the report says about the log (as `purchases.load_customers` says it), counted in Spark."""
    from pyspark.sql import functions as F

    assert config.transactions is not None
    day = (as_of - EPOCH).days
    early = F.col("_day") <= day
    row = log.frame.groupBy("_cust").agg(F.sum(early.cast("long")).alias("used")).agg(
        F.sum("used").alias("used"), F.sum((F.col("used") == 0).cast("long")).alias("later")).first()
    assert row is not None
    return LogSummary(origin=log.origin, customer=config.transactions.customer, rows=log.rows,
                      used=int(row["used"]), first=log.first, last=log.last, as_of=as_of,
                      customers=customers_count, later=int(row["later"]), returns_only=returns_only,
                      left_out=log.left_out)


def check_dates(log: SparkLog, config: DatasetConfig, as_of: datetime.date) -> None:
    """`as_of` and every snapshot date must come on or after the first purchase."""
    assert config.transactions is not None
    for key, when in (("as_of", as_of), *(("snapshots", date) for date in config.snapshots)):
        if when < log.first:
            raise UserError(f"{log.origin}: column {config.transactions.date!r}: {key} {when.isoformat()} is before "
                            f"every purchase; the first is {log.first.isoformat()} ({config.path} sets {key})")


def _date(days: int) -> datetime.date:
    return EPOCH + datetime.timedelta(days=int(days))
