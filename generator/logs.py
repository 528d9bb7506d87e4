"""Purchase logs told apart from customer tables: ids that repeat, and columns that hold dates (ISO text
such as 1998-06-30, or whole numbers that read as YYYYMMDD such as 19980630).

A date is never a feature, and a customer table has one row per customer: a table that breaks either
rule is most likely a purchase log, which belongs under `transactions:` (DESIGN.md). `data` guards
every customer table with `check_customers`; `init` (`starter`) tells a log by `date_form`.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa

from generator.config import DatasetConfig
from generator.errors import UserError, shorten
from generator.formats import count

ISO_DATE = re.compile(r"\s*\d{4}-\d{2}-\d{2}(?:[T ][0-9:.]+)?\s*")
PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
WRITTEN_NUMBER = re.compile(r"[+-]?\d{1,3}(?:[.,' \u00a0\u202f]\d{3})*,\d*|[+-]?\d{1,3}(?:[,' \u00a0\u202f.]\d{3})+")
PEEK = 1000  # cells looked at before a whole column is


def check_customers(config: DatasetConfig, origin: str, ids: tuple[str, ...] | None,
                    features: dict[str, pd.Series]) -> None:
    """A customer table must have one row per customer and quantities, not dates, as features.

    A purchase log (ids that repeat, a date column) belongs under `transactions:`.
    """
    if ids is not None and config.id_column is not None:
        distinct = len(set(ids))
        if distinct < len(ids):
            raise UserError(f"{origin}: column {config.id_column!r} (id_column) repeats: {count(len(ids))} rows but "
                            f"{count(distinct)} distinct ids. A customer table has one row per customer; for a "
                            "purchase log (many rows per customer) use transactions: instead of source")
    for name, column in features.items():
        form, example = date_form(column)
        if form == "iso":
            raise UserError(f"{origin}: column {name!r} holds dates ({shorten(example)}), not "
                            f"quantities; a date is not a feature: remove it from features (a purchase log's "
                            f"dates give recency and tenure under transactions:)")
        if form is not None:
            raise UserError(f"{origin}: column {name!r} holds whole numbers that read as dates YYYYMMDD (such as "
                            f"{example}), not quantities; a date is not a feature: remove it from features "
                            "(a purchase log's dates give recency and tenure under transactions:)")


def date_form(column: pd.Series) -> tuple[str | None, str]:
    """Whether a column holds dates: "iso" (text such as 1998-06-30), "%Y%m%d" (whole numbers such as
    19980630) or None; and its first such cell."""
    cells = column.dropna()
    if _temporal(cells.dtype):  # Parquet's DATE and TIMESTAMP (with a time zone too): dates, as ISO text is
        return ("iso", str(cells.iloc[0])) if len(cells) else (None, "")
    if pd.api.types.is_numeric_dtype(cells.dtype) and not pd.api.types.is_bool_dtype(cells.dtype):
        numbers = cells.to_numpy(dtype=float)
    elif any(_not_a_date(str(cell)) for cell in cells.iloc[:PEEK]):
        return None, ""  # told at once, without reading the rest of a big column
    else:
        text = cells.map(str)
        text = text[text.str.strip() != ""]
        if len(text) and text.str.fullmatch(ISO_DATE.pattern).all():
            return "iso", text.iloc[0].strip()
        numbers = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
        numbers = numbers[np.isfinite(numbers)]
    if _yyyymmdd(numbers):
        return "%Y%m%d", str(int(numbers[0]))
    return None, ""


def _temporal(dtype: object) -> bool:
    """Whether a column's type is a date or a datetime (numpy's or pyarrow's)."""
    if isinstance(dtype, pd.ArrowDtype):
        return bool(pa.types.is_date(dtype.pyarrow_dtype) or pa.types.is_timestamp(dtype.pyarrow_dtype))
    return bool(pd.api.types.is_datetime64_any_dtype(dtype))


def _not_a_date(cell: str) -> bool:
    """Whether a cell rules out both forms: a number that is not a whole YYYYMMDD (so the cell is
    neither an ISO date, nor a number that a column of YYYYMMDD dates holds)."""
    if WRITTEN_NUMBER.fullmatch(cell.strip()):
        return True  # a decimal comma or thousands separators (2.135,97): no date is written so
    if not PLAIN_NUMBER.fullmatch(cell.strip()):
        return False  # other text: the full check decides
    value = float(cell)
    return not (value.is_integer() and 19000101 <= value <= 21001231)


def _yyyymmdd(numbers: np.ndarray) -> bool:
    """Whether every value (at least two distinct) is a whole number that reads as a date YYYYMMDD."""
    if len(numbers) < 2 or numbers.min() < 19000101 or numbers.max() > 21001231 or numbers.min() == numbers.max():
        return False
    if not (numbers == np.floor(numbers)).all():
        return False
    whole = numbers.astype(np.int64)
    month, day = whole // 100 % 100, whole % 100
    return bool(((month >= 1) & (month <= 12) & (day >= 1) & (day <= 31)).all())


# Dates written day and month first, as spreadsheets export them: `1/12/2010 8:26`, `12/31/10`, `31.12.2010`.
WRITTEN_DATE = re.compile(r"(\d{1,2})([/.-])(\d{1,2})[/.-](\d{4}|\d{2})(?: (\d{1,2}):(\d{2})(:\d{2})?)?")


def written_date_format(column: pd.Series) -> tuple[str | None, str]:
    """The strptime format of a column of dates written day and month first, or None; and why.

    Month-first or day-first is decided by the values above 12; when none tells, day-first is
    chosen and the reason says so (and how to write month-first).
    """
    cells = pd.Series(pd.unique(column.dropna().astype(str).str.strip()), dtype=object)
    cells = cells[cells != ""]
    if cells.empty:
        return None, ""
    parts = cells.str.fullmatch(WRITTEN_DATE.pattern)
    if not parts.all():
        return None, ""
    found = cells.str.extract(WRITTEN_DATE.pattern)
    separators, years = found[1].unique(), found[3].str.len().unique()
    times, seconds = found[4].notna(), found[6].notna()
    if len(separators) > 1 or len(years) > 1 or times.any() != times.all() or seconds.any() != seconds.all():
        return None, ""
    first, second = found[0].astype(int), found[2].astype(int)
    month_first, day_first = bool((second > 12).any()), bool((first > 12).any())
    if (month_first and day_first) or max(first.max(), second.max()) > 31:
        return None, ""
    sep = str(separators[0])
    year = "%Y" if years[0] == 4 else "%y"
    clock = (" %H:%M" + (":%S" if seconds.all() else "")) if times.all() else ""
    if month_first:
        example = cells[second > 12].iloc[0]
        return f"%m{sep}%d{sep}{year}{clock}", f"written month-first: in {example} only a day can be above 12"
    form = f"%d{sep}%m{sep}{year}{clock}"
    if day_first:
        example = cells[first > 12].iloc[0]
        return form, f"written day-first: in {example} only a day can be above 12"
    return form, (f"read day-first, though no value above 12 tells day from month (as in {cells.iloc[0]}): for "
                  f"month-first dates write date_format: '%m{sep}%d{sep}{year}{clock}'")
