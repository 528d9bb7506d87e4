"""Dataset configuration: `site_config/datasets/<id>.yml` -> frozen, validated objects.

All validation happens here, once. Every problem in a file is collected and reported at
once, each as `site_config/datasets/<id>.yml: <key>: <message>`. The schema below (`OPTIONS`)
is read off the fields of `DatasetConfig`, which carry each key's checker and meaning: the
configuration reference page comes from the same place, so the two cannot drift apart.
"""

from __future__ import annotations

import codecs
import datetime
import hashlib
import itertools
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import MISSING as MISSING_VALUE
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

from generator.errors import UserError, did_you_mean, shorten

CONFIG_DIR = Path("site_config") / "datasets"
SPARK_CONFIG = Path("site_config") / "spark.yml"  # Spark properties for engine: spark
BLOCK = 1 << 20  # bytes of a data file hashed at a time
SLUG = re.compile(r"[a-z0-9][a-z0-9-]*\Z")
SCALES = ("standard", "minmax", "robust", "none", "log")
MISSING = ("fail", "drop")
ENGINES = ("local", "spark")
SOURCE_SUFFIXES = (".csv", ".tsv", ".txt", ".dat", ".parquet", ".xlsx", ".json")
SPARK_SUFFIXES = (".csv", ".tsv", ".parquet")  # what engine: spark reads
MAX_CLUSTERS = 30
DEFAULT_N_CLUSTERS = (2, 8)  # the range of k evaluated when `n_clusters` is not given
MAX_TEXT = 200
# The customer features a transaction log gives (`transactions:`), as DESIGN.md defines them.
DERIVED = ("recency", "frequency", "monetary", "tenure", "average_order")
TRANSACTION_KEYS = ("source", "customer", "date", "amount", "quantity", "price", "date_format", "order", "returns")
TRANSACTION_REQUIRED = ("source", "customer", "date")
RETURNS = ("net", "exclude")
READ_KEYS = ("delimiter", "decimal", "thousands", "encoding", "sheet")
DELIMITED = (".csv", ".tsv", ".txt", ".dat")  # the files `delimiter`, `decimal`, `thousands` and `encoding` read
DECIMAL_MARKS = (".", ",")
# Thousands separators: "none", or a character people group digits with ("\u00a0" and "\u202f": no-break spaces).
THOUSANDS = ("none", ",", ".", " ", "'", "\u00a0", "\u202f")


@dataclass(frozen=True)
class Transactions:
    """A purchase log: one row per purchase or line item, the columns that name its customer, date and
    amount (or quantity and price: amount = quantity x price)."""

    source: str
    customer: str
    date: str
    amount: str | None = None  # what the row spent; else quantity x price
    quantity: str | None = None
    price: str | None = None
    date_format: str | None = None  # strptime syntax; ISO dates without it
    order: str | None = None  # rows sharing it are one purchase
    returns: str = "net"  # net: returns count against monetary; exclude: negative rows are left out

    @property
    def money(self) -> tuple[str, ...]:
        """The column(s) a row's amount comes from: (amount,) or (quantity, price)."""
        if self.amount is not None:
            return (self.amount,)
        assert self.quantity is not None
        assert self.price is not None
        return (self.quantity, self.price)


@dataclass(frozen=True)
class Read:
    """How to read a table file (`read:`); each option left None is detected from the file."""

    delimiter: str | None = None  # one character; " " is runs of spaces and tabs
    decimal: str | None = None
    thousands: str | None = None  # "none": digits are not grouped
    encoding: str | None = None  # a Python codec name, as pandas takes it
    sheet: str | None = None  # a workbook's sheet, by name


class Invalid(Exception):
    """A value does not fit its key; each message (argument) completes `<file>: <key>: ...`."""


# --- value checkers: each takes the raw YAML value and returns the typed one -------------


def _text(value: object, *, single_line: bool = True) -> str:
    if not isinstance(value, str):
        raise Invalid(f"must be text, got {_kind(value)} {shorten(value)} (put it in quotes)")
    text = value.strip()
    if not text:
        raise Invalid("must not be empty")
    if single_line and ("\n" in text or "\r" in text or len(text) > MAX_TEXT):
        raise Invalid(f"must be one line of at most {MAX_TEXT} characters")
    return text


def _paragraph(value: object) -> str:
    return _text(value, single_line=False)


def _column(value: object) -> str:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise Invalid(f"must be a column name, got {_kind(value)} {shorten(value)}")
    name = str(value)
    if not name.strip():
        raise Invalid("must not be empty")
    return name


def _columns(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise Invalid(f"must be a list of column names, got {_kind(value)} {shorten(value)}")
    names = tuple(_column(item) for item in value)
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise Invalid(f"lists {shorten(duplicates[0])} more than once")
    return names


def _features(value: object) -> tuple[str, ...]:
    names = _columns(value)
    if len(names) < 2:
        raise Invalid("needs at least two numeric columns (a segment map has two axes)")
    return names


def _integer(value: object, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise Invalid(f"must be a whole number, got {_kind(value)} {shorten(value)}")
    if not low <= value <= high:
        raise Invalid(f"must be between {low} and {high}, got {value}")
    return value


def _n_clusters(value: object) -> int | tuple[int, int]:
    if isinstance(value, list):
        if len(value) != 2:
            raise Invalid(f"a range is two numbers [min, max], got {len(value)} items")
        low, high = (_integer(item, 2, MAX_CLUSTERS) for item in value)
        if low > high:
            raise Invalid(f"range [{low}, {high}] is empty: min must not exceed max")
        return (low, high) if low < high else low
    return _integer(value, 2, MAX_CLUSTERS)


def _random_state(value: object) -> int:
    return _integer(value, 0, 2**32 - 1)


def _n_init(value: object) -> int:
    return _integer(value, 1, 1000)


def _suppress_below(value: object) -> int:
    return _integer(value, 0, 1_000_000)


def _choice(options: tuple[str, ...]) -> Callable[[object], str]:
    def check(value: object) -> str:
        if value not in options:
            hint = did_you_mean(str(value), options)
            raise Invalid(f"must be one of {', '.join(options)}, got {shorten(value)}{hint}")
        return str(value)

    return check


def _boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise Invalid(f"must be true or false, got {_kind(value)} {shorten(value)}")
    return value


def _source(value: object) -> str:
    text = _text(value)
    if Path(text).suffix.lower() not in SOURCE_SUFFIXES:
        raise Invalid(f"{shorten(text)} must end in one of {', '.join(SOURCE_SUFFIXES)}")
    return text


def _data(value: object) -> dict[str, tuple[object, ...]]:
    if not isinstance(value, dict) or not value:
        raise Invalid("must map each column name to a list of values")
    table: dict[str, tuple[object, ...]] = {}
    for name, cells in value.items():
        column = _column(name)
        if not isinstance(cells, list):
            raise Invalid(f"column {shorten(column)} must be a list of values")
        for row, cell in enumerate(cells, start=1):
            if cell is not None and not isinstance(cell, str | int | float):
                raise Invalid(f"column {shorten(column)} row {row}: {shorten(cell)} is not a plain value")
        table[column] = tuple(cells)
    lengths = {len(cells) for cells in table.values()}
    if len(lengths) > 1:
        counts = ", ".join(f"{shorten(k)}: {len(v)}" for k, v in table.items())
        raise Invalid(f"columns must have the same number of values ({counts})")
    return table


def _labels(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        raise Invalid(f"must map column names to display labels, got {_kind(value)}")
    return {_column(k): _text(v) for k, v in value.items()}


def _plot(value: object) -> tuple[str, str]:
    names = _columns(value)
    if len(names) != 2:
        raise Invalid(f"must name exactly two features, got {len(names)}")
    return names[0], names[1]


def _share(value: object) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise Invalid(f"must be a number, got {_kind(value)} {shorten(value)}")
    if not 0 < value <= 0.5:
        raise Invalid(f"must be a share above 0 and at most 0.5 (0.05 is 5% of customers), got {value}")
    return float(value)


def _names(value: object) -> dict[int, str]:
    if not isinstance(value, dict):
        raise Invalid(f"must map segment numbers to names, got {_kind(value)}")
    return {_integer(k, 0, MAX_CLUSTERS - 1): _text(v) for k, v in value.items()}


def _date(value: object) -> datetime.date:
    if isinstance(value, datetime.datetime):
        raise Invalid(f"must be a date (YYYY-MM-DD) without a time, got {value.isoformat()}")
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise Invalid(f"must be a date written YYYY-MM-DD, got {_kind(value)} {shorten(value)}")


def _snapshots(value: object) -> tuple[datetime.date, ...]:
    if not isinstance(value, list):
        raise Invalid(f"must be a list of dates (YYYY-MM-DD), got {_kind(value)} {shorten(value)}")
    dates = tuple(_date(item) for item in value)
    if len(dates) < 2:
        raise Invalid(f"needs two or more dates to follow segments across, got {len(dates)}")
    for earlier, later in itertools.pairwise(dates):
        if later <= earlier:
            raise Invalid(f"must be ascending: {later.isoformat()} comes after {earlier.isoformat()}")
    return dates


def _entries(value: dict[Any, Any], keys: tuple[str, ...], check: Callable[[str, object], str]
             ) -> tuple[dict[str, str], list[str]]:
    """A nested mapping's known keys, each value checked by `check(key, value)`, and every problem
    (an unknown key, a bad value) as `key: message`."""
    found: dict[str, str] = {}
    problems: list[str] = []
    for key, item in value.items():
        name = str(key)
        if name not in keys:
            problems.append(f"{shorten(name)}: unknown key{did_you_mean(name, keys)}")
            continue
        try:
            found[name] = check(name, item)
        except Invalid as error:
            problems.append(f"{name}: {error}")
    return found, problems


def _transactions(value: object) -> Transactions:
    if not isinstance(value, dict):
        raise Invalid(f"must map source, customer, date and amount (or quantity and price) to a file and its "
                      f"columns, got {_kind(value)}")
    found, problems = _entries(value, TRANSACTION_KEYS, lambda name, item: (
        _source(item) if name == "source" else _text(item) if name == "date_format"
        else _choice(RETURNS)(item) if name == "returns" else _column(item)))
    problems += [f"{key}: is required" for key in TRANSACTION_REQUIRED if key not in value]
    given = [key for key in ("amount", "quantity", "price") if key in value]
    if "amount" in given and len(given) > 1:
        problems.append(f"{' and '.join(given)}: give amount, or quantity and price (amount = quantity x price), "
                        "not both")
    elif given in (["quantity"], ["price"]):
        other = "price" if given == ["quantity"] else "quantity"
        problems.append(f"{other}: is required with {given[0]} (amount = quantity x price)")
    elif not given:
        problems.append("amount: is required (or quantity and price, for line items: amount = quantity x price)")
    if "date_format" in found and "%" not in found["date_format"]:
        problems.append(f"date_format: {shorten(found['date_format'])} has no % directive; "
                        "write it in strptime syntax, e.g. '%Y%m%d'")
    columns = [found[key] for key in ("customer", "date", "amount", "quantity", "price", "order") if key in found]
    repeated = sorted({name for name in columns if columns.count(name) > 1})
    if repeated:
        problems.append(f"{shorten(repeated[0])} is named for two roles; customer, date, amount (or quantity and "
                        "price) and order are different columns")
    if problems:
        raise Invalid(*problems)
    return Transactions(**found)


def _read(value: object) -> Read:
    if not isinstance(value, dict):
        raise Invalid(f"must map {', '.join(READ_KEYS)} to values, got {_kind(value)} {shorten(value)}")
    found, problems = _entries(value, READ_KEYS, _read_option)
    if "decimal" in found and found["decimal"] == found.get("thousands"):
        problems.append(f"decimal and thousands are both {found['decimal']!r}; a number needs two different marks")
    if problems:
        raise Invalid(*problems)
    return Read(**found)


def _read_option(key: str, value: object) -> str:
    if not isinstance(value, str):
        raise Invalid(f"must be text, got {_kind(value)} {shorten(value)} (put it in quotes)")
    if key == "delimiter":
        if len(value) != 1 or value.isalnum() or value in "\"\r\n.":
            raise Invalid(f"must be one character such as ',', ';', '|' or \"\\t\" (a tab), got {shorten(value)}")
        return value
    if key == "decimal":
        if value not in DECIMAL_MARKS:
            raise Invalid(f"must be '.' or ',', got {shorten(value)}")
        return value
    if key == "thousands":
        if value not in THOUSANDS:
            raise Invalid(f"must be one of {', '.join(map(repr, THOUSANDS))}, got {shorten(value)}")
        return value
    if key == "encoding":
        try:
            return codecs.lookup(value.strip()).name
        except LookupError:
            raise Invalid(f"{shorten(value)} is not an encoding Python knows (e.g. utf-8, cp1252, utf-16, "
                          "latin-1)") from None
    return _text(value)


@dataclass(frozen=True)
class Option:
    """One configuration key as the reference page shows it: its checker, its default as shown to
    people, and its meaning."""

    key: str
    check: Callable[[object], object]
    default: str
    doc: str


def schema(check: Callable[[object], object], shown: str, doc: str) -> dict[str, object]:
    """The metadata of a configuration key's field: see `Option`."""
    return {"check": check, "shown": shown, "doc": doc}


@dataclass(frozen=True)
class DatasetConfig:
    """One validated dataset configuration. Each key's field carries its checker, its default as
    people read it and its meaning (`schema`): `OPTIONS` and the reference page are read off them."""

    id: str
    path: str  # the config file, relative to the project root, for messages
    title: str = field(metadata=schema(_text, "required",
        "Report title, plain text on one line."))
    features: tuple[str, ...] = field(metadata=schema(_features, "required",
        "The numeric columns to cluster on, at least two."))
    description: str | None = field(default=None, metadata=schema(_paragraph, "none",
        "A paragraph of Markdown written by the site author, shown under the title."))
    credit: str | None = field(default=None, metadata=schema(_paragraph, "none",
        "Where the data comes from and its licence, in Markdown; shown on the report."))
    source: str | None = field(default=None, metadata=schema(_source, "one of `source` / `data` required",
        "The table file, relative to the project root: `.csv`, `.tsv`, `.parquet`, "
        "`.xlsx` or `.json` (a list of records), or `.txt` or `.dat` for a text table whose "
        "columns are separated by tabs, or by runs of spaces (as older systems write them; a cell "
        "cannot then hold a space). See `read` for how the file is read. It must stay inside the project. With "
        "`engine: spark` it may also be any URI Spark reads (`s3a://...`, `hdfs://...`), "
        "`.csv`, `.tsv` or `.parquet`."))
    read: Read = field(default_factory=Read, metadata=schema(_read, "detected",
        "How to read the file of `source` (or of `transactions.source`), with pandas' names: "
        "`delimiter` (one character; `\"\\t\"` is a tab, `\" \"` runs of spaces and tabs), `decimal` "
        "(`.` or `,`), `thousands` (`,`, `.`, `' '`, `\"'\"` or `none`), `encoding` (`utf-8`, "
        "`cp1252`, `utf-16`, ...) and `sheet` (a workbook's sheet, by name). Each is detected when "
        "absent: the delimiter that splits every line alike, the decimal mark and thousands "
        "separator that every number of a column agrees on, UTF-8 (with or without BOM), UTF-16 "
        "with a BOM (Excel's \"Unicode text\"), else Windows-1252; a workbook is read from its one "
        "sheet that holds the configured columns. Columns without a name to the right of the "
        "table (notes, pivots) are left out. Where the file reads two ways (a column of `1.234` "
        "only), the build stops and names the key that settles it; the report says how the file "
        "was read."))
    data: Mapping[str, tuple[object, ...]] | None = field(default=None, metadata=schema(_data, "",
        "An inline table instead of `source`: a mapping of column name to a list of values."))
    id_column: str | None = field(default=None, metadata=schema(_column, "none",
        "The column that identifies a customer: carried into downloads, never clustered."))
    labels: Mapping[str, str] = field(default_factory=dict, metadata=schema(_labels, "column names",
        "Display labels for columns, e.g. `AnnualSpend: Annual Spending ($)`."))
    n_clusters: int | tuple[int, int] = field(default=DEFAULT_N_CLUSTERS, metadata=schema(
        _n_clusters, f"`[{DEFAULT_N_CLUSTERS[0]}, {DEFAULT_N_CLUSTERS[1]}]`",
        f"A whole number from 2 to {MAX_CLUSTERS} for a fixed number of segments, or "
        "`[min, max]` to evaluate every k in that inclusive range and recommend one."))
    scale: str = field(default="standard", metadata=schema(_choice(SCALES), "`standard`",
        "How features are scaled before clustering: `standard` (z-scores), `minmax`, "
        "`robust` (median and quartiles), `log` (`log1p` of each feature, which must then be "
        "0 or more, then z-scores: for heavily skewed spend and counts, so that a few big "
        "customers do not decide the segments) or `none`. Centres are always reported in the "
        "features' original units."))
    random_state: int = field(default=42, metadata=schema(_random_state, "`42`",
        "Seed for every random step."))
    n_init: int = field(default=10, metadata=schema(_n_init, "`10`",
        "K-Means restarts; the best of them is kept. Explicit, so results do not move "
        "with scikit-learn's default."))
    plot: tuple[str, str] | None = field(default=None, metadata=schema(
        _plot, "the two that separate the segments most",
        "The two features of the main scatterplot. By default, the two features whose "
        "between-segment share of variance (eta squared, on the scaled features) is "
        "largest; the caption says so. With more than two features the report adds a PCA "
        "map of all of them."))
    names: Mapping[int, str] = field(default_factory=dict, metadata=schema(_names, "generated",
        "Segment names by segment number (0, 1, ...), replacing the generated names."))
    missing: str = field(default="fail", metadata=schema(_choice(MISSING), "`fail`",
        "Rows whose features are blank or not numbers: `fail` stops the build and names "
        "the first such cells; `drop` leaves the rows out and reports how many. With "
        "`transactions`: log rows with a blank customer, date or amount (guest checkouts)."))
    publish_rows: bool = field(default=False, metadata=schema(_boolean, "`false`",
        "Publish row-level data with customer ids (`assignments.csv`, and `migration.csv` for a "
        "purchase log with snapshots). Safe by default: without `true`, no customer id and no "
        "customer's row appears anywhere in the site (pages, downloads, the single-file report, the "
        "search index); the report publishes summaries only, and `scorer.sql` and the calculator "
        "place one's own customers. Set `true` only where the readers may see every customer."))
    suppress_below: int = field(default=10, metadata=schema(_suppress_below, "`10`",
        "A segment with fewer customers than this keeps its number, name, size and share, but none "
        "of its statistics is published: its centre, percentiles, index, profile, the rule "
        "thresholds that isolate it, and its centre in the calculator and `scorer.sql` (which then "
        "place a customer at the nearest published centre). When the segments withheld hold fewer "
        "customers than this together, the smallest other segment is withheld as well, so that the "
        "overall average cannot give their centre away. A cell of a migration table of 1 to "
        "`suppress_below` - 1 customers reads \"< 10\" (with the threshold), not its count, and "
        "where a row or column would hold just one such cell, another cell reads \"withheld\" "
        "(the sizes at each date are the tables' totals). The threshold rule of statistical "
        "disclosure control: 10 is the UK Office for National Statistics' rule for research "
        "outputs. `0` publishes every statistic (made-up or already public data)."))
    publish_personal: bool = field(default=False, metadata=schema(_boolean, "`false`",
        "Publish an `id_column` that looks like personal data (e-mail addresses, phone numbers, "
        "names, postal addresses) in `assignments.csv`. By default such a column is left out "
        "of the download and the report says so."))
    engine: str = field(default="local", metadata=schema(_choice(ENGINES), "`local`",
        "`local` clusters with scikit-learn on this machine. `spark` reads, scales, clusters "
        "and summarises the data in Spark (MLlib K-Means) and brings back only summaries, a "
        "bounded sample for the charts and the rows when `publish_rows` is true; it needs Java "
        "and takes its Spark settings from `site_config/spark.yml` and the environment "
        "(`SPARK_MASTER`). See [big tables](#big-tables-and-spark). With `transactions`, Spark "
        "also derives the customers from the log (and each snapshot's), whose `source` may then "
        "be any URI Spark reads."))
    transactions: Transactions | None = field(default=None, metadata=schema(_transactions, "none",
        "Start from a purchase log instead of a customer table: a mapping of `source` (the log "
        "file, any format `source` reads), `customer` (the column naming the customer, kept as "
        "text, leading zeros included; a spreadsheet's `12923.0` is read as `12923`), `date` (ISO "
        "dates or datetimes, or any form given by `date_format` in strptime syntax, e.g. "
        "`\"%Y%m%d\"` or `\"%m/%d/%y %H:%M\"`; a datetime counts by its calendar date), `amount` "
        "(what the row spent; returns negative) or, for line items, `quantity` and `price` "
        "(amount = quantity x price), optionally `order` (rows sharing it are one order) and "
        "`returns` (`net`, the default: returns count against monetary; `exclude`: rows with a "
        "negative amount are left out first). An order (or, without `order`, a day) is a "
        "purchase when its net amount is above 0; a customer is someone with a purchase on or "
        "before `as_of`. `features` then picks among "
        "`recency` (days from the latest purchase to `as_of`: low is a recent customer), "
        "`frequency` (purchases), `monetary` (the sum of the amounts, summed exactly at the "
        "input's precision), `tenure` (days since the first purchase) and "
        "`average_order` (`monetary / frequency`). `source`, `data` and `id_column` are not used "
        "with it: the customer column is the id, and gets the same care as an `id_column` that "
        "looks like personal data. See [transaction logs](#transaction-logs-and-snapshots)."))
    as_of: datetime.date | None = field(default=None, metadata=schema(_date, "the latest purchase date",
        "With `transactions`: the date (YYYY-MM-DD) the customer features are computed at, "
        "inclusive. Customers whose first purchase is later are not customers yet."))
    snapshots: tuple[datetime.date, ...] = field(default=(), metadata=schema(_snapshots, "none",
        "With `transactions`: two or more ascending dates (the last is `as_of`, which may then "
        "be left out). Customers are segmented at every date with the k of the last one, "
        "segments keep their numbers across dates, and the report shows how customers move "
        "between them; `migration.csv` holds every customer's segment at each date."))
    min_segment_share: float = field(default=0.05, metadata=schema(_share, "`0.05`",
        "The smallest share of customers a recommended k's segments may hold, above 0 and at most "
        "0.5. See [how k is chosen](#how-k-is-chosen) for the trade-off."))

    def label(self, column: str) -> str:
        """The display label of a column: its `labels` entry, else its name."""
        return self.labels.get(column, column)

    def withholds(self, size: int) -> bool:
        """Whether a segment (or a migration cell) of `size` customers is too small to publish
        its statistics (`suppress_below`)."""
        return size < self.suppress_below

    def withheld(self, sizes: Iterable[int]) -> frozenset[int]:
        """The segments (by position in `sizes`, their numbers) whose statistics are withheld:
        those below `suppress_below`, and, when they hold fewer than that together, the smallest
        other segment too, since the overall average less the published centres would otherwise
        give away their pooled centre (secondary suppression)."""
        counts = [int(size) for size in sizes]
        small = {number for number, size in enumerate(counts) if self.withholds(size)}
        others = sorted((size, number) for number, size in enumerate(counts) if number not in small)
        if small and others and self.withholds(sum(counts[number] for number in small)):
            small.add(others[0][1])
        return frozenset(small)

    @property
    def customer_column(self) -> str | None:
        """The column that identifies a customer: `id_column`, or the log's customer column."""
        return self.transactions.customer if self.transactions is not None else self.id_column


OPTIONS: tuple[Option, ...] = tuple(
    Option(f.name, f.metadata["check"], f.metadata["shown"], f.metadata["doc"])
    for f in fields(DatasetConfig) if "check" in f.metadata
)
REQUIRED = tuple(f.name for f in fields(DatasetConfig) if "check" in f.metadata
                 and f.default is MISSING_VALUE and f.default_factory is MISSING_VALUE)


# --- YAML loading: safe, strict about the YAML 1.1 surprises --------------------------


class _StrictLoader(yaml.SafeLoader):
    """`yaml.SafeLoader` minus aliases and duplicate keys, with YAML 1.2-like scalars.

    YAML 1.1 reads `NO` as false and `010` as 8; here only `true`/`false` are booleans and
    only plain decimal digits are integers, so `NO` stays the text "NO" and `010` is text
    that fails its type check with a message.
    """

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event: Any = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed in dataset files", event.start_mark
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, list | dict):
                raise yaml.constructor.ConstructorError(
                    None, None, "a key must be plain text", key_node.start_mark
                )
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {shorten(key)}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _bool_or_text(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> bool | str:
    value = loader.construct_scalar(node)
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def _int_or_text(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int | str:
    value = loader.construct_scalar(node)
    if re.fullmatch(r"[-+]?(0|[1-9][0-9]*)", value):
        return int(value)
    return value


def _float_or_text(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> float | str:
    value = loader.construct_scalar(node)
    if "_" in value or ":" in value:  # YAML 1.1 reads 1_000.5 and 1:30.5 as numbers
        return value
    return float(loader.construct_yaml_float(node))


_StrictLoader.add_constructor("tag:yaml.org,2002:bool", _bool_or_text)
_StrictLoader.add_constructor("tag:yaml.org,2002:float", _float_or_text)
_StrictLoader.add_constructor("tag:yaml.org,2002:int", _int_or_text)


def _read_yaml(path: Path) -> object:
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise Invalid(f"is not valid UTF-8 (byte {error.start}); save it as UTF-8") from None
    if "\t" in text:
        line = text[: text.index("\t")].count("\n") + 1
        raise Invalid(f"line {line}: a tab character; YAML indents with spaces")
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}: " if mark else ""
        raise Invalid(f"{where}{error.problem or error.context}") from None
    except yaml.YAMLError as error:
        raise Invalid(f"not valid YAML: {shorten(str(error), 80)}") from None


# --- the whole file -------------------------------------------------------------------


def load_dataset(root: Path, path: Path) -> DatasetConfig:
    """Read and validate one dataset file; raise `UserError` listing all its problems."""
    shown = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
    problems: list[str] = []

    def problem(key: str, message: str) -> None:
        problems.append(f"{shown}: {key}: {message}")

    dataset_id = path.stem
    if not SLUG.match(dataset_id):
        problem("id", f"file name {shorten(dataset_id)} must be a slug: lower-case letters, "
                "digits and '-', starting with a letter or digit")
    try:
        raw = _read_yaml(path)
    except Invalid as error:
        raise UserError([*problems, f"{shown}: file: {error}"]) from None
    if raw is None:
        problem("file", "is empty; it needs at least title, features and source or data")
    elif not isinstance(raw, dict):
        problem("file", f"must be a mapping of keys to values, got {_kind(raw)}")
    if not isinstance(raw, dict):
        raise UserError(problems)

    known = {option.key: option for option in OPTIONS}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        option = known.get(key) if isinstance(key, str) else None
        if option is None:
            problem(str(key), f"unknown key{did_you_mean(str(key), tuple(known))}")
            continue
        try:
            values[key] = option.check(value)
        except Invalid as error:
            for message in error.args:
                problem(key, str(message))
    for key in REQUIRED:
        if key not in raw:
            problem(key, "is required")
    problems += [f"{shown}: {key}: {message}" for key, message in _cross_check(root, raw, values)]
    if problems:
        raise UserError(problems)
    return DatasetConfig(id=dataset_id, path=shown, **values)


def _cross_check(root: Path, raw: dict[Any, Any], values: dict[str, Any]) -> list[tuple[str, str]]:
    """Checks that involve several keys, run on the keys that passed their own check."""
    found: list[tuple[str, str]] = _purchase_checks(root, raw, values)
    if "source" in raw and "data" in raw:
        found.append(("data", "give either source or data, not both"))
    elif "source" not in raw and "data" not in raw and "transactions" not in raw:
        found.append(("source", "is required (or inline data)"))
    spark = values.get("engine") == "spark"
    if "source" in values and not (spark and is_uri(values["source"])):
        reason = _source_problem(root, values["source"])
        if reason:
            found.append(("source", reason))
    if spark and "data" in values:
        found.append(("data", "engine: spark reads a source file or URI; inline data is clustered by the local engine"))
    if spark and "source" in values and Path(values["source"]).suffix.lower() not in SPARK_SUFFIXES:
        found.append(("source", f"engine: spark reads {', '.join(SPARK_SUFFIXES)} files; use engine: local for "
                                f"{Path(values['source']).suffix}"))
    found += _read_checks(raw, values)
    features: tuple[str, ...] = values.get("features", ())
    id_column = values.get("id_column")
    if id_column is not None and id_column in features:
        found.append(("id_column", f"{shorten(id_column)} is also a feature; an id is never clustered"))
    for feature in values.get("plot", ()):
        if features and feature not in features:
            found.append(("plot", f"{shorten(feature)} is not one of the features{did_you_mean(feature, features)}"))
    n_clusters = values.get("n_clusters")
    top = max(n_clusters) if isinstance(n_clusters, tuple) else n_clusters or DEFAULT_N_CLUSTERS[1]
    for number in values.get("names", {}):
        if number >= top:
            found.append(("names", f"segment {number} does not exist: segments are numbered 0 to {top - 1}"))
    if "data" in values and features:
        columns = tuple(values["data"])
        for name in (*features, *([id_column] if id_column else [])):
            if name not in columns:
                found.append(("data", f"has no column {shorten(name)}{did_you_mean(name, columns)}"))
    return found


def _read_checks(raw: dict[Any, Any], values: dict[str, Any]) -> list[tuple[str, str]]:
    """`read:` against the file it reads: text options for delimited text, `sheet` for workbooks."""
    options: Read | None = values.get("read")
    if options is None:
        return []
    if "data" in raw:
        return [("read", "inline data is not read from a file; read: is for source")]
    if values.get("engine") == "spark":
        return [("read", "engine: spark reads files with Spark's own options; use engine: local")]
    log: Transactions | None = values.get("transactions")
    source = log.source if log is not None else values.get("source")
    if source is None:
        return []
    suffix = Path(source).suffix.lower()
    given = [key for key in READ_KEYS if getattr(options, key) is not None]
    found = [("read", f"{key}: is for workbooks (.xlsx); {shorten(source)} is not one") for key in given
             if key == "sheet" and suffix != ".xlsx"]
    found += [("read", f"{key}: is for delimited text ({', '.join(DELIMITED)}); {shorten(source)} is not")
              for key in given if key in ("delimiter", "encoding") and suffix not in DELIMITED]
    found += [("read", f"{key}: is for numbers written as text; {shorten(source)} holds numbers as numbers")
              for key in given if key in ("decimal", "thousands") and suffix == ".parquet"]
    return found


def _purchase_checks(root: Path, raw: dict[Any, Any], values: dict[str, Any]) -> list[tuple[str, str]]:
    """The checks of `transactions`, `as_of` and `snapshots`, alone and with the other keys."""
    found: list[tuple[str, str]] = []
    if "transactions" not in raw:
        found += [(key, "needs transactions: it dates a purchase log") for key in ("as_of", "snapshots") if key in raw]
        return found
    found += [(key, f"not used with transactions: {why}") for key, why in (
        ("source", "the log is transactions.source"), ("data", "the log is transactions.source"),
        ("id_column", "the customer column (transactions.customer) is the id")) if key in raw]
    spark = values.get("engine") == "spark"
    log: Transactions | None = values.get("transactions")
    if log is not None:
        reason = None if spark and is_uri(log.source) else _source_problem(root, log.source)
        if reason:
            found.append(("transactions", f"source: {reason}"))
        elif spark and Path(log.source).suffix.lower() not in SPARK_SUFFIXES:
            found.append(("transactions", f"source: engine: spark reads {', '.join(SPARK_SUFFIXES)} files; use "
                                          f"engine: local for {Path(log.source).suffix}"))
    for feature in values.get("features", ()):
        if feature not in DERIVED:
            found.append(("features", f"{shorten(feature)} is not derived from transactions; choose among "
                                      f"{', '.join(DERIVED)}{did_you_mean(feature, DERIVED)}"))
    as_of, snapshots = values.get("as_of"), values.get("snapshots")
    if as_of is not None and snapshots and snapshots[-1] != as_of:
        found.append(("snapshots", f"the last date {snapshots[-1].isoformat()} must be as_of "
                                   f"({as_of.isoformat()}), or leave as_of out"))
    elif snapshots and as_of is None:
        values["as_of"] = snapshots[-1]
    return found


def is_uri(source: str) -> bool:
    """Whether a source names a URI (`s3a://bucket/key`) rather than a path in the project."""
    return re.match(r"[A-Za-z][A-Za-z0-9+.-]+://", source) is not None


def _source_problem(root: Path, source: str) -> str | None:
    if is_uri(source):
        return f"{shorten(source)} is a URI: only engine: spark reads URIs; the local engine reads project files"
    relative = Path(source)
    if relative.is_absolute() or ".." in relative.parts:
        return f"{shorten(source)} must be a path inside the project, relative to its root"
    target = (root / relative).resolve()
    if not target.is_relative_to(root.resolve()):
        return f"{shorten(source)} leads outside the project (a link?)"
    if not target.is_file():
        return f"{shorten(source)} does not exist"
    return None


def spark_settings(root: Path) -> dict[str, str]:
    """Spark properties for `engine: spark`: `site_config/spark.yml`, then the environment.

    The file maps Spark property names to values (`spark.master: local[2]`); `SPARK_MASTER`
    in the environment overrides `spark.master`, so one site builds on a laptop and on a cluster.
    """
    path = root / SPARK_CONFIG
    shown = path.relative_to(root).as_posix()
    settings: dict[str, str] = {"spark.master": "local[*]"}
    if path.is_file():
        try:
            raw = _read_yaml(path)
        except Invalid as error:
            raise UserError(f"{shown}: {error}") from None
        if raw is not None and not isinstance(raw, dict):
            raise UserError(f"{shown}: must map Spark property names (spark.master, ...) to values")
        for key, value in (raw or {}).items():
            if not isinstance(key, str) or not key.startswith("spark."):
                raise UserError(f"{shown}: {str(key)[:60]}: not a Spark property (they start with 'spark.')")
            if isinstance(value, (dict, list)) or value is None:
                raise UserError(f"{shown}: {key}: must be one value, got {_kind(value)}")
            settings[key] = str(value).lower() if isinstance(value, bool) else str(value)
    if os.environ.get("SPARK_MASTER"):
        settings["spark.master"] = os.environ["SPARK_MASTER"]
    return settings


def source_digest(root: Path, config: DatasetConfig) -> str:
    """The sha256 of a dataset's source file, read in blocks; "inline" for data in the config."""
    if config.transactions is not None:  # the purchase log: a purchase appended is new data
        config = replace(config, source=config.transactions.source)
    if config.source is None:
        return "inline"
    if is_uri(config.source):
        return f"uri {config.source}"  # remote data: its bytes are Spark's to read
    digest = hashlib.sha256()
    try:
        with (root / config.source).open("rb") as handle:
            while block := handle.read(BLOCK):
                digest.update(block)
    except OSError:
        return "unreadable"  # loading the table will say what is wrong
    return digest.hexdigest()


def load_all(root: Path) -> list[DatasetConfig]:
    """Validate every dataset file under `root`; raise one `UserError` with every problem."""
    folder = root / CONFIG_DIR
    paths = sorted(folder.glob("*.yml")) + sorted(folder.glob("*.yaml"))
    configs: list[DatasetConfig] = []
    problems: list[str] = []
    stems: dict[str, Path] = {}
    for path in sorted(paths):
        if path.stem in stems:
            problems.append(f"{path.relative_to(root).as_posix()}: id: {path.stem!r} is also "
                            f"configured by {stems[path.stem].name}; each report needs its own id")
            continue
        stems[path.stem] = path
        try:
            configs.append(load_dataset(root, path))
        except UserError as error:
            problems += error.problems
    if problems:
        raise UserError(problems)
    return configs


def _kind(value: object) -> str:
    kinds = {bool: "true/false", int: "a number", float: "a number", str: "text",
             list: "a list", dict: "a mapping", type(None): "nothing"}
    return kinds.get(type(value), type(value).__name__)
