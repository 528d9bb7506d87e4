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

from generator.config import (
    CONFIG_DIR,
    DEFAULT_N_CLUSTERS,
    READ_KEYS,
    SLUG,
    SOURCE_SUFFIXES,
    DatasetConfig,
    Read,
    Transactions,
)
from generator.data import PLAIN, Marks, RawTable, Unsettled, number_marks, parse_numbers, read_file
from generator.errors import UserError
from generator.formats import count
from generator.logs import date_form, written_date_format
from generator.purchases import load_customers

MAX_CODES = 10  # at most this many distinct whole numbers make a column look like a code
# "id", "customer_id", "Customer ID", "CustomerID", "CustomerId", "client_no", "id_customer"
ID_NAME = re.compile(r"(?:^|[\W_])(?i:id|key|no|number)$|[a-z](?:ID|Id|Key|No|Number)$|^(?i:id)[\W_]")
AMOUNT_NAME = re.compile(r"(?i)amount|value|revenue|spend|spent|total|sales|sum|paid")
PRICE_NAME = re.compile(r"(?i)price|unit|rate")
QUANTITY_NAME = re.compile(r"(?i)quantity|qty|units|count|items|pieces")


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
        money = [log.transactions[key] for key in ("amount", "quantity", "price") if key in log.transactions]
        return _log_proposal(root, path, source, new_id, log, _settle(raw, money, marks, settled))
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
    """A purchase log as `init` reads it: the proposed `transactions:` block, and why."""

    transactions: dict[str, str]
    blank: int  # rows with no customer, date or amount: missing: drop then leaves them out
    reasons: tuple[str, ...]


def _purchase_log(frame: pd.DataFrame, marks: dict[str, Marks]) -> _Log | None:
    """The `transactions:` block of a table that is a purchase log, read by its structure, or None.

    A log has a date column, a column whose values repeat over rows (the customer: several rows
    each) and money. Names decide nothing here, except between an amount and a unit price when the
    values cannot. An order column groups rows so that each of its values falls within one customer
    and one date.
    """
    names = [str(name) for name in frame.columns]
    rows = len(frame)
    date, date_format, date_why = _date_column(frame, names)
    if date is None:
        return None
    keys = {name: _keys(frame[name]) for name in names}
    distinct = {name: int(np.count_nonzero(np.bincount(keys[name][keys[name] >= 0]))) for name in names}
    numbers = {name: parse_numbers(frame[name], marks.get(name, PLAIN)) for name in names if name != date}
    numeric = [name for name, (_, blank, wrong) in numbers.items() if not wrong.any() and not blank.all()]
    whole = {name for name in numeric if np.all(_values(numbers[name]) == np.round(_values(numbers[name])))}
    money = [name for name in numeric if name not in whole]
    repeated = [name for name in names if name != date and name not in money and 1 < distinct[name] < rows]
    day = _keys(frame[date], dates=True)  # a datetime's date
    orders = []
    for group in repeated:
        if not _determines(keys[group], day):
            continue
        owners = [name for name in repeated if name != group and distinct[name] < distinct[group]
                  and _determines(keys[group], keys[name])]
        if owners:  # ranked: one time per order, then its rows side by side, then the most values
            cells = keys[group][keys[group] >= 0]
            contiguous = int(np.count_nonzero(cells[1:] != cells[:-1])) + 1 == distinct[group]
            orders.append((_determines(keys[group], keys[date]), contiguous, distinct[group], group,
                           max(owners, key=lambda name: distinct[name])))
    order: str | None = None
    if orders:
        *_, order, customer = max(orders)
    else:
        spanning = [name for name in repeated if not _determines(keys[name], day)]
        if not spanning:
            return None
        customer = max(spanning, key=lambda name: distinct[name])
    used = {date, customer, order}
    quantities = sorted((name for name in whole if name not in used and distinct[name] < rows),
                        key=lambda name: (not QUANTITY_NAME.search(name), np.nanmax(np.abs(numbers[name][0]))))
    money = [name for name in money if name not in used]
    if not money:
        return None
    money.sort(key=lambda name: not AMOUNT_NAME.search(name))
    reasons = [f"{customer}: the customer: {count(rows)} rows but {count(distinct[customer])} distinct values"
               + (f", and each order of {order} belongs to one" if order else ", some on several dates")
               + ", so this is a purchase log, proposed as transactions:",
               f"{date}: the purchase date, never a feature: it gives recency and tenure; {date_why}"]
    block = {"customer": customer, "date": date}
    if date_format is not None:
        block["date_format"] = date_format
    if order is not None:
        block["order"] = order
        reasons.append(f"{order}: the order: {count(distinct[order])} values, each within one customer and one "
                       "date, so frequency counts orders")
    price = _price(money, quantities, numbers)
    if price is not None:
        quantity, why = price
        block |= {"quantity": quantity, "price": money[0]}
        reasons += [f"{quantity}: the quantity: whole numbers{', negative on returns' if why else ''}",
                    f"{money[0]}: the unit price: {why or 'it does not grow with the quantity'}, so a row's amount "
                    f"is {quantity} x {money[0]}"]
        roles: tuple[str, ...] = (quantity, money[0])
    else:
        block["amount"] = money[0]
        reasons.append(f"{money[0]}: the amount of each row (numbers with fractions: money): it gives monetary")
        roles = (money[0],)
    codes, distinct = pd.factorize(frame[customer])
    cells = pd.Series(distinct, dtype=object).map(_cell).str.strip()
    like = cells.str.fullmatch(r"\d+\.0+").to_numpy(dtype=bool)
    written = int(np.bincount(codes[codes >= 0], minlength=len(cells))[like].sum())
    if written:
        reasons.append(f"{customer}: {count(written)} ids are written like {cells[like].iloc[0]} "
                       f"(a spreadsheet export): they are read as the whole number")
    blank = (keys[customer] < 0) | (keys[date] < 0)
    for name in roles:
        blank |= numbers[name][1]
    guests = int((keys[customer] < 0).sum())
    if guests:
        reasons.append(f"{customer}: {count(guests)} rows have no customer (guest checkouts): missing: drop leaves "
                       "them out, and the report counts them")
    reasons += [f"{name}: left out (the features are derived from the log)" for name in names
                if name not in (date, customer, order, *roles)]
    return _Log(block, int(blank.sum()), tuple(reasons))


def _date_column(frame: pd.DataFrame, names: list[str]) -> tuple[str | None, str | None, str]:
    """The first column of dates, its date_format (None for ISO) and how its dates are written."""
    for name in names:
        form, _ = date_form(frame[name])
        if form == "iso":
            return name, None, "ISO dates"
        if form is not None:
            return name, form, "whole numbers that read as YYYYMMDD"
        written, why = written_date_format(frame[name])
        if written is not None:
            return name, written, why
    return None, None, ""


def _keys(column: pd.Series, *, dates: bool = False) -> np.ndarray:
    """Per cell a code to group by, -1 where blank: equal codes for equal text, trimmed, with a
    spreadsheet's `12923.0` read as `12923` as `purchases` reads a customer (with `dates`, a
    datetime's date). A log repeats its values: each distinct cell is cleaned once."""
    codes, distinct = pd.factorize(column, use_na_sentinel=False)
    text = pd.Series(distinct, dtype=object).map(_cell).str.strip().str.replace(r"^(\d+)\.0+$", r"\1", regex=True)
    if dates:
        text = text.str.split(r"[ T]", n=1, regex=True).str[0]
    again, _ = pd.factorize(text)
    return np.asarray(np.where(text.to_numpy() == "", -1, again)[codes])


def _cell(cell: object) -> str:
    """A cell as text; a missing cell is blank."""
    return "" if cell is None or cell is pd.NA or (isinstance(cell, float) and np.isnan(cell)) else str(cell)


def _values(parsed: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    numbers, blank, wrong = parsed
    return np.asarray(numbers[~blank & ~wrong])


def _determines(key: np.ndarray, other: np.ndarray) -> bool:
    """Whether each (non-blank) value of `key` goes with one value of `other`."""
    both = (key >= 0) & (other >= 0)
    key, other = key[both].astype(np.int64), other[both].astype(np.int64)
    return len(pd.unique(key * (int(other.max(initial=0)) + 1) + other)) == len(pd.unique(key))


def _price(money: list[str], quantities: list[str],
           numbers: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]) -> tuple[str, str] | None:
    """(quantity column, why) when the first money column is a unit price rather than an amount, else None.

    A unit price stays positive where the quantity is negative (a return); otherwise it does not
    grow with the quantity, as an amount does; a name that says amount or price settles it first.
    """
    if not quantities:
        return None
    quantity, price = numbers[quantities[0]][0], numbers[money[0]][0]
    both = np.isfinite(quantity) & np.isfinite(price)
    quantity, price = quantity[both], price[both]
    if (quantity < 0).any():
        if (price[quantity < 0] >= 0).all():
            return quantities[0], "it stays positive where the quantity is negative"
        return None
    if PRICE_NAME.search(money[0]):
        return quantities[0], ""
    if AMOUNT_NAME.search(money[0]) or len(quantity) < 3:
        return None
    ranks = pd.Series(quantity).rank().corr(pd.Series(price).rank())
    return (quantities[0], "") if not ranks > 0.5 else None


def _log_proposal(root: Path, path: Path, source: str, new_id: str, log: _Log, read: Settled) -> Proposal:
    transactions = {"source": source} | log.transactions
    reasons = list(log.reasons) + _read_reasons(read)
    settings: dict[str, object] = {"title": path.stem.replace("_", " ").replace("-", " ").capitalize(),
                                   "transactions": transactions}
    if read:
        settings["read"] = {key: value for key, (value, _) in read.items()}
    if log.blank:
        settings["missing"] = "drop"
    settings["features"] = ["recency", "frequency", "monetary"]
    settings["scale"] = _log_scale(root, new_id, settings, reasons)
    settings["n_clusters"] = list(DEFAULT_N_CLUSTERS)
    header = (f"# Proposed by `python -m generator init {source}`: a purchase log; see the configuration "
              "reference (transactions, as_of, snapshots).\n")
    text = header + yaml.safe_dump(settings, sort_keys=False, allow_unicode=True, default_flow_style=None)
    return Proposal(new_id, text, tuple(reasons))


def _log_scale(root: Path, new_id: str, settings: dict[str, object], reasons: list[str]) -> str:
    """`log` for skewed spend and counts, unless a customer's returns exceed their purchases: then `standard`.

    The customers are derived as the build will derive them, so the proposal builds as written.
    """
    block, read = settings["transactions"], settings.get("read", {})
    assert isinstance(block, dict)
    assert isinstance(read, dict)
    config = DatasetConfig(id=new_id, path=(CONFIG_DIR / f"{new_id}.yml").as_posix(), title=str(settings["title"]),
                           features=("monetary",), transactions=Transactions(**block),
                           missing=str(settings.get("missing", "fail")), read=Read(**read))
    monetary = load_customers(root, config).table.features["monetary"]
    negative = int((monetary < 0).sum())
    if negative:
        reasons.append(f"scale: standard, as {count(negative)} customer(s) returned more than they bought "
                       "(monetary below 0), which scale: log refuses; with transactions.returns: exclude, log would do")
        return "standard"
    reasons.append("scale: log, as spend and purchase counts are skewed (a few big customers)")
    return "log"


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
