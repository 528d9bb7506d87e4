"""Tables: load a dataset's rows, parse its features as numbers, report what was dropped.

Every cell is untrusted text until it parses as a finite number. Problems name the file,
the column and the line (CSV, TSV, whitespace-separated text) or row (other formats) of the
first offending cells. pyarrow reads every delimited file; the csv module only words what
pyarrow refuses, and finds the line of a row when a message needs it.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from generator.caveats import feature_notes
from generator.config import DatasetConfig
from generator.errors import UserError, did_you_mean, shorten
from generator.logs import check_customers

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
DELIMITERS = {".csv": ",", ".tsv": "\t", ".txt": " ", ".dat": " "}  # " ": runs of spaces and tabs
ARROW_BLOCK = 1 << 24  # bytes pyarrow parses at a time


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


class Places:
    """Where each row of a table is, "line 7" or "row 7", for messages; worked out when first asked for."""

    def __init__(self, word: str, count: int, numbers: Callable[[], Sequence[int]] | int) -> None:
        self.word, self.size, self.numbers = word, count, numbers  # numbers: how to find them, or the first
        self.found: Sequence[int] | None = None

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: int) -> str:
        if self.found is None:  # a count that does not match (the file changed since) numbers the rows instead
            found = self.numbers() if callable(self.numbers) else range(self.numbers, self.numbers + self.size)
            self.found, self.word = (found, self.word) if len(found) == self.size else (range(1, self.size + 1), "row")
        return f"{self.word} {self.found[index]}"


@dataclass(frozen=True)
class RawTable:
    frame: pd.DataFrame  # cells as read, columns by name
    places: Places  # "line 7" / "row 7" for each row, for messages
    digest: str
    origin: str


def load_table(root: Path, config: DatasetConfig) -> Table:
    """Read the configured table and turn its feature columns into finite floats."""
    raw = read_file(root, config.source) if config.source is not None else _read_inline(config)
    _check_columns(raw, config)
    ids = None if config.id_column is None else _texts(raw.frame[config.id_column])
    check_customers(config, raw.origin, ids, {f: raw.frame[f] for f in config.features})

    rows_read = len(raw.frame)
    block = np.empty((len(config.features), rows_read))  # a row per feature: the frame below shares it
    missing = np.zeros(rows_read, dtype=bool)
    bad = np.zeros(rows_read, dtype=bool)
    examples: list[str] = []
    for values, feature in zip(block, config.features, strict=True):
        values[:], blank, wrong = parse_numbers(raw.frame[feature])
        missing |= blank
        bad |= wrong
        for index in np.flatnonzero(blank | wrong)[:SHOWN_CELLS]:
            cell = raw.frame[feature].iloc[index]
            what = "is missing" if blank[index] else "is not a number"
            examples.append(f"column {feature!r}, {raw.places[index]}: {shorten(cell, 24)} {what}")
        if feature != config.id_column:
            del raw.frame[feature]  # the text, once read: a big table never holds both
    pa.default_memory_pool().release_unused()

    unusable = missing | bad
    if unusable.any() and config.missing == "fail":
        raise UserError(f"{raw.origin}: {int(unusable.sum())} row(s) with missing or non-numeric features; first: "
                        f"{'; '.join(examples[:SHOWN_CELLS])} (fix the data or set missing: drop)")
    counts = {"blank or missing feature values": missing, "feature values that are not numbers": bad & ~missing}
    dropped = {reason: int(rows.sum()) for reason, rows in counts.items() if rows.any()}
    keep = ~unusable
    if not keep.any():
        raise UserError(f"{raw.origin}: no row has a number in every feature column")
    everything = bool(keep.all())
    features = pd.DataFrame((block if everything else block[:, keep]).T, columns=list(config.features), copy=False)
    ids = None
    if config.id_column is not None:
        column = raw.frame[config.id_column]
        ids = _texts(column if everything else column[keep])
    return Table(features=features, ids=ids, rows_read=rows_read, dropped=dropped, sha256=raw.digest,
                 origin=raw.origin, notes=feature_notes(features, config),
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


def _read_inline(config: DatasetConfig) -> RawTable:
    assert config.data is not None
    canonical = json.dumps({k: list(v) for k, v in config.data.items()}, sort_keys=True)
    frame = pd.DataFrame({name: pd.Series(cells, dtype=object) for name, cells in config.data.items()})
    return RawTable(frame, Places("row", len(frame), 1), hashlib.sha256(canonical.encode()).hexdigest(),
                    f"{config.path}: data")


def read_file(root: Path, source: str) -> RawTable:
    """Read a table file's cells as they are, with the place of every row for messages."""
    path, shown = root / source, source
    suffix = path.suffix.lower()
    if suffix in DELIMITERS:
        delimiter = DELIMITERS[suffix]
        digest, cells = _read_delimited(path, shown, delimiter)
        frame = cells.to_pandas(types_mapper={pa.string(): pd.ArrowDtype(pa.string())}.get)  # no copy
        places = Places("line", len(frame), lambda: [line for line, _ in _records(path.read_bytes(), shown,
                                                                                      delimiter)][1:])
    else:
        payload = path.read_bytes()
        digest = hashlib.sha256(payload).hexdigest()
        if not payload or payload.isspace():
            raise UserError(f"{shown}: the file is empty")
        frame = _read_binary(payload, shown, suffix)
        places = Places("row", len(frame), 2 if suffix == ".xlsx" else 1)  # a sheet's row 1 is its header
    if frame.empty:
        raise UserError(f"{shown}: has a header but no rows")
    return RawTable(frame, places, digest, shown)


def _tabbed(payload: bytes) -> bytes:
    """A whitespace-separated table as tab-separated: runs of spaces and tabs as one tab, none at a line's ends."""
    return re.sub(rb"[ \t]+", b"\t", re.sub(rb"^[ \t]+|[ \t]+(?=\r?$)", b"", payload, flags=re.M))


def _read_delimited(path: Path, shown: str, delimiter: str) -> tuple[str, pa.Table]:
    """The file's sha256 and every cell as text, read by pyarrow; by the csv module only if pyarrow refuses."""
    if delimiter == " ":
        payload = path.read_bytes()
        digest, quotes, source = hashlib.sha256(payload).hexdigest(), 0, pa.BufferReader(_tabbed(payload))
    else:
        digest, quotes, source = *_scan(path), pa.OSFile(str(path))
    with source:
        cells = _arrow_cells(source, delimiter, quoted=quotes > 0)
    if cells is None or quotes % 2:  # refused, or a quote left open
        return digest, _csv_cells(path.read_bytes(), shown, delimiter)
    header, body = cells.slice(0, 1), cells.slice(1)
    names = [str(header.column(i)[0]).strip() for i in range(header.num_columns)]
    _check_delimiter(names, shown, delimiter)
    blank = _blank(body.column(0))
    if blank.any():
        for column in body.columns[1:]:
            blank &= _blank(column)
        body = body.filter(pa.array(~blank))
    width = len(names)
    while width and not names[width - 1] and _blank(body.column(width - 1)).all():
        width -= 1
    _check_header(names[:width], shown)
    return digest, body.select(range(width)).rename_columns(names[:width])


def _scan(path: Path) -> tuple[str, int]:
    """The sha256 of a file and the number of quotes in it, read a block at a time."""
    digest, quotes = hashlib.sha256(), 0
    with path.open("rb") as file:
        while block := file.read(ARROW_BLOCK):
            digest.update(block)
            quotes += block.count(b'"')
    return digest.hexdigest(), quotes


def _arrow_cells(source: pa.NativeFile, delimiter: str, *, quoted: bool) -> pa.Table | None:
    """The file's cells as text, its header as row 0, blank rows left out; None if pyarrow refuses it."""
    header = re.split(rb"[\r\n]", source.read(1 << 16).removeprefix(codecs.BOM_UTF8).lstrip(b"\r\n"), maxsplit=1)[0]
    source.seek(0)
    separator, quoting = ("\t", False) if delimiter == " " else (delimiter, True)
    unquoted = re.sub(rb'"[^"]*"', b"", header) if quoting else header
    names = [str(i) for i in range(unquoted.count(separator.encode()) + 1)]
    cut = f'{separator}" \t\r\n'  # a row of only these is a blank line: skipped
    try:
        cells = pcsv.read_csv(
            source,
            read_options=pcsv.ReadOptions(column_names=names, block_size=ARROW_BLOCK),
            parse_options=pcsv.ParseOptions(delimiter=separator, quote_char='"' if quoting else False,
                                            newlines_in_values=quoted,  # else a block may end inside quotes
                                            invalid_row_handler=lambda row: "error" if row.text.strip(cut) else "skip"),
            convert_options=pcsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()), null_values=[],
                                                strings_can_be_null=False, quoted_strings_can_be_null=False))
    except pa.ArrowInvalid:  # a row with too few or too many cells, text that is not UTF-8, ...
        return None
    finally:
        pa.default_memory_pool().release_unused()  # pyarrow's parse buffers
    if not cells.num_rows or all(not str(cells.column(i)[0]).strip() for i in range(len(names))):
        return None  # no header, or one the csv module finds after blank cells
    return cells


def _blank(column: pa.ChunkedArray) -> np.ndarray:
    """Which cells are empty or only whitespace."""
    return np.asarray(pc.equal(pc.utf8_trim_whitespace(column), "").to_numpy(zero_copy_only=False), dtype=bool)


def _csv_cells(payload: bytes, shown: str, delimiter: str) -> pa.Table:
    """A file pyarrow refused, read by the csv module: it says why, unless all that differs is blank padding."""
    records = list(_records(payload, shown, delimiter, strict=True))
    if not records:
        raise UserError(f"{shown}: the file is empty")
    header, body = [name.strip() for name in records[0][1]], records[1:]
    _check_delimiter(header, shown, delimiter)
    width = len(header)
    # Spreadsheet exports pad rows with empty trailing cells; anything else is ragged.
    while width and not header[width - 1] and all(len(r) < width or not r[width - 1].strip() for _, r in body):
        width -= 1
    for line, record in body:
        if len(record) < width or any(cell.strip() for cell in record[width:]):
            cells = len(record) - next((i for i, cell in enumerate(reversed(record)) if cell.strip()), 0)
            raise UserError(f"{shown}: line {line} has {cells} cell(s) but the header names {width} "
                            "column(s); rows must line up with the header")
    _check_header(header[:width], shown)
    return pa.table({name: pa.array([record[i] for _, record in body], pa.string())
                     for i, name in enumerate(header[:width])})


def _records(payload: bytes, shown: str, delimiter: str, *, strict: bool = False) -> Iterator[tuple[int, list[str]]]:
    """The records with a cell that is not blank, each with the line it ends on, as the csv module reads them."""
    payload = _tabbed(payload) if delimiter == " " else payload
    try:
        text = payload.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = payload[: error.start].count(b"\n") + 1
        raise UserError(f"{shown}: line {line}: byte 0x{payload[error.start]:02x} is not UTF-8; "
                        "save the file as UTF-8 (CSV UTF-8 in spreadsheet programs)") from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t" if delimiter == " " else delimiter,
                        strict=strict, quoting=csv.QUOTE_NONE if delimiter == " " else csv.QUOTE_MINIMAL)
    try:
        for record in reader:
            if any(cell.strip() for cell in record):
                yield reader.line_num, record
    except csv.Error as error:
        raise UserError(f"{shown}: line {reader.line_num}: {error}") from None


def _check_delimiter(header: list[str], shown: str, delimiter: str) -> None:
    """A header read as one column that holds another separator: say which one it seems to be."""
    named = [name for name in header if name]
    if len(named) != 1:
        return
    words = {",": "','", "\t": "tab", " ": "spaces or tabs", ";": "';'", "|": "'|'"}
    spaced = " " if delimiter != " " and len(named[0].split()) > 1 else None  # words in the one name
    found = next((other for other in (";", "\t", "|", ",") if other != delimiter and other in named[0]), spaced)
    if found is not None:
        raise UserError(f"{shown}: the header is one column {shorten(named[0])}; the file seems separated by "
                        f"{words[found]}, but a {Path(shown).suffix} file is read as separated by {words[delimiter]}"
                        + ("; rename it to .txt or .dat to have it read so" if found == " " else ""))


def _check_header(names: list[str], shown: str) -> None:
    for position, name in enumerate(names, start=1):
        if not name:
            raise UserError(f"{shown}: column {position} has no name in the header")
        if names.index(name) != position - 1:
            raise UserError(f"{shown}: column name {shorten(name)} appears twice in the header")


def _read_binary(payload: bytes, shown: str, suffix: str) -> pd.DataFrame:
    try:
        if suffix == ".parquet":
            return pd.read_parquet(io.BytesIO(payload), dtype_backend="pyarrow")  # columns apart: freed one by one
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
            names = ["" if pd.isna(name) else as_text(name).strip() for name in cells.iloc[0]]
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


def parse_numbers(column: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Floats of a column, with masks of its blank cells and of its cells that are not numbers."""
    if pd.api.types.is_bool_dtype(column.dtype):
        return np.full(len(column), np.nan), np.zeros(len(column), dtype=bool), np.ones(len(column), dtype=bool)
    if pd.api.types.is_numeric_dtype(column.dtype):
        numbers = column.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        blank = column.isna().to_numpy()
    else:
        text = pc.utf8_trim_whitespace(_arrow_text(column))
        try:  # pyarrow reads exactly the plain numbers, and "inf" and "nan", which are not finite
            parsed = pc.cast(text, pa.float64())
        except pa.ArrowInvalid:
            parsed = pc.cast(pc.if_else(pc.match_substring_regex(text, f"^{NUMBER}$"), text, None), pa.float64())
        numbers = np.asarray(pc.fill_null(parsed, math.nan).to_numpy(zero_copy_only=False), dtype=float)
        blank = np.zeros(len(numbers), dtype=bool)
        if not np.isfinite(numbers).all():
            tokens = pc.is_in(pc.utf8_lower(text), pa.array(MISSING_TOKENS, text.type))
            blank = np.asarray(pc.or_kleene(tokens, pc.is_null(text)).to_numpy(zero_copy_only=False), dtype=bool)
    with np.errstate(invalid="ignore"):
        wrong = ~blank & ~(np.isfinite(numbers) & (np.abs(numbers) <= LARGEST))
    return numbers, blank, wrong


def as_text(cell: object) -> str:
    """A cell as the text a person would have typed: 12 not 12.0, True not 1."""
    return str(int(cell)) if isinstance(cell, float) and cell.is_integer() and abs(cell) < 1e15 else str(cell)


def _arrow_text(column: pd.Series) -> pa.Array | pa.ChunkedArray:
    """A column's cells as pyarrow text, null where a cell is missing."""
    if pd.api.types.is_string_dtype(column.dtype) and not pd.api.types.is_object_dtype(column.dtype):
        return pa.array(column, from_pandas=True)
    return pa.array(column.map(as_text, na_action="ignore"), pa.string(), from_pandas=True)


def _texts(column: pd.Series) -> tuple[str, ...]:
    """Each cell of a column as text (ids: as typed, leading zeros kept)."""
    return tuple(map(as_text, column)) if column.isna().any() else tuple(_arrow_text(column).to_pylist())


def published_id(config: DatasetConfig, table: Table) -> str | None:
    """The id column that downloads and `scorer.sql` carry: the configured id (or a purchase log's
    customer column), unless it looks like personal data and `publish_personal` is not set."""
    column = config.customer_column
    return column if column is not None and (table.personal is None or config.publish_personal) else None
