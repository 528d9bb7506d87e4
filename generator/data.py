"""Tables: load a dataset's rows, parse its features as numbers, report what was dropped.

Every cell is untrusted text until it parses as a finite number. Problems name the file,
the column and the line (CSV, TSV) or row (other formats) of the first offending cells.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from generator.config import DatasetConfig
from generator.errors import UserError, did_you_mean, shorten

# A plain decimal number: no thousands separators, currency, percent, `_` or `inf`.
NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
MISSING_TOKENS = ("", "na", "n/a", "nan", "null", "none")
LARGEST = 1e100  # beyond this, squared distances lose all precision or overflow
# Column names that say a column identifies a person; values that look like contact details.
PERSONAL_NAME = re.compile(
    r"e-?mail|phone|mobile|telephone|\bfax\b|(first|last|full|sur|given|family|customer|client)[ _-]?name"
    r"|^name$|address|street|post(al)?[ _-]?code|\bzip\b|birth|passport|\bssn\b|national[ _-]?id",
    re.IGNORECASE,
)
PERSONAL_VALUE = {
    "e-mail addresses": re.compile(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", re.IGNORECASE),
    "phone numbers": re.compile(r"\+?[\d\s().-]{7,}"),
}
SHOWN_CELLS = 3  # offending cells quoted in one error line
FAST_FROM = 1 << 20  # bytes: bigger CSV, TSV and Parquet files try the fast reader first
CHUNK = 1 << 24  # bytes hashed and checked at a time
ARROW_BLOCK = 1 << 24  # bytes pyarrow parses at a time
# dtypes pandas gives a Parquet column whose values `_as_text` and `parse_numbers` take as they are
PLAIN_DTYPE = re.compile(r"u?int(8|16|32|64)|U?Int(8|16|32|64)|[fF]loat(32|64)|str|string|object")


@dataclass(frozen=True)
class Table:
    """The rows a dataset clusters on: features as floats, ids as text, and the accounting."""

    features: pd.DataFrame  # one float column per configured feature, rows in file order
    ids: tuple[str, ...] | None
    rows_read: int
    dropped: dict[str, int]  # reason -> number of rows
    sha256: str
    origin: str  # where the rows came from, for people
    notes: tuple[str, ...] = field(default=())  # things a reader should know about the data
    personal: str | None = None  # why the id column looks like personal data, if it does

    @property
    def rows_used(self) -> int:
        return len(self.features)


@dataclass(frozen=True)
class RawTable:
    frame: pd.DataFrame  # cells as read, columns by name
    places: list[str]  # "line 7" / "row 7" for each row, for messages
    digest: str
    origin: str


def load_table(root: Path, config: DatasetConfig) -> Table:
    """Read the configured table and turn its feature columns into finite floats.

    A big file is first read by `fast_table`; when it declines, the reader below (the reference,
    which makes every error message) reads the file again.
    """
    if config.source is not None and _size(root / config.source) > FAST_FROM:
        fast = fast_table(root, config)
        if fast is not None:
            check_customers(config, fast.origin, fast.ids, dict(fast.features.items()))
            return fast
    raw = _read_inline(config) if config.data is not None else _read_source(root, config)
    origin = raw.origin
    _check_columns(raw, config)
    check_customers(config, origin, _id_cells(raw, config), {f: raw.frame[f] for f in config.features})

    values: dict[str, np.ndarray] = {}
    missing = np.zeros(len(raw.frame), dtype=bool)
    bad = np.zeros(len(raw.frame), dtype=bool)
    examples: list[str] = []
    for feature in config.features:
        numbers, blank, wrong = parse_numbers(raw.frame[feature])
        values[feature] = numbers
        missing |= blank
        bad |= wrong
        for index in np.flatnonzero(blank | wrong)[:SHOWN_CELLS]:
            cell = raw.frame[feature].iloc[index]
            what = "is missing" if blank[index] else "is not a number"
            examples.append(f"column {feature!r}, {raw.places[index]}: {shorten(cell, 24)} {what}")

    unusable = missing | bad
    dropped: dict[str, int] = {}
    if unusable.any():
        if config.missing == "fail":
            count = int(unusable.sum())
            raise UserError(
                f"{origin}: {count} row(s) with missing or non-numeric features; first: "
                f"{'; '.join(examples[:SHOWN_CELLS])} (fix the data or set missing: drop)"
            )
        if missing.any():
            dropped["blank or missing feature values"] = int(missing.sum())
        if (bad & ~missing).any():
            dropped["feature values that are not numbers"] = int((bad & ~missing).sum())

    keep = ~unusable
    if not keep.any():
        raise UserError(f"{origin}: no row has a number in every feature column")
    features = pd.DataFrame({name: column[keep] for name, column in values.items()})
    ids = None
    if config.id_column is not None:
        ids = tuple(_as_text(cell) for cell in raw.frame[config.id_column][keep])
    return _table(features, ids, len(raw.frame), dropped, raw.digest, origin, config)


ISO_DATE = re.compile(r"\s*\d{4}-\d{2}-\d{2}(?:[T ][0-9:.]+)?\s*")


def check_customers(config: DatasetConfig, origin: str, ids: tuple[str, ...] | None,
                    features: dict[str, pd.Series]) -> None:
    """A customer table must have one row per customer and quantities, not dates, as features.

    A purchase log (ids that repeat, a date column) belongs under `transactions:`.
    """
    if ids is not None and config.id_column is not None:
        distinct = len(set(ids))
        if distinct < len(ids):
            raise UserError(f"{origin}: column {config.id_column!r} (id_column) repeats: {len(ids):,} rows but "
                            f"{distinct:,} distinct ids. A customer table has one row per customer; for a "
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
    if pd.api.types.is_numeric_dtype(cells.dtype) and not pd.api.types.is_bool_dtype(cells.dtype):
        numbers = cells.to_numpy(dtype=float)
    else:
        text = cells.map(str)
        text = text[text.str.strip() != ""]
        if len(text) and text.str.fullmatch(ISO_DATE.pattern).all():
            return "iso", text.iloc[0].strip()
        numbers, blank, wrong = parse_numbers(cells)
        numbers = numbers[~blank & ~wrong]
    if _yyyymmdd(numbers):
        return "%Y%m%d", str(int(numbers[0]))
    return None, ""


def _yyyymmdd(numbers: np.ndarray) -> bool:
    """Whether every value (at least two distinct) is a whole number that reads as a date YYYYMMDD."""
    if len(numbers) < 2 or numbers.min() < 19000101 or numbers.max() > 21001231 or numbers.min() == numbers.max():
        return False
    if not (numbers == np.floor(numbers)).all():
        return False
    whole = numbers.astype(np.int64)
    month, day = whole // 100 % 100, whole % 100
    return bool(((month >= 1) & (month <= 12) & (day >= 1) & (day <= 31)).all())


def _id_cells(raw: RawTable, config: DatasetConfig) -> tuple[str, ...] | None:
    return None if config.id_column is None else tuple(_as_text(c) for c in raw.frame[config.id_column])


def _table(features: pd.DataFrame, ids: tuple[str, ...] | None, rows_read: int, dropped: dict[str, int],
           digest: str, origin: str, config: DatasetConfig) -> Table:
    """A Table with the notes on its features and the reason its ids look personal, if they do."""
    return Table(features=features, ids=ids, rows_read=rows_read, dropped=dropped, sha256=digest, origin=origin,
                 notes=_notes(features, config),
                 personal=personal_data(config.id_column, ids) if config.id_column and ids else None)


def personal_data(name: str, cells: tuple[str, ...]) -> str | None:
    """Why a column looks like personal data (its name, or most of its values), or None."""
    if PERSONAL_NAME.search(name):
        return f"its name {name!r} suggests personal data"
    sample = cells[:1000]
    for what, pattern in PERSONAL_VALUE.items():
        if sum(1 for cell in sample if pattern.fullmatch(cell.strip())) > len(sample) / 2:
            if what == "phone numbers" and all(re.fullmatch(NUMBER, cell.strip()) for cell in sample):
                continue  # plain numbers are customer numbers, not phone numbers
            return f"most of its values look like {what}"
    return None


# --- reading ----------------------------------------------------------------------------


def _read_inline(config: DatasetConfig) -> RawTable:
    assert config.data is not None
    canonical = json.dumps({k: list(v) for k, v in config.data.items()}, sort_keys=True)
    frame = pd.DataFrame({name: pd.Series(cells, dtype=object) for name, cells in config.data.items()})
    places = [f"row {i}" for i in range(1, len(frame) + 1)]
    return RawTable(frame, places, hashlib.sha256(canonical.encode()).hexdigest(),
                f"{config.path}: data")


def _read_source(root: Path, config: DatasetConfig) -> RawTable:
    assert config.source is not None
    return read_file(root, config.source)


def read_file(root: Path, source: str) -> RawTable:
    """Read a table file's cells as they are, with the place of every row for messages."""
    path = root / source
    shown = source
    payload = path.read_bytes()
    digest = hashlib.sha256(payload).hexdigest()
    suffix = path.suffix.lower()
    if not payload.strip():
        raise UserError(f"{shown}: the file is empty")
    if suffix in (".csv", ".tsv"):
        frame, places = _read_delimited(payload, shown, "\t" if suffix == ".tsv" else ",")
    else:
        frame = _read_binary(payload, shown, suffix)
        first = 2 if suffix == ".xlsx" else 1  # a sheet's row 1 is its header
        places = [f"row {i}" for i in range(first, len(frame) + first)]
    if frame.empty:
        raise UserError(f"{shown}: has a header but no rows")
    return RawTable(frame, places, digest, shown)


def _read_delimited(payload: bytes, shown: str, delimiter: str) -> tuple[pd.DataFrame, list[str]]:
    try:
        text = payload.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = payload[: error.start].count(b"\n") + 1
        raise UserError(
            f"{shown}: line {line}: byte 0x{payload[error.start]:02x} is not UTF-8; "
            "save the file as UTF-8 (CSV UTF-8 in spreadsheet programs)"
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records: list[list[str]] = []
    lines: list[int] = []
    try:
        for record in reader:
            if any(cell.strip() for cell in record):
                records.append(record)
                lines.append(reader.line_num)
    except csv.Error as error:
        raise UserError(f"{shown}: line {reader.line_num}: {error}") from None
    if not records:
        raise UserError(f"{shown}: the file is empty")
    header, body = [name.strip() for name in records[0]], records[1:]
    _check_delimiter(header, shown, delimiter)
    width = len(header)
    # Spreadsheet exports pad rows with empty trailing cells; anything else is ragged.
    while width and not header[width - 1] and all(len(r) < width or not r[width - 1].strip() for r in body):
        width -= 1
    columns: list[list[str]] = [[] for _ in range(width)]
    for record, line in zip(body, lines[1:], strict=True):
        if len(record) < width or any(cell.strip() for cell in record[width:]):
            raise UserError(
                f"{shown}: line {line} has {_count_cells(record)} cell(s) but the header names "
                f"{width} column(s); rows must line up with the header"
            )
        for column, cell in zip(columns, record, strict=False):
            column.append(cell)
    names = header[:width]
    _check_header(names, shown)
    frame = pd.DataFrame({name: pd.Series(cells, dtype=object) for name, cells in zip(names, columns, strict=True)})
    return frame, [f"line {line}" for line in lines[1:]]


def _check_delimiter(header: list[str], shown: str, delimiter: str) -> None:
    """A header read as one column that holds another separator: say which one it seems to be."""
    named = [name for name in header if name]
    if len(named) != 1:
        return
    for other in (";", "\t", "|", ","):
        if other != delimiter and other in named[0]:
            expected = "tab" if delimiter == "\t" else repr(delimiter)
            found = "tab" if other == "\t" else repr(other)
            raise UserError(f"{shown}: the header is one column {shorten(named[0])}; the file seems separated "
                            f"by {found}, but a {Path(shown).suffix} file is read as separated by {expected}")


def _count_cells(record: list[str]) -> int:
    while record and not record[-1].strip():
        record = record[:-1]
    return len(record)


def _check_header(names: list[str], shown: str) -> None:
    for position, name in enumerate(names, start=1):
        if not name:
            raise UserError(f"{shown}: column {position} has no name in the header")
        if names.index(name) != position - 1:
            raise UserError(f"{shown}: column name {shorten(name)} appears twice in the header")


def _read_binary(payload: bytes, shown: str, suffix: str) -> pd.DataFrame:
    try:
        if suffix == ".parquet":
            return pd.read_parquet(io.BytesIO(payload))
        if suffix == ".xlsx":
            # header=None: pandas would rename duplicate and blank headers ("x.1", "Unnamed: 1").
            sheets = pd.read_excel(io.BytesIO(payload), sheet_name=None, dtype=object, header=None)
            if len(sheets) != 1:
                raise UserError(f"{shown}: has {len(sheets)} sheets ({', '.join(map(repr, sheets))}); "
                                "keep the table alone in one sheet")
            _check_formulas(payload, shown)
            cells = next(iter(sheets.values()))
            if cells.empty:
                raise UserError(f"{shown}: the sheet is empty")
            names = ["" if pd.isna(name) else _as_text(name).strip() for name in cells.iloc[0]]
            _check_header(names, shown)
            body = cells.iloc[1:].reset_index(drop=True)
            body.columns = pd.Index(names)
            return body
        records = json.loads(payload.decode("utf-8-sig"))
    except UserError:
        raise
    except (ValueError, OSError, ImportError) as error:  # the readers' own parse errors
        raise UserError(f"{shown}: cannot be read as {suffix[1:]}: {shorten(str(error), 80)}") from None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise UserError(f"{shown}: must be a JSON list of records ({{column: value}} objects)")
    if not records:
        raise UserError(f"{shown}: the list of records is empty")
    return pd.DataFrame.from_records(records).astype(object)


def _check_formulas(payload: bytes, shown: str) -> None:
    """A workbook written by a program that does not calculate holds formulas without results."""
    from openpyxl import load_workbook  # only for workbooks: a cached rebuild never loads it

    formulas = load_workbook(io.BytesIO(payload), read_only=True, data_only=False)
    results = load_workbook(io.BytesIO(payload), read_only=True, data_only=True)
    try:
        for sheet, computed in zip(formulas.worksheets, results.worksheets, strict=True):
            for row, values in zip(sheet.iter_rows(), computed.iter_rows(), strict=False):
                for cell, value in zip(row, values, strict=False):
                    if isinstance(cell.value, str) and cell.value.startswith("=") and value.value is None:
                        raise UserError(
                            f"{shown}: cell {cell.coordinate} holds the formula {shorten(cell.value, 30)} without "
                            "a saved result; open the workbook in a spreadsheet program and save it again"
                        )
    finally:
        formulas.close()
        results.close()


def _check_columns(raw: RawTable, config: DatasetConfig) -> None:
    columns = [str(name) for name in raw.frame.columns]
    for feature in config.features:
        if PERSONAL_NAME.search(feature) and feature in columns:
            raise UserError(f"{config.path}: features: {feature!r} looks like personal data (a contact "
                            "detail or identifier), not a quantity to cluster on; remove it from features")
    wanted = [*config.features, *([config.id_column] if config.id_column else [])]
    absent = [name for name in wanted if name not in columns]
    if not absent:
        return
    hint = did_you_mean(absent[0], columns)
    if len(columns) == 1 and any(sep in columns[0] for sep in ";|\t"):
        hint += f"; the header is one column {shorten(columns[0])}: is the file separated by another character?"
    raise UserError(f"{raw.origin}: no column {absent[0]!r}{hint}; the columns are: "
                    f"{shorten(', '.join(columns), 100)} ({config.path} names it)")


# --- the fast reader -------------------------------------------------------------------
#
# pyarrow reads big files many times faster, in a fraction of the memory, but it is laxer than the
# reader above: it takes "inf" and "nan" as numbers, reads '"a"b' as 'ab', has no field limit and
# skips a corrupt column it is not asked for. So it only ever reads a file the reader above would
# read without a problem, to the same values, and declines (returns None) on anything else.


def fast_table(root: Path, config: DatasetConfig) -> Table | None:
    """The table `load_table` makes of a CSV, TSV or Parquet source, read by pyarrow; None to decline.

    Declines unless every feature cell is a finite number within LARGEST that the slow reader
    parses to the same float, so nothing is ever missing, dropped or wrong; the slow reader then
    reads the file and says what the matter is.
    """
    assert config.source is not None
    path = root / config.source
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".tsv", ".parquet") or any(PERSONAL_NAME.search(name) for name in config.features):
        return None  # the slow reader refuses a feature named like personal data
    try:
        if suffix == ".parquet":
            read = _arrow_parquet(path, config)
        else:
            read = _arrow_delimited(path, config, "\t" if suffix == ".tsv" else ",")
        if read is None or not read[1]:
            return None
        column, rows, digest = read
        ids = None if config.id_column is None else _texts(column(config.id_column))
        # Parquet holds numbers, not text the slow reader could parse to a zero of another sign
        block = _float_block(column, config.features, rows, signed_zero=suffix == ".parquet")
    except (pa.ArrowException, OSError):  # a file pyarrow cannot read as asked: ragged, corrupt, ...
        return None
    if block is None or (config.id_column is not None and ids is None):
        return None
    features = pd.DataFrame(block.T, columns=list(config.features), copy=False)
    return _table(features, ids, rows, {}, digest, config.source, config)


def _size(path: Path) -> int:
    """The size of a file in bytes, 0 if there is none."""
    return path.stat().st_size if path.is_file() else 0


# What a fast reader hands over: each column by name, once; the number of rows; the file's sha256.
Read = tuple[Callable[[str], pa.ChunkedArray], int, str]


def _arrow_delimited(path: Path, config: DatasetConfig, delimiter: str) -> Read | None:
    """The configured columns of a CSV or TSV file, features as float64 and ids as text."""
    digest = _plain_digest(path, delimiter)
    if digest is None:
        return None
    parse = pcsv.ParseOptions(delimiter=delimiter)
    with pcsv.open_csv(path, parse_options=parse) as reader:
        header = reader.schema.names
    names = [name.strip() for name in header]  # as the slow reader names the columns
    wanted = [*config.features, *([config.id_column] if config.id_column else [])]
    if "" in names or len(set(names)) < len(names) or not set(wanted) <= set(names):
        return None
    raw = dict(zip(names, header, strict=True))
    types = {raw[name]: pa.float64() for name in config.features}
    if config.id_column is not None:
        types[raw[config.id_column]] = pa.string()
    convert = pcsv.ConvertOptions(column_types=types, include_columns=[raw[name] for name in wanted],
                                  null_values=[], strings_can_be_null=False, quoted_strings_can_be_null=False)
    table = pcsv.read_csv(path, read_options=pcsv.ReadOptions(block_size=ARROW_BLOCK), parse_options=parse,
                          convert_options=convert)
    columns = {name: table.column(raw[name]) for name in wanted}
    return columns.pop, table.num_rows, digest


def _plain_digest(path: Path, delimiter: str) -> str | None:
    """The file's sha256 if pyarrow splits it into the same cells as the csv module, else None.

    They agree on valid UTF-8 whose lines are within the csv module's field limit and whose every
    quote opens a field, closes one (before a separator, a line end or the end) or is doubled
    inside one, with no line break inside quotes. The file is read a chunk at a time.
    """
    limit = csv.field_size_limit()
    edges = np.array([ord(delimiter), ord("\n"), ord("\r"), ord('"'), -1], dtype=np.int16)
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = quotes = 0  # bytes and quotes before the chunk
    previous = last_break = -1  # the byte before the chunk (-1: the start of the text), the last "\n"
    with path.open("rb") as file:
        bom = file.read(len(codecs.BOM_UTF8))
        if bom == codecs.BOM_UTF8:  # the text starts after it
            digest.update(bom)
            offset = len(bom)
        else:
            file.seek(0)
        while chunk := file.read(CHUNK + 1):
            after = chunk[CHUNK] if len(chunk) > CHUNK else -1  # the byte after this chunk, -1 at the end
            if after >= 0:
                file.seek(-1, io.SEEK_CUR)
            view = memoryview(chunk)[:CHUNK]
            digest.update(view)
            if not (chunk.isascii() and not decoder.getstate()[0]):  # ASCII after whole characters is UTF-8
                try:
                    decoder.decode(view)
                except UnicodeDecodeError:
                    return None
            data = np.frombuffer(view, dtype=np.uint8)
            breaks = np.concatenate(([last_break], np.flatnonzero(data == ord("\n")) + offset))
            if np.diff(breaks).max(initial=0) > limit + 1:
                return None
            last_break = int(breaks[-1])
            found = np.flatnonzero(data == ord('"'))
            if (found.size or quotes % 2) and not _plain_quotes(data, found, quotes, previous, after, edges):
                return None
            quotes += found.size
            previous, offset = int(data[-1]), offset + data.size
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return None
    if quotes % 2 or offset - last_break - 1 > limit:
        return None
    return digest.hexdigest()


def _plain_quotes(data: np.ndarray, found: np.ndarray, before: int, previous: int, after: int,
                  edges: np.ndarray) -> bool:
    """Whether the quotes at `found` in a chunk open, close or double fields, with no line break inside.

    Counting quotes from the start tells inside from outside: the quote after an even number opens
    a field, the next closes it, unless a quote doubled inside follows (and reopens it).
    `before` counts the quotes ahead of the chunk, `previous` and `after` are the bytes around it.
    """
    last = data.size - 1
    prior = np.full(found.size, previous, dtype=np.int16)
    prior[found > 0] = data[found[found > 0] - 1]
    next_ = np.full(found.size, after, dtype=np.int16)
    next_[found < last] = data[found[found < last] + 1]
    opening = (np.arange(found.size) + before) % 2 == 0
    if not (np.isin(prior[opening], edges).all() and np.isin(next_[~opening], edges).all()):
        return False
    breaks = np.flatnonzero((data == ord("\n")) | (data == ord("\r")))
    return not ((np.searchsorted(found, breaks) + before) % 2).any()


def _arrow_parquet(path: Path, config: DatasetConfig) -> Read | None:
    """The configured columns of a Parquet file as stored, read one at a time."""
    wanted = [*config.features, *([config.id_column] if config.id_column else [])]
    file = pq.ParquetFile(path)
    schema = file.schema_arrow
    names = schema.names
    if len(set(names)) < len(names) or not set(wanted) <= set(names) or not _pandas_agrees(schema, wanted):
        return None
    others = [name for name in names if name not in wanted]
    if others and not _converts(file, others):
        return None
    return lambda name: file.read(columns=[name]).column(0), file.metadata.num_rows, _digest(path)


def _pandas_agrees(schema: pa.Schema, wanted: list[str]) -> bool:
    """Whether pandas, reading the Parquet file, names the wanted columns so and keeps their values."""
    if b"pandas" not in (schema.metadata or {}):
        return True
    try:
        meta = json.loads(schema.metadata[b"pandas"])
        levels = meta["column_indexes"]
        if len(levels) > 1 or any(level["pandas_type"] != "unicode" for level in levels):
            return False  # pandas would turn the names into numbers, dates or tuples
        if any(name in wanted for name in meta["index_columns"]):
            return False  # pandas would make the column the index
        described = {column["field_name"]: column for column in meta["columns"]}
        return all(name not in described or (described[name]["name"] == name
                                             and PLAIN_DTYPE.fullmatch(str(described[name]["numpy_type"])))
                   for name in wanted)
    except (ValueError, KeyError, TypeError):  # metadata pandas itself may not understand
        return False


def _converts(file: pq.ParquetFile, columns: list[str]) -> bool:
    """Whether the columns not used decode and convert to pandas, as the slow reader needs them to."""
    try:
        for batch in file.iter_batches(columns=columns):
            batch.to_pandas()
    except (pa.ArrowException, OSError, ValueError, TypeError, KeyError, OverflowError):  # the slow reader says
        return False
    return True


def _digest(path: Path) -> str:
    """The sha256 of a file, read a chunk at a time."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _float_block(column: Callable[[str], pa.ChunkedArray], names: tuple[str, ...], rows: int, *,
                 signed_zero: bool) -> np.ndarray | None:
    """The named columns, each finite and within LARGEST, as the rows of one float array; else None.

    The slow reader's frame holds its features as one such block, and so every computation on
    them stays the same to the bit. Each column is let go of once copied. `signed_zero`: keep
    -0.0 as it is; else decline it in a column of whole numbers, where the slow reader may have
    read the text "-0" as the integer 0 (a column with a fraction it reads as floats, -0.0 included).
    """
    block = np.empty((len(names), rows))
    for row, name in zip(block, names, strict=True):
        values = column(name)
        if values.null_count or len(values) != rows or not (
                pa.types.is_integer(values.type) or values.type in (pa.float32(), pa.float64())):
            return None
        np.concatenate([chunk.to_numpy() for chunk in values.chunks], out=row)
        del values
        pa.default_memory_pool().release_unused()
        if not ((row >= -LARGEST) & (row <= LARGEST)).all():  # also false for nan
            return None
        if not signed_zero and np.signbit(row[row == 0]).any() and (np.floor(row) == row).all():
            return None
    return block


def _texts(column: pa.ChunkedArray) -> tuple[str, ...] | None:
    """Ids as the slow reader gives them, `_as_text` of each cell, if they are text or whole numbers."""
    if column.null_count:
        return None
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return tuple(column.to_pylist())
    if pa.types.is_integer(column.type):
        return tuple(str(cell) for cell in column.to_pylist())
    return None


# --- parsing numbers -----------------------------------------------------------------


def parse_numbers(column: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Floats of a column, with masks of its blank cells and of its cells that are not numbers."""
    if pd.api.types.is_bool_dtype(column.dtype):
        size = len(column)
        return np.full(size, np.nan), np.zeros(size, dtype=bool), np.ones(size, dtype=bool)
    if pd.api.types.is_numeric_dtype(column.dtype):
        numbers = column.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        blank = column.isna().to_numpy()
    else:
        text = column.map(_as_text, na_action="ignore").astype(object)
        blank = (column.isna() | text.str.strip().str.lower().isin(MISSING_TOKENS)).to_numpy()
        numeric = text.str.fullmatch(rf"\s*{NUMBER}\s*").fillna(False).astype(bool).to_numpy()
        numbers = pd.to_numeric(text.where(numeric), errors="coerce").to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        wrong = ~blank & ~(np.isfinite(numbers) & (np.abs(numbers) <= LARGEST))
    return numbers, blank, wrong


def _as_text(cell: object) -> str:
    """A cell as the text a person would have typed: 12 not 12.0, True not 1."""
    if isinstance(cell, float) and cell.is_integer() and abs(cell) < 1e15:
        return str(int(cell))
    return str(cell)


def _notes(features: pd.DataFrame, config: DatasetConfig) -> tuple[str, ...]:
    """Warnings for the report: features that cannot separate segments or look like codes."""
    notes = []
    for name in features.columns:
        column = features[name].to_numpy()
        label = config.label(name)
        codes = _few_values(column, 5) if len(column) >= 20 else None
        if (column == column[0]).all():
            notes.append(f"{label} has the same value in every row, so it cannot separate segments.")
        elif codes is not None and all(math.isclose(v, round(v)) for v in codes):
            notes.append(f"{label} takes only {len(codes)} whole-number values: if it is a code "
                         "(a channel, a region), its distances mean nothing and it should not be a feature.")
        elif len(column) >= 20 and column[1] - column[0] == 1 and (np.diff(column) == 1).all():
            # steps of exactly 1 also make every value distinct
            notes.append(f"{label} counts up by one on every row, like an id: it should not be a feature.")
        negative = int(np.count_nonzero(column < 0))
        if 0 < negative <= 0.05 * len(column):
            notes.append(f"{label} is negative in {negative} row(s) and positive or zero in the rest: "
                         "check that these values are not errors (returns, corrections, test rows).")
    return tuple(notes)


def _few_values(column: np.ndarray, most: int) -> np.ndarray | None:
    """The distinct values of a column if there are at most `most` of them, else None.

    Looks at ever longer beginnings of the column, so a column with many values is told at once.
    """
    size = 64
    while True:
        values: np.ndarray = pd.unique(column[:size])
        if len(values) > most:
            return None
        if size >= len(column):
            return values
        size *= 64


def published_id(config: DatasetConfig, table: Table) -> str | None:
    """The id column that downloads and `scorer.sql` carry: the configured id (or a purchase log's
    customer column), unless it looks like personal data and `publish_personal` is not set."""
    column = config.customer_column
    return column if column is not None and (table.personal is None or config.publish_personal) else None
