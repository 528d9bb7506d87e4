"""Tables: load a dataset's rows, parse its features as numbers, report what was dropped.

Every cell is untrusted text until it parses as a finite number. Problems name the file,
the column and the line (CSV, TSV, whitespace-separated text) or row (other formats) of the
first offending cells. pyarrow reads every delimited file; the csv module only words what
pyarrow refuses, and finds the line of a row when a message needs it.

Files are read as people's tools save them (`read:` in the configuration, each option
detected when absent): a file that is not UTF-8 is decoded to UTF-8 first (UTF-16 by its BOM;
Windows-1252 where UTF-8 fails); the delimiter is the one that splits every line alike; each
column's decimal mark and thousands separator are the ones all its numbers fit; a workbook is
read from its one sheet with the configured columns. What reads two ways is an `Unsettled`
error naming the `read:` key that settles it.
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
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from generator.caveats import feature_notes
from generator.config import DatasetConfig, Read
from generator.errors import UserError, did_you_mean, shorten
from generator.formats import byte, exact, plural
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
CANDIDATES = (",", ";", "\t", "|")  # the delimiters detected: the one that splits every line alike
ARROW_BLOCK = 1 << 24  # bytes pyarrow parses at a time
SAMPLE = 1 << 16  # bytes of a file read to detect its delimiter
HEAD = 1 << 20  # bytes of a file a query engine scans read first, to detect its number marks
ENCODINGS = {"utf-8": "UTF-8", "utf-16": "UTF-16", "cp1252": "Windows-1252", "latin-1": "Latin-1",
             "iso8859-1": "Latin-1", "iso8859-15": "Latin-9", "mac-roman": "Mac Roman", "cp850": "DOS (cp850)"}
GROUPING = " '\u00a0\u202f"  # thousands separators either decimal mark goes with, besides the other mark


def _windows_1252(error: UnicodeError) -> tuple[str, int]:
    """Bytes that are not UTF-8, read as Windows-1252 (its five unassigned bytes as Latin-1, as Windows does)."""
    assert isinstance(error, UnicodeDecodeError)
    bad = error.object[error.start:error.end]
    return "".join(bytes([byte]).decode("cp1252", errors="ignore") or chr(byte) for byte in bad), error.end


codecs.register_error("windows-1252", _windows_1252)


class Unsettled(UserError):
    """A file that reads two ways (or more): the `read:` key that settles it, and its values, likeliest first."""

    def __init__(self, message: str, key: str, options: Sequence[str]) -> None:
        super().__init__(message)
        self.key, self.options = key, tuple(options)


@dataclass(frozen=True)
class Marks:
    """How a column writes its numbers: its decimal mark and the characters that may group its thousands."""

    decimal: str = "."
    thousands: str = ""

    @property
    def pattern(self) -> str:
        """A number so written, whole: thousands grouped by threes after a first group of one to three digits."""
        whole = r"\d+" + (rf"|[1-9]\d{{0,2}}(?:[{re.escape(self.thousands)}]\d{{3}})+" if self.thousands else "")
        mark = re.escape(self.decimal)
        return rf"^[+-]?(?:(?:{whole})(?:{mark}\d*)?|{mark}\d+)(?:[eE][+-]?\d+)?$"

    @property
    def words(self) -> str:
        return "decimal point" if self.decimal == "." else "decimal comma"


PLAIN = Marks()
POINT = Marks(".", "," + GROUPING)
COMMA = Marks(",", "." + GROUPING)


@dataclass(frozen=True)
class Accounting:
    """What a report keeps of its table: where the rows came from and what became of them, no rows."""

    rows_read: int
    rows_used: int
    dropped: dict[str, int]  # reason -> number of rows
    sha256: str
    origin: str  # where the rows came from, for people
    notes: tuple[str, ...] = ()  # things a reader should know about the data
    personal: str | None = None  # why the id column looks like personal data, if it does
    reading: tuple[str, ...] = ()  # how the file was read, where not as by default


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
    reading: tuple[str, ...] = field(default=())  # how the file was read, where not as by default

    @property
    def rows_used(self) -> int:
        return len(self.features)

    @property
    def accounting(self) -> Accounting:
        return Accounting(self.rows_read, self.rows_used, self.dropped, self.sha256, self.origin, self.notes,
                          self.personal, self.reading)


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
    delimiter: str | None = None  # of delimited text: the one it was read with
    separated: tuple[str, ...] = ()  # the delimiter, for people, where not the file type's own
    facts: tuple[str, ...] = ()  # the rest of how the file was read, where not as by default


def load_table(root: Path, config: DatasetConfig) -> Table:
    """Read the configured table and turn its feature columns into finite floats."""
    wanted = (*config.features, *([config.id_column] if config.id_column else []))
    raw = read_file(root, config.source, config.read, wanted) if config.source is not None else _read_inline(config)
    _check_columns(raw, config)
    marks, facts = number_marks(raw, config.features, config.read)
    ids = None if config.id_column is None else _texts(raw.frame[config.id_column])
    check_customers(config, raw.origin, ids, {f: raw.frame[f] for f in config.features})

    rows_read = len(raw.frame)
    block = np.empty((len(config.features), rows_read))  # a row per feature: the frame below shares it
    missing = np.zeros(rows_read, dtype=bool)
    bad = np.zeros(rows_read, dtype=bool)
    examples: list[str] = []
    for values, feature in zip(block, config.features, strict=True):
        values[:], blank, wrong = parse_numbers(raw.frame[feature], marks[feature])
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
                 personal=personal_data(config.id_column, ids) if config.id_column and ids else None,
                 reading=(*raw.separated, *facts, *raw.facts))


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


def read_file(root: Path, source: str, read: Read | None = None, wanted: Sequence[str] = ()) -> RawTable:
    """Read a table file's cells as they are, with the place of every row for messages.

    `read` gives what is not to be detected; `wanted` names the columns the table must hold
    (a workbook is read from its one sheet that holds them).
    """
    path, shown, read = root / source, source, read or Read()
    suffix = path.suffix.lower()
    facts: tuple[str, ...] = ()
    if suffix in DELIMITERS:
        text = _decode(path, shown, read.encoding)
        delimiter = read.delimiter or _detect_delimiter(text, shown, suffix)
        text, cells, beside = _read_delimited(text, shown, delimiter)
        frame = cells.to_pandas(types_mapper={pa.string(): pd.ArrowDtype(pa.string())}.get)  # no copy
        places = Places("line", len(frame), lambda: [line for line, _ in _records(text.utf8(), shown,
                                                                                      delimiter)][1:])
        digest = text.digest
        separated = () if delimiter == DELIMITERS[suffix] else (_separated(delimiter),)
        facts = (*((text.encoding,) if text.encoding else ()),
                 *((f"{plural(beside, 'unnamed column')} beside the table left out",) if beside else ()))
    else:
        payload = path.read_bytes()
        digest = hashlib.sha256(payload).hexdigest()
        if not payload or payload.isspace():
            raise UserError(f"{shown}: the file is empty")
        frame, sheet = _read_binary(payload, shown, suffix, read.sheet, wanted)
        places = Places("row", len(frame), 2 if suffix == ".xlsx" else 1)  # a sheet's row 1 is its header
        delimiter, separated, facts = None, (), (f"sheet {sheet!r}",) if sheet else ()
    if frame.empty:
        raise UserError(f"{shown}: has a header but no rows")
    return RawTable(frame, places, digest, shown, delimiter, separated, facts)


@dataclass(frozen=True)
class Scan:
    """A file a query engine scans itself, as `read_file` would read it: a UTF-8 delimited file (its
    delimiter, header and first lines detected here) or a Parquet file."""

    path: Path
    digest: str
    head: RawTable | None  # the first lines as `read_file` reads them (to detect number marks on); None: Parquet
    delimiter: str | None = None  # of delimited text; None: Parquet

    def places(self, rows: int) -> Places:
        """Where each of the file's `rows` rows is, for messages (the lines of delimited text)."""
        if self.delimiter is None or self.head is None:
            return Places("row", rows, 1)
        delimiter, shown = self.delimiter, self.head.origin
        return Places("line", rows, lambda: [line for line, _ in _records(self.path.read_bytes(), shown,
                                                                          delimiter)][1:])


def scan(root: Path, source: str, read: Read | None = None) -> Scan | None:
    """How a query engine can scan a file itself; None where only `read_file` reads it (workbooks, JSON,
    text that is not UTF-8 or is separated by spaces, a quoted cell that runs past the first lines).

    A delimited file's delimiter is detected as `read_file` detects it; its first HEAD bytes are read as
    `read_file` reads a whole file, so that its number marks can be detected on them.
    """
    path, read = root / source, read or Read()
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        digest, _ = _scan(path)
        return Scan(path, digest, None)
    if suffix not in (".csv", ".tsv") or read.encoding not in (None, "utf-8", "utf-8-sig"):
        return None
    text = _decode(path, source, read.encoding)
    delimiter = read.delimiter or _detect_delimiter(text, source, suffix)
    with path.open("rb") as file:
        head = file.read(HEAD)
    whole = len(head) < HEAD
    head = head if whole else head[: head.rfind(b"\n") + 1]
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if text.payload is not None or delimiter == " " or head.count(b'"') % 2:
        return None
    first = replace(text, payload=head, quotes=head.count(b'"'), whole=whole)
    _, cells, beside = _read_delimited(first, source, delimiter)
    frame = cells.to_pandas(types_mapper={pa.string(): pd.ArrowDtype(pa.string())}.get)
    if frame.empty:
        raise UserError(f"{source}: has a header but no rows")
    separated = () if delimiter == DELIMITERS[suffix] else (_separated(delimiter),)
    facts = (f"{plural(beside, 'unnamed column')} beside the table left out",) if beside else ()
    return Scan(path, text.digest, RawTable(frame, Places("line", len(frame), 2), text.digest, source, delimiter,
                                            separated, facts), delimiter)


def _separated(delimiter: str) -> str:
    return {"\t": "tab-separated", " ": "separated by spaces"}.get(delimiter, f"{delimiter!r}-separated")


@dataclass(frozen=True)
class Text:
    """A delimited file as UTF-8 text: the file itself when it is UTF-8, else its text encoded so."""

    path: Path
    digest: str  # of the file as it is
    quotes: int
    head: str  # the first lines, for detecting the delimiter
    whole: bool  # whether the head is the whole file (else its last record may be cut short)
    payload: bytes | None = None  # the text as UTF-8 where the file is not; None: the file is
    encoding: str | None = None  # the file's encoding for people, where not UTF-8
    strict: bool = False  # UTF-8 as `read:` says: no byte read as Windows-1252

    def source(self) -> pa.NativeFile:
        return pa.OSFile(str(self.path)) if self.payload is None else pa.BufferReader(self.payload)

    def utf8(self) -> bytes:
        return self.path.read_bytes() if self.payload is None else self.payload


def _decode(path: Path, shown: str, encoding: str | None) -> Text:
    """The file as UTF-8: as it is, or decoded with `read: encoding`, or as UTF-16 where it starts with its BOM."""
    with path.open("rb") as file:
        head = file.read(SAMPLE)
    if encoding is None and head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    if encoding in (None, "utf-8", "utf-8-sig"):
        digest, quotes = _scan(path)
        whole = len(head) < SAMPLE
        sample = head.decode("utf-8", errors="windows-1252").removeprefix("\ufeff")
        text = Text(path, digest, quotes, sample if whole else sample[: sample.rfind("\n") + 1], whole,
                    strict=encoding is not None)
        try:
            head[: len(head) - 3 * (not whole)].decode("utf-8")  # (a character cut at the end is not a fault)
        except UnicodeDecodeError:  # not UTF-8 from the first lines: no need to try pyarrow first
            return text if text.strict else _windows_1252_where_not_utf8(text) or text
        return text
    payload = path.read_bytes()
    try:
        decoded = payload.decode(encoding).removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        line = payload[: error.start].count(b"\n") + 1
        raise UserError(f"{shown}: line {line}: byte {byte(payload[error.start])} cannot be read as {encoding}; "
                        "check read: encoding") from None
    utf8 = decoded.encode()
    return Text(path, hashlib.sha256(payload).hexdigest(), utf8.count(b'"'), decoded[:SAMPLE], len(decoded) <= SAMPLE,
                utf8, ENCODINGS.get(encoding, encoding), strict=True)


def _windows_1252_where_not_utf8(text: Text) -> Text | None:
    """The text with every byte that is not UTF-8 read as Windows-1252; None if the file is all UTF-8."""
    payload = text.path.read_bytes()
    try:
        payload.decode("utf-8")
        return None
    except UnicodeDecodeError:
        pass
    utf8 = payload.decode("utf-8", errors="windows-1252").encode()
    mixed = not payload.decode("utf-8", errors="ignore").isascii()  # some of it is UTF-8 beyond ASCII
    return replace(text, payload=utf8, quotes=utf8.count(b'"'),
                   encoding="UTF-8 with some Windows-1252 bytes" if mixed else "Windows-1252")


def _detect_delimiter(text: Text, shown: str, suffix: str) -> str:
    """The delimiter that splits every line of the file's first lines alike; the file type's own if none does."""
    default = DELIMITERS[suffix]
    order = sorted(CANDIDATES, key=lambda candidate: candidate != default)
    fitting = [(candidate, width) for candidate in order
               if (width := _splits_alike(text.head, candidate, text.whole)) > 1]
    if len(fitting) > 1:
        (first, one), (second, other) = fitting[:2]
        raise Unsettled(f"{shown}: every line splits alike at {_char(first)} ({one} columns) and at {_char(second)} "
                        f"({other} columns); say which with read: {{delimiter: {_char(first)}}} or "
                        f"read: {{delimiter: {_char(second)}}}", "delimiter", [first, second])
    return fitting[0][0] if fitting else default


def _splits_alike(head: str, delimiter: str, whole: bool) -> int:
    """The number of named columns if every record of `head` splits into them at `delimiter`, else 0.

    Cells past the header's last name (notes, pivots beside the table) are allowed; past the
    header's last cell, only blank ones (a spreadsheet's padding).
    """
    reader = csv.reader(io.StringIO(head, newline=""), delimiter=delimiter)
    try:
        records = [record for record in reader if any(cell.strip() for cell in record)]
    except csv.Error:
        return 0
    records = records if whole else records[:-1]  # the last may end inside a quoted cell
    if len(records) < 2:
        return 0
    header = [name.strip() for name in records[0]]
    width = len(header)
    while width and not header[width - 1]:
        width -= 1
    for record in records[1:]:
        if len(record) < width or any(cell.strip() for cell in record[len(header):]):
            return 0
    return width


def _char(delimiter: str) -> str:
    """A delimiter as it is written in YAML."""
    return '"\\t"' if delimiter == "\t" else f"'{delimiter}'"


def _tabbed(payload: bytes) -> bytes:
    """A whitespace-separated table as tab-separated: runs of spaces and tabs as one tab, none at a line's ends."""
    return re.sub(rb"[ \t]+", b"\t", re.sub(rb"^[ \t]+|[ \t]+(?=\r?$)", b"", payload, flags=re.M))


def _read_delimited(text: Text, shown: str, delimiter: str) -> tuple[Text, pa.Table, int]:
    """Every cell as text, read by pyarrow (by the csv module only if pyarrow refuses), and the number of
    unnamed columns beside the table that were left out; the text, read as Windows-1252 where not UTF-8."""
    cells = _parse(text, delimiter)
    if cells is None and text.payload is None and not text.strict:
        fallback = _windows_1252_where_not_utf8(text)
        if fallback is not None:
            text, cells = fallback, _parse(fallback, delimiter)
    if cells is None or text.quotes % 2:  # refused, or a quote left open
        return text, *_csv_cells(text.utf8(), shown, delimiter)
    header, body = cells.slice(0, 1), cells.slice(1)
    names = [str(header.column(i)[0]).strip() for i in range(header.num_columns)]
    _check_delimiter(names, shown, delimiter)
    width = len(names)
    while width and not names[width - 1]:  # columns without a name beside the table: notes, pivots, padding
        width -= 1
    beside = sum(not _blank(body.column(i)).all() for i in range(width, len(names)))
    body = body.select(range(width))
    if width:
        blank = _blank(body.column(0))
        if blank.any():
            for column in body.columns[1:]:
                blank &= _blank(column)
            body = body.filter(pa.array(~blank))
    _check_header(names[:width], shown)
    return text, body.rename_columns(names[:width]), beside


def _parse(text: Text, delimiter: str) -> pa.Table | None:
    source = pa.BufferReader(_tabbed(text.utf8())) if delimiter == " " else text.source()
    with source:
        return _arrow_cells(source, delimiter, quoted=text.quotes > 0 and delimiter != " ")


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


def _csv_cells(payload: bytes, shown: str, delimiter: str) -> tuple[pa.Table, int]:
    """A file pyarrow refused, read by the csv module: it says why, unless all that differs is blank padding
    (and cells beside the table, under no name); with the number of unnamed columns left out."""
    records = list(_records(payload, shown, delimiter, strict=True))
    if not records:
        raise UserError(f"{shown}: the file is empty")
    header, body = [name.strip() for name in records[0][1]], records[1:]
    _check_delimiter(header, shown, delimiter)
    width = len(header)
    while width and not header[width - 1]:
        width -= 1
    # Spreadsheet exports pad rows with empty trailing cells; anything else is ragged.
    for line, record in body:
        if len(record) < width or any(cell.strip() for cell in record[max(width, len(header)):]):
            cells = len(record) - next((i for i, cell in enumerate(reversed(record)) if cell.strip()), 0)
            raise UserError(f"{shown}: line {line} has {cells} cell(s) but the header names {width} "
                            "column(s); rows must line up with the header")
    _check_header(header[:width], shown)
    beside = sum(any(len(r) > i and r[i].strip() for _, r in body) for i in range(width, len(header)))
    rows = [record for _, record in body if any(cell.strip() for cell in record[:width])]
    return pa.table({name: pa.array([record[i] for record in rows], pa.string())
                     for i, name in enumerate(header[:width])}), beside


def _records(payload: bytes, shown: str, delimiter: str, *, strict: bool = False) -> Iterator[tuple[int, list[str]]]:
    """The records with a cell that is not blank, each with the line it ends on, as the csv module reads them."""
    payload = _tabbed(payload) if delimiter == " " else payload
    try:
        text = payload.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = payload[: error.start].count(b"\n") + 1
        raise UserError(f"{shown}: line {line}: byte {byte(payload[error.start])} is not UTF-8; "
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
                        + ("; rename it to .txt or .dat to have it read so" if found == " " else
                           f" where not every line splits alike at another; read: {{delimiter: {_char(found)}}} "
                           "reads it so"))


def _check_header(names: list[str], shown: str) -> None:
    for position, name in enumerate(names, start=1):
        if not name:
            raise UserError(f"{shown}: column {position} has no name in the header")
        if names.index(name) != position - 1:
            raise UserError(f"{shown}: column name {shorten(name)} appears twice in the header")


def _read_binary(payload: bytes, shown: str, suffix: str, sheet: str | None,
                 wanted: Sequence[str]) -> tuple[pd.DataFrame, str | None]:
    """The cells of a Parquet, workbook or JSON file; a workbook's sheet, if it has several."""
    try:
        if suffix == ".parquet":  # columns apart: freed one by one
            return pd.read_parquet(io.BytesIO(payload), dtype_backend="pyarrow"), None
        if suffix == ".xlsx":
            # header=None: pandas would rename duplicate and blank headers ("x.1", "Unnamed: 1").
            sheets = pd.read_excel(io.BytesIO(payload), sheet_name=None, dtype=object, header=None)
            chosen = _sheet(sheets, shown, sheet, wanted)
            _check_formulas(payload, shown, chosen)
            cells = sheets[chosen]
            if cells.empty:
                raise UserError(f"{shown}: the sheet {chosen!r} is empty" if len(sheets) > 1 else
                                f"{shown}: the sheet is empty")
            names = _sheet_header(cells)
            _check_header(names, shown)
            body = cells.iloc[1:].reset_index(drop=True)
            body.columns = pd.Index(names)
            return body, chosen if len(sheets) > 1 else None
        records = json.loads(payload.decode("utf-8-sig"))
    except UserError:
        raise
    except (ValueError, OSError, ImportError) as error:  # the readers' own parse errors
        raise UserError(f"{shown}: cannot be read as {suffix[1:]}: {shorten(str(error), 80)}") from None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise UserError(f"{shown}: must be a JSON list of records ({{column: value}} objects)")
    if not records:
        raise UserError(f"{shown}: the list of records is empty")
    return pd.DataFrame.from_records(records).astype(object), None


def _sheet_header(cells: pd.DataFrame) -> list[str]:
    return ["" if pd.isna(name) else as_text(name).strip() for name in cells.iloc[0]] if not cells.empty else []


def _sheet(sheets: dict[str, pd.DataFrame], shown: str, sheet: str | None, wanted: Sequence[str]) -> str:
    """The sheet to read: the one `read: sheet` names, the only one, or the only one whose header holds `wanted`."""
    names = [str(name) for name in sheets]
    listed = ", ".join(map(repr, names))
    if sheet is not None:
        if sheet not in sheets:
            raise UserError(f"{shown}: has no sheet {sheet!r}{did_you_mean(sheet, names)}; its sheets are {listed} "
                            "(read: sheet)")
        return sheet
    if len(names) == 1:
        return names[0]
    holding = [name for name in names if wanted and set(wanted) <= set(_sheet_header(sheets[name]))]
    if len(holding) == 1:
        return holding[0]
    columns = ", ".join(map(repr, wanted))
    columns = columns if len(columns) <= 60 else columns[:57] + "..."
    which = ("" if not wanted else f" and none holds the columns {columns}" if not holding
             else f" and {len(holding)} hold the columns {columns}")
    likeliest = holding or sorted(names, key=lambda name: -sheets[name].size)  # the biggest: the table, not notes
    raise Unsettled(f"{shown}: has {len(names)} sheets ({listed}){which}; name the table's with "
                    f"read: {{sheet: {likeliest[0]!r}}}", "sheet", likeliest)


def _check_formulas(payload: bytes, shown: str, sheet: str) -> None:
    """A workbook written by a program that does not calculate holds formulas without results."""
    from openpyxl import load_workbook  # only for workbooks: a cached rebuild never loads it

    formulas = load_workbook(io.BytesIO(payload), read_only=True, data_only=False)
    results = load_workbook(io.BytesIO(payload), read_only=True, data_only=True)
    try:
        for row, values in zip(formulas[sheet].iter_rows(), results[sheet].iter_rows(), strict=False):
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


def parse_numbers(column: pd.Series, marks: Marks = PLAIN) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Floats of a column, with masks of its blank cells and of its cells that are not numbers.

    Text cells are numbers as `marks` writes them (plain by default: no thousands separators);
    a cell that is already a number (a workbook's, a JSON file's) is taken as it is.
    """
    if pd.api.types.is_bool_dtype(column.dtype):
        return np.full(len(column), np.nan), np.zeros(len(column), dtype=bool), np.ones(len(column), dtype=bool)
    if pd.api.types.is_numeric_dtype(column.dtype):
        numbers = column.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        blank = column.isna().to_numpy()
    else:
        text = pc.utf8_trim_whitespace(_arrow_text(column))
        parsed = _cast(text, marks)
        numbers = np.asarray(pc.fill_null(parsed, math.nan).to_numpy(zero_copy_only=False), dtype=float)
        if marks != PLAIN and pd.api.types.is_object_dtype(column.dtype):
            typed = _typed(column)  # numbers already: a workbook's cells are not text in any locale
            numbers = np.where(typed, pd.to_numeric(column.where(typed)).to_numpy(dtype=float), numbers)
        blank = np.zeros(len(numbers), dtype=bool)
        if not np.isfinite(numbers).all():
            tokens = pc.is_in(pc.utf8_lower(text), pa.array(MISSING_TOKENS, text.type))
            blank = np.asarray(pc.or_kleene(tokens, pc.is_null(text)).to_numpy(zero_copy_only=False), dtype=bool)
    with np.errstate(invalid="ignore"):
        wrong = ~blank & ~(np.isfinite(numbers) & (np.abs(numbers) <= LARGEST))
    return numbers, blank, wrong


def _cast(text: pa.Array | pa.ChunkedArray, marks: Marks) -> pa.Array | pa.ChunkedArray:
    """Trimmed text cells as floats, null where a cell is not a number written with `marks`."""
    if marks.decimal == ".":
        try:  # pyarrow reads exactly the plain numbers, and "inf" and "nan", which are not finite
            return pc.cast(text, pa.float64())
        except pa.ArrowInvalid:
            if marks == PLAIN:
                return pc.cast(pc.if_else(pc.match_substring_regex(text, f"^{NUMBER}$"), text, None), pa.float64())
    plain = text
    for mark in marks.thousands:  # literal replacements: faster than a pattern's
        plain = pc.replace_substring(plain, mark, "")
    if marks.decimal != ".":
        plain = pc.replace_substring(plain, marks.decimal, ".")
    return pc.cast(pc.if_else(pc.match_substring_regex(text, marks.pattern), plain, None), pa.float64())


def _typed(column: pd.Series) -> np.ndarray:
    """Which cells of an object column are numbers already (not text, not true/false)."""
    return np.asarray(column.map(lambda cell: isinstance(cell, int | float) and not isinstance(cell, bool)
                                 and not pd.isna(cell)).to_numpy(dtype=bool))


def number_marks(raw: RawTable, columns: Sequence[str], read: Read) -> tuple[dict[str, Marks], tuple[str, ...]]:
    """How each column writes its numbers, decided from all its cells, and what of that people should be told.

    A column's marks are the ones every number in it fits. Where both decimal marks fit and give
    different numbers (a column of `1.234` only), the other columns decide, if they agree; a
    comma-separated file writes decimal points; otherwise the file reads two ways: an error.
    """
    candidates = _candidates(read)
    decided: dict[str, Marks] = {}
    unsure: list[str] = []
    evidence: set[Marks] = set()  # the marks of the columns only one of them fits
    texts: dict[str, pa.Array | pa.ChunkedArray] = {}
    for name in columns:
        text = _number_text(raw.frame[name])
        if text is None:
            decided[name] = PLAIN
            continue
        texts[name] = text
        # One cell that a reading does not fit rules it out: the first cells rule out most, quickly.
        head = _numbers_only(text.slice(0, 1000))
        alive = [marks for marks in candidates if _fits(head, marks)]
        if len(alive) > 1:
            plain = _plain(text)
            if plain and alive[0].decimal == "." and not pc.any(pc.match_substring(text, ".")).as_py():
                decided[name] = PLAIN  # whole numbers: every reading gives the same
                continue
            cells = _numbers_only(text)
            alive = [marks for marks in alive if (plain and marks.decimal == ".") or _fits(cells, marks)]
        if len(alive) == 1 or (alive and not any(pc.any(pc.match_substring(text, mark)).as_py() for mark in ".,")):
            decided[name] = alive[0]
            evidence |= {alive[0]} if len(alive) == 1 and len(candidates) > 1 else set()
        elif alive:
            unsure.append(name)
        else:  # not all numbers: the marks most of them fit, so that the others are named as not numbers
            counts = [pc.sum(pc.match_substring_regex(text, marks.pattern)).as_py() or 0 for marks in candidates]
            decided[name] = candidates[counts.index(max(counts))]
    for name in unsure:
        if len(evidence) == 1:
            decided[name] = next(iter(evidence))
        elif raw.delimiter == ",":
            decided[name] = candidates[0]
        else:
            likeliest = sorted(candidates, key=lambda marks: (marks.decimal == ",") != (raw.delimiter == ";"))
            raise Unsettled(_two_readings(raw, name, candidates), "decimal", [marks.decimal for marks in likeliest])
    return decided, _number_facts(decided, texts)


def _candidates(read: Read) -> list[Marks]:
    """The marks a number may be written with: both decimal marks unless `read:` names one."""
    found = [POINT, COMMA] if read.decimal is None else [POINT if read.decimal == "." else COMMA]
    if read.thousands is not None:
        grouping = "" if read.thousands == "none" else read.thousands
        found = [Marks(marks.decimal, grouping) for marks in found if marks.decimal != grouping]
    return found


def _number_text(column: pd.Series) -> pa.Array | pa.ChunkedArray | None:
    """The trimmed text cells of a column (None where missing); None if it holds no text."""
    if pd.api.types.is_bool_dtype(column.dtype) or pd.api.types.is_numeric_dtype(column.dtype):
        return None
    if pd.api.types.is_object_dtype(column.dtype):
        column = column[column.map(lambda cell: isinstance(cell, str)).to_numpy(dtype=bool)]
    return pc.utf8_trim_whitespace(_arrow_text(column))


def _numbers_only(text: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """The cells that are not blank or missing."""
    return pc.drop_null(pc.filter(text, pc.invert(pc.is_in(pc.utf8_lower(text), pa.array(MISSING_TOKENS,
                                                                                        text.type)))))


def _plain(text: pa.Array | pa.ChunkedArray) -> bool:
    """Whether every cell is a plain number (pyarrow reads it, as most columns of most files)."""
    try:
        for cells in (text.slice(0, 1000), text):  # pyarrow is slow to fail: the first cells tell most
            pc.cast(cells, pa.float64())
        return True
    except pa.ArrowInvalid:
        return False


def _fits(cells: pa.Array | pa.ChunkedArray, marks: Marks) -> bool:
    """Whether every cell (none of them missing) is a number written with `marks`."""
    return bool(pc.all(pc.match_substring_regex(cells, marks.pattern)).as_py())


def _two_readings(raw: RawTable, name: str, candidates: list[Marks]) -> str:
    """The error of a column whose numbers read two ways: a cell, its two values, the key that settles it."""
    text = _number_text(raw.frame[name])
    assert text is not None
    cell = str(pc.filter(text, pc.match_substring_regex(text, "[.,]"))[0])
    values = [float(_cast(pa.array([cell]), marks)[0].as_py()) for marks in candidates]
    readings = " or ".join(f"{exact(value)} ({marks.words})" for value, marks in zip(values, candidates, strict=True))
    keys = " or ".join(f"read: {{decimal: '{marks.decimal}'}}" for marks in candidates)
    return f"{raw.origin}: column {name!r} reads two ways: {cell!r} is {readings}; say which with {keys}"


def _number_facts(decided: dict[str, Marks], texts: dict[str, pa.Array | pa.ChunkedArray]) -> tuple[str, ...]:
    """"decimal comma" and the thousands separators the numbers use, for the report; each column's
    marks narrowed (in place) to the separators it uses, so that parsing looks for no others."""
    facts = ["decimal comma"] if any(marks.decimal == "," for marks in decided.values()) else []
    found: list[str] = []
    for name, marks in decided.items():
        text = texts.get(name)
        if text is not None and marks.thousands:
            used = "" if marks.decimal == "." and _plain(text) else "".join(mark for mark in marks.thousands
                                                   if pc.any(pc.match_substring(text, mark)).as_py())
            decided[name] = Marks(marks.decimal, used)
            found += [mark for mark in used if mark not in found]
    words = {" ": "spaces", "\u00a0": "spaces", "\u202f": "spaces"}
    shown = list(dict.fromkeys(words.get(mark, repr(mark)) for mark in found))
    return (*facts, *([f"{' and '.join(shown)} between thousands"] if shown else []))


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


def published_id(config: DatasetConfig, table: Table | Accounting) -> str | None:
    """The id column that downloads and `scorer.sql` carry: the configured id (or a purchase log's
    customer column), unless it looks like personal data and `publish_personal` is not set."""
    column = config.customer_column
    return column if column is not None and (table.personal is None or config.publish_personal) else None
